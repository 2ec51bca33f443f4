"""Full-text search: a Tantivy index beside the warehouse, kept up to date run by run (issue 19).

The index (`<db>.search/`) holds each article's title and body, indexed (English stemming) and
stored, with its URL and date: `pressbox search` answers from it alone, without opening the
warehouse's big tables. A run indexes only the articles it loaded: every article whose
`updated_at` is past the index's watermark is deleted from the index and added again (new,
updated, or loaded from a staged batch by a later run), so the index's cost follows the news, not
the warehouse. `rebuild` makes it again from the warehouse, streamed in batches (the nightly
maintenance, the `rebuild_search` setting, or a missing index).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

STATE_FILE = "pressbox-state.json"  # the watermark: updated_at of the newest article indexed
WRITER_HEAP = 64_000_000  # bytes of Tantivy's indexing buffer (bounded memory whatever the size)
BATCH = 2000  # articles read from the warehouse at a time by a rebuild
READ_COLS = "article_id, title, body, canonical_url, published_at, updated_at"


def _tantivy() -> Any:
    import tantivy

    return tantivy


def index_dir(db_path: Path | str) -> Path:
    """`<db>.search/` beside the warehouse (the snapshot `<db>.read.duckdb` shares its warehouse's)."""
    db_path = Path(db_path)
    name = db_path.name
    if name.endswith(".read.duckdb"):
        name = name[: -len(".read.duckdb")] + ".duckdb"
    return db_path.with_name(f"{name}.search")


def _schema():
    t = _tantivy()
    sb = t.SchemaBuilder()
    sb.add_text_field("article_id", stored=True, tokenizer_name="raw")
    sb.add_text_field("title", stored=True, tokenizer_name="en_stem")
    sb.add_text_field("body", stored=True, tokenizer_name="en_stem")
    sb.add_text_field("canonical_url", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("published_at", stored=True, tokenizer_name="raw", index_option="basic")
    return sb.build()


def exists(db_path: Path | str) -> bool:
    """Is there an index (made by an earlier run or rebuild)?"""
    return (index_dir(db_path) / STATE_FILE).exists()


def _state(folder: Path) -> dict:
    path = folder / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def _write_state(folder: Path, watermark: datetime | None) -> None:
    tmp = folder / f".{STATE_FILE}.tmp"
    tmp.write_text(json.dumps({"watermark": watermark.isoformat() if watermark else None}))
    tmp.replace(folder / STATE_FILE)


def _add(writer, t, rows: Iterable[tuple]) -> datetime | None:
    newest = None
    for aid, title, body, url, published_at, updated_at in rows:
        writer.add_document(t.Document(article_id=aid, title=title or "", body=body or "", canonical_url=url or "",
                                       published_at=published_at.isoformat() if published_at else ""))
        if updated_at is not None and (newest is None or updated_at > newest):
            newest = updated_at
    return newest


def update(con, db_path: Path | str) -> int:
    """Index the articles loaded since the index's watermark (replacing their earlier entries);
    returns how many. `con`: a connection to the warehouse."""
    t = _tantivy()
    folder = index_dir(db_path)
    watermark = _state(folder).get("watermark")
    cur = con.execute(f"SELECT {READ_COLS} FROM articles WHERE updated_at > CAST(? AS TIMESTAMPTZ) "
                      "ORDER BY updated_at", [watermark or "-infinity"])
    index = t.Index(_schema(), path=str(folder), reuse=True)
    writer = index.writer(heap_size=WRITER_HEAP, num_threads=1)
    done = 0
    newest = datetime.fromisoformat(watermark) if watermark else None
    try:
        while rows := cur.fetchmany(BATCH):
            for row in rows:
                writer.delete_documents_by_term("article_id", row[0])
            batch_newest = _add(writer, t, rows)
            newest = max(filter(None, (newest, batch_newest)), default=None)
            done += len(rows)
        if done:
            writer.commit()
            writer.wait_merging_threads()
    except BaseException:
        writer.rollback()
        raise
    if done or not watermark:
        _write_state(folder, newest)
    return done


def delete(db_path: Path | str, article_ids: Sequence[str]) -> None:
    """Remove articles from the index (articles removed from the warehouse)."""
    t = _tantivy()
    index = t.Index(_schema(), path=str(index_dir(db_path)), reuse=True)
    writer = index.writer(heap_size=WRITER_HEAP, num_threads=1)
    for aid in article_ids:
        writer.delete_documents_by_term("article_id", aid)
    writer.commit()
    writer.wait_merging_threads()


def rebuild(con, db_path: Path | str) -> int:
    """Make the index again from every article, streamed in batches, then swap it in."""
    folder = index_dir(db_path)
    fresh = folder.with_name(folder.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    t = _tantivy()
    index = t.Index(_schema(), path=str(fresh), reuse=False)
    writer = index.writer(heap_size=WRITER_HEAP, num_threads=1)
    done, newest = 0, None
    last = con.execute("SELECT max(rowid) FROM articles").fetchone()[0]
    for lo in range(0, (last if last is not None else -1) + 1, BATCH):  # rowid ranges: bounded memory
        rows = con.execute(f"SELECT {READ_COLS} FROM articles WHERE rowid >= ? AND rowid < ?",
                           [lo, lo + BATCH]).fetchall()
        batch_newest = _add(writer, t, rows)
        newest = max(filter(None, (newest, batch_newest)), default=None)
        done += len(rows)
    writer.commit()
    writer.wait_merging_threads()
    _write_state(fresh, newest)
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    fresh.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return done


def search(db_path: Path | str, text: str, limit: int = 10) -> list[tuple]:
    """Articles ranked by BM25 for a query: (score, published_at, title, canonical_url, article_id,
    body), best first (ties by article_id, so an index rebuilt in another order ranks alike)."""
    t = _tantivy()
    folder = index_dir(db_path)
    if not exists(db_path):
        raise FileNotFoundError(f"no search index at {folder} (made by the next `pressbox run`)")
    index = t.Index.open(str(folder))
    query, _errors = index.parse_query_lenient(text, ["title", "body"])
    searcher = index.searcher()
    hits = searcher.search(query, limit + 20).hits
    rows = []
    for score, address in hits:
        doc = searcher.doc(address)
        published = doc.get_first("published_at")
        rows.append((round(score, 3), datetime.fromisoformat(published) if published else None,
                     doc.get_first("title"), doc.get_first("canonical_url"), doc.get_first("article_id"),
                     doc.get_first("body")))
    rows.sort(key=lambda r: (-r[0], r[4]))
    return rows[:limit]
