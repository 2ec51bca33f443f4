"""Load: the only module that talks to DuckDB — connect, migrate, upsert, record runs.

Every write is one short transaction on a connection opened for it and closed after, so the file
is locked only while a batch loads. Loads are idempotent by key: articles by canonical URL,
mentions by (article, span), entries by (feed, entry key).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # pandas is imported where frames are built: a no-change run never pays for it
    import pandas as pd

from schemas.records import Article, FeedConfig, FeedEntry, FeedResult, FeedState, FetchError, TaggedArticle

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "schemas" / "migrations"
VIEWS_DIR = Path(__file__).resolve().parent.parent / "warehouse" / "views"
SUMMARY_METHODS = {"feed_summary", "meta_description"}
PERMANENT_ERRORS = {"gone", "not_html", "robots_disallowed", "blocked_address", "too_large", "unsupported_scheme",
                    "no_body", "empty_body", "dom_too_large"}
LOCK_ERRORS = ("Could not set lock", "Conflicting lock", "database is locked")


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse file (a run, or an analyst with a write connection)."""


# -- connections ---------------------------------------------------------------------------------
def connect(db_path: Path | str, *, read_only: bool = False, wait: float = 30.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, retrying within `wait` seconds while another process holds the lock."""
    db_path = Path(db_path)
    if not read_only:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    delay = 0.1
    config = {"extension_directory": str(extension_dir(db_path))}
    while True:
        try:
            return duckdb.connect(str(db_path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            if not any(m in str(exc) for m in LOCK_ERRORS) or time.monotonic() + delay > deadline:
                if any(m in str(exc) for m in LOCK_ERRORS):
                    raise WarehouseBusy(f"{db_path} is locked by another process: {exc}") from exc
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def extension_dir(db_path: Path | str) -> Path:
    """Where DuckDB keeps extensions for this warehouse (never ~/.duckdb)."""
    return Path(db_path).resolve().parent / ".duckdb-extensions"


def snapshot_path(db_path: Path | str) -> Path:
    """The read-only copy analysts open: `<db>.read.duckdb` beside the warehouse."""
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}.read{db_path.suffix or '.duckdb'}")


@contextlib.contextmanager
def transaction(db_path: Path | str, wait: float = 30.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection inside BEGIN/COMMIT; rolled back (and closed) on any error."""
    con = connect(db_path, wait=wait)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()


@contextlib.contextmanager
def run_lock(db_path: Path | str, wait: float = 0.0) -> Iterator[None]:
    """Hold `<db>.lock` for a whole run, so two ingests never interleave on one warehouse."""
    path = Path(f"{db_path}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(f"another pressbox run holds {path}; try again when it finishes") from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the flock


# -- schema --------------------------------------------------------------------------------------
def migrate(con: duckdb.DuckDBPyConnection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the numbered *.sql migrations not yet recorded in _migrations; returns their names."""
    con.execute("CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ)")
    done = {r[0] for r in con.execute("SELECT name FROM _migrations").fetchall()}
    applied = []
    for path in sorted(directory.glob("*.sql")):
        if path.name in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO _migrations VALUES (?, ?)", [path.name, datetime.now(UTC)])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(path.name)
    return applied


def apply_views(con: duckdb.DuckDBPyConnection, directory: Path = VIEWS_DIR) -> list[str]:
    """(Re)create every view in warehouse/views (views are code, never migrated)."""
    names = []
    for path in sorted(directory.glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))
        names.append(path.stem)
    return names


def prepare(db_path: Path, feeds: Sequence[FeedConfig]) -> dict[str, FeedState]:
    """Migrate, register the configured feeds, and return what is known of each for conditional GET."""
    con = connect(db_path)
    try:
        migrate(con)
        con.execute("BEGIN TRANSACTION")
        for f in feeds:
            con.execute(
                """INSERT INTO feeds (feed_id, url, name, sport, league, language) VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (feed_id) DO UPDATE SET url = excluded.url, name = excluded.name,
                     sport = excluded.sport, league = excluded.league, language = excluded.language""",
                [f.feed_id, f.url, f.name, f.sport, f.league, f.language],
            )
        con.execute("COMMIT")
        load_coaching_spells(con)
        rows = con.execute(
            "SELECT feed_id, url, etag, last_modified FROM feeds WHERE list_contains(?, feed_id)",
            [[f.feed_id for f in feeds]],
        ).fetchall()
    finally:
        con.close()
    urls = {f.feed_id: f.url for f in feeds}
    # a feed whose URL changed in the feeds file starts again without validators
    return {
        fid: FeedState(fid, etag if url == urls[fid] else None, lm if url == urls[fid] else None)
        for fid, url, etag, lm in rows
    }


def load_coaching_spells(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple] | None = None) -> int:
    """Rewrite coaching_spells from the knowledge base (or `rows`) in one transaction; returns the rows."""
    import pandas as pd

    from tasks.kb import coaching_spells, default_kb

    rows = coaching_spells(default_kb()) if rows is None else rows
    spell_frame = pd.DataFrame(  # noqa: F841 (read by name in SQL)
        list(rows), columns=["coach_entity_id", "team_entity_id", "start_year", "end_year", "coach_name",
                             "team_name", "source"]
    ).astype({"start_year": "Int64", "end_year": "Int64"})
    con.execute("BEGIN TRANSACTION")
    con.execute("DELETE FROM coaching_spells")
    con.execute("INSERT INTO coaching_spells BY NAME SELECT * FROM spell_frame")
    con.execute("COMMIT")
    return len(rows)


# -- runs ----------------------------------------------------------------------------------------
def start_run(db_path: Path, run_id: str, flow_run_id: str | None, pressbox_version: str, tagger_version: str) -> None:
    """Insert the run's row (status running); a row left `running` by a killed run becomes `crashed`.

    Called under the run lock, so no other run can be active.
    """
    with transaction(db_path) as con:
        con.execute("UPDATE runs SET status = 'crashed' WHERE status = 'running'")
        con.execute(
            """INSERT INTO runs (run_id, flow_run_id, started_at, status, pressbox_version, tagger_version)
               VALUES (?, ?, ?, 'running', ?, ?)""",
            [run_id, flow_run_id, datetime.now(UTC), pressbox_version, tagger_version],
        )


def finish_run(db_path: Path, run_id: str, status: str, counts: dict[str, int], error: str | None = None) -> None:
    """Close the run's row with its counts."""
    cols = ["feeds_ok", "feeds_failed", "feeds_not_modified", "entries_new", "articles_new", "articles_updated",
            "articles_unchanged", "articles_failed", "mentions"]
    sets = ", ".join(f"{c} = ?" for c in cols)
    with transaction(db_path) as con:
        con.execute(
            f"UPDATE runs SET finished_at = ?, status = ?, error = ?, {sets} WHERE run_id = ?",
            [datetime.now(UTC), status, error, *[int(counts.get(c, 0)) for c in cols], run_id],
        )


def _errors_frame(run_id: str, errors: Sequence[FetchError]) -> pd.DataFrame:
    import pandas as pd

    now = datetime.now(UTC)
    return pd.DataFrame(
        {
            "run_id": [run_id] * len(errors),
            "url": [e.url for e in errors],
            "stage": [e.stage for e in errors],
            "error_type": [e.error_type for e in errors],
            "message": [e.message for e in errors],
            "http_status": pd.array([e.http_status for e in errors], dtype="Int32"),
            "at": pd.Series([e.at or now for e in errors], dtype="datetime64[us, UTC]"),
        }
    )


def _insert_errors(con: duckdb.DuckDBPyConnection, run_id: str, errors: Sequence[FetchError]) -> None:
    if errors:
        frame = _errors_frame(run_id, errors)  # noqa: F841 (read by name in SQL)
        con.execute("INSERT INTO fetch_errors SELECT * FROM frame")


# -- feeds and entries ---------------------------------------------------------------------------
def record_feeds(db_path: Path, run_id: str, results: Sequence[FeedResult]) -> int:
    """Store every entry seen (new ones pending) and each feed's state, in one transaction.

    Entries are stored before the feed's new ETag, so a crash between the two never loses an
    entry behind a 304. Returns how many entries are new or updated (to fetch).
    """
    import pandas as pd

    now = datetime.now(UTC)
    entries = [e for r in results for e in r.entries]
    with transaction(db_path) as con:
        fresh = 0
        if entries:
            frame = pd.DataFrame(  # noqa: F841 (read by name in SQL)
                {
                    "feed_id": [e.feed_id for e in entries],
                    "entry_key": [e.entry_key for e in entries],
                    "url": [e.url for e in entries],
                    "canonical_url": [e.canonical_url for e in entries],
                    "title": [e.title for e in entries],
                    "summary": [e.summary for e in entries],
                    "author": [e.author for e in entries],
                    "published_at": pd.Series([e.published_at for e in entries], dtype="datetime64[us, UTC]"),
                    "updated_at": pd.Series([e.updated_at for e in entries], dtype="datetime64[us, UTC]"),
                    "language": [e.language for e in entries],
                }
            )
            before = con.execute("SELECT count(*) FROM feed_entries WHERE status = 'pending'").fetchone()[0]
            # A new entry whose article is already stored (same canonical URL, other feed) is done.
            con.execute(
                """INSERT INTO feed_entries
                   SELECT f.feed_id, f.entry_key, f.url, f.canonical_url, f.title, f.summary, f.author,
                          f.published_at, f.updated_at, f.language, ?, ?,
                          CASE WHEN a.article_id IS NULL THEN 'pending' ELSE 'done' END, 0, a.article_id, NULL
                   FROM frame f LEFT JOIN articles a ON a.canonical_url = f.canonical_url
                   ON CONFLICT (feed_id, entry_key) DO UPDATE SET
                     last_seen_at = excluded.last_seen_at,
                     title = excluded.title, summary = excluded.summary, updated_at = excluded.updated_at,
                     -- an entry the publisher updated is fetched again
                     status = CASE WHEN excluded.updated_at > feed_entries.updated_at
                                   AND feed_entries.status <> 'gone' THEN 'pending' ELSE feed_entries.status END,
                     attempts = CASE WHEN excluded.updated_at > feed_entries.updated_at THEN 0
                                     ELSE feed_entries.attempts END""",
                [now, now],
            )
            after = con.execute("SELECT count(*) FROM feed_entries WHERE status = 'pending'").fetchone()[0]
            fresh = after - before
        for r in results:
            ok = r.status in ("ok", "not_modified")
            con.execute(
                """UPDATE feeds SET
                     etag = CASE WHEN ? THEN ? ELSE etag END,
                     last_modified = CASE WHEN ? THEN ? ELSE last_modified END,
                     last_fetched_at = ?, last_status = ?, last_http_status = ?,
                     last_success_at = CASE WHEN ? THEN ? ELSE last_success_at END,
                     last_error = ?,
                     consecutive_failures = CASE WHEN ? THEN 0 ELSE coalesce(consecutive_failures, 0) + 1 END
                   WHERE feed_id = ?""",
                [r.status == "ok", r.etag, r.status == "ok", r.last_modified, now, r.status, r.http_status,
                 ok, now, r.error.message if r.error else r.bozo, ok, r.feed_id],
            )
        _insert_errors(con, run_id, [r.error for r in results if r.error])
    return fresh


def pending_entries(db_path: Path, feed_ids: Sequence[str], max_attempts: int, limit: int = 100_000) -> list[FeedEntry]:
    """Entries still to fetch for these feeds, newest first (retries of earlier runs included)."""
    con = connect(db_path)
    try:
        rows = con.execute(
            """SELECT feed_id, entry_key, url, canonical_url, title, summary, author, published_at, updated_at,
                      language
               FROM feed_entries
               WHERE status = 'pending' AND attempts < ? AND list_contains(?, feed_id)
               ORDER BY published_at DESC NULLS LAST LIMIT ?""",
            [max_attempts, list(feed_ids), limit],
        ).fetchall()
    finally:
        con.close()
    return [FeedEntry(*r) for r in rows]


# -- articles ------------------------------------------------------------------------------------
@dataclass
class LoadCounts:
    """What one batch load changed."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    mentions: int = 0

    def add(self, other: LoadCounts) -> None:
        """Add another batch's counts to these."""
        for name in ("new", "updated", "unchanged", "failed", "mentions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


ARTICLE_COLS = ["article_id", "url", "canonical_url", "feed_id", "title", "body", "summary", "author",
                "published_at", "fetched_at", "language", "site_name", "image_url", "content_hash",
                "extraction_method", "word_count", "tagger_version", "date_source", "http_status",
                "paywalled", "is_liveblog"]


def load_batch(
    db_path: Path,
    run_id: str,
    tagged: Sequence[TaggedArticle],
    failures: Sequence[tuple[FeedEntry, FetchError]],
    max_attempts: int,
    wait: float = 30.0,
) -> LoadCounts:
    """Upsert a batch of tagged articles and record its failures, all in one transaction."""
    counts = LoadCounts()
    now = datetime.now(UTC)
    # two entries of one batch can lead to the same article: keep one
    unique: dict[str, TaggedArticle] = {}
    for t in tagged:
        unique.setdefault(t.article.article_id, t)
    with transaction(db_path, wait=wait) as con:
        existing = {}
        if unique:
            existing = {
                aid: (h, m)
                for aid, h, m in con.execute(
                    "SELECT article_id, content_hash, extraction_method FROM articles "
                    "WHERE list_contains(?, article_id)",
                    [list(unique)],
                ).fetchall()
            }
        write: list[TaggedArticle] = []
        for aid, t in unique.items():
            old = existing.get(aid)
            if old is None:
                counts.new += 1
                write.append(t)
            elif old[0] == t.article.content_hash or (
                # never replace a page body by a feed summary because a refetch came back thin
                t.article.extraction_method in SUMMARY_METHODS and old[1] not in SUMMARY_METHODS
            ):
                counts.unchanged += 1
            else:
                counts.updated += 1
                write.append(t)
        if write:
            _upsert_articles(con, write, now)
            _replace_article_outputs(con, write)
            counts.mentions = sum(len(t.mentions) for t in write)
        _mark_entries(con, tagged, failures, max_attempts)
        counts.failed = len(failures)
        _insert_errors(con, run_id, [e for _, e in failures])
    return counts


def _upsert_articles(con: duckdb.DuckDBPyConnection, write: Sequence[TaggedArticle], now: datetime) -> None:
    import pandas as pd

    rows = []
    for t in write:
        a = t.article
        rows.append([a.article_id, a.url, a.canonical_url, a.feed_id, a.title, a.body, a.summary, a.author,
                     a.published_at, a.fetched_at, a.language, a.site_name, a.image_url, a.content_hash,
                     a.extraction_method, a.word_count, t.tagger_version, a.date_source, a.http_status,
                     a.paywalled, a.is_liveblog])
    frame = pd.DataFrame(rows, columns=ARTICLE_COLS)
    for col in ("published_at", "fetched_at"):
        frame[col] = pd.Series(frame[col], dtype="datetime64[us, UTC]")
    frame["http_status"] = pd.array(frame["http_status"], dtype="Int32")
    cols = ", ".join(ARTICLE_COLS)
    keep = ("article_id", "canonical_url", "feed_id")
    updates = ", ".join(f"{c} = excluded.{c}" for c in ARTICLE_COLS if c not in keep)
    con.register("article_frame", frame)
    con.execute(
        f"""INSERT INTO articles ({cols}, first_loaded_at, updated_at)
            SELECT {cols}, ?, ? FROM article_frame
            ON CONFLICT (article_id) DO UPDATE SET {updates}, updated_at = excluded.updated_at""",
        [now, now],
    )
    con.unregister("article_frame")


def _replace_article_outputs(con: duckdb.DuckDBPyConnection, write: Sequence[TaggedArticle]) -> None:
    """Replace everything computed from these articles' text (mentions and each enrichment's rows)."""
    _replace_mentions(con, write)


def _replace_mentions(con: duckdb.DuckDBPyConnection, write: Sequence[TaggedArticle]) -> None:
    import pandas as pd

    ids = [t.article.article_id for t in write]
    con.execute("DELETE FROM mentions WHERE list_contains(?, article_id)", [ids])
    ents: dict[str, tuple] = {}
    mrows = []
    for t in write:
        for m in t.mentions:
            mrows.append((t.article.article_id, m.entity_id, m.surface, m.label, m.start_char, m.end_char))
            prev = ents.get(m.entity_id)
            if prev is None or (prev[2] in ("PERSON", "ORG") and m.label not in ("PERSON", "ORG")):
                ents[m.entity_id] = (m.entity_id, m.canonical_name, m.label, m.wikidata_id, list(m.aliases),
                                     m.source, m.sport, m.league, m.country)
    if mrows:
        mention_frame = pd.DataFrame(  # noqa: F841 (read by name in SQL)
            mrows, columns=["article_id", "entity_id", "surface", "label", "start_char", "end_char"]
        ).drop_duplicates(subset=["article_id", "start_char", "end_char"])
        con.execute("INSERT INTO mentions SELECT * FROM mention_frame")
    if ents:
        entity_frame = pd.DataFrame(  # noqa: F841 (read by name in SQL)
            list(ents.values()), columns=["entity_id", "canonical_name", "label", "wikidata_id", "aliases",
                                          "source", "sport", "league", "country"]
        )
        con.execute(
            """INSERT INTO entities BY NAME SELECT entity_id, canonical_name, label, wikidata_id,
                      CAST(aliases AS VARCHAR[]) AS aliases, source, sport, league, country FROM entity_frame
               ON CONFLICT (entity_id) DO UPDATE SET
                 canonical_name = excluded.canonical_name, wikidata_id = excluded.wikidata_id,
                 aliases = excluded.aliases, source = excluded.source, sport = excluded.sport,
                 league = excluded.league, country = excluded.country,
                 label = CASE WHEN entities.label IN ('PERSON', 'ORG') THEN excluded.label ELSE entities.label END"""
        )


def _mark_entries(
    con: duckdb.DuckDBPyConnection,
    tagged: Sequence[TaggedArticle],
    failures: Sequence[tuple[FeedEntry, FetchError]],
    max_attempts: int,
) -> None:
    for t in tagged:
        con.execute(
            "UPDATE feed_entries SET status = 'done', article_id = ?, attempts = attempts + 1, last_error = NULL "
            "WHERE feed_id = ? AND entry_key = ?",
            [t.article.article_id, t.article.feed_id, t.article.entry_key],
        )
    for entry, err in failures:
        permanent = err.error_type in PERMANENT_ERRORS and not err.retryable
        con.execute(
            """UPDATE feed_entries SET attempts = attempts + 1, last_error = ?,
                 status = CASE WHEN ? THEN 'gone' WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END
               WHERE feed_id = ? AND entry_key = ?""",
            [f"{err.error_type}: {err.message}"[:500], permanent, max_attempts, entry.feed_id, entry.entry_key],
        )


# -- retagging -------------------------------------------------------------------------------------
def stale_article_ids(db_path: Path, tagger_version: str) -> list[str]:
    """Articles whose mentions were made by another tagger version."""
    con = connect(db_path)
    try:
        rows = con.execute(
            "SELECT article_id FROM articles WHERE tagger_version IS DISTINCT FROM ? ORDER BY article_id",
            [tagger_version],
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def stored_articles(db_path: Path, article_ids: Sequence[str]) -> list[Article]:
    """Articles as stored (for retagging)."""
    cols = ", ".join(c for c in ARTICLE_COLS if c != "tagger_version")
    con = connect(db_path)
    try:
        cur = con.execute(
            f"""SELECT {cols}, (SELECT entry_key FROM feed_entries fe WHERE fe.article_id = a.article_id LIMIT 1)
                FROM articles a WHERE list_contains(?, article_id) ORDER BY article_id""",
            [list(article_ids)],
        )
        rows = cur.fetchall()
    finally:
        con.close()
    names = [c for c in ARTICLE_COLS if c != "tagger_version"] + ["entry_key"]
    return [Article(**dict(zip(names, r, strict=True))) for r in rows]


def replace_tags(db_path: Path, tagged: Sequence[TaggedArticle]) -> int:
    """Replace the mentions of stored articles and set their tagger_version, in one transaction."""
    with transaction(db_path) as con:
        _replace_article_outputs(con, tagged)
        for t in tagged:
            con.execute("UPDATE articles SET tagger_version = ? WHERE article_id = ?",
                        [t.tagger_version, t.article.article_id])
    return sum(len(t.mentions) for t in tagged)


# -- staging: a batch that could not be loaded waits on disk for the next run ----------------------
def staging_dir(db_path: Path | str) -> Path:
    """Where batches wait when the warehouse is held by another process: `<db>.staging/`."""
    return Path(f"{db_path}.staging")


def stage_batch(
    db_path: Path, run_id: str, seq: int, tagged: Sequence[TaggedArticle],
    failures: Sequence[tuple[FeedEntry, FetchError]],
) -> Path:
    """Write a batch to the staging folder (atomically: a half-written file is never read)."""
    folder = staging_dir(db_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{run_id}-{seq:05d}.pickle"
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump({"run_id": run_id, "tagged": list(tagged), "failures": list(failures)}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def load_staged(db_path: Path, max_attempts: int, wait: float = 30.0) -> LoadCounts:
    """Load batches staged by earlier runs, oldest first; each file is removed once loaded."""
    total = LoadCounts()
    for path in sorted(staging_dir(db_path).glob("*.pickle")):
        with path.open("rb") as fh:
            batch = pickle.load(fh)  # noqa: S301 - our own file, written by stage_batch
        counts = load_batch(db_path, batch["run_id"], batch["tagged"], batch["failures"], max_attempts, wait=wait)
        path.unlink()
        total.add(counts)
    return total


# -- reading -------------------------------------------------------------------------------------
def query(db_path: Path, sql: str, params: Sequence | None = None, wait: float = 10.0) -> tuple[list[str], list[tuple]]:
    """Run one read-only query; returns (column names, rows)."""
    con = connect(db_path, read_only=True, wait=wait)
    try:
        cur = con.execute(sql, params or [])
        cols = [d[0] for d in cur.description] if cur.description else []
        return cols, cur.fetchall()
    finally:
        con.close()


def refresh_views(db_path: Path) -> list[str]:
    """Re-create the analyst views after a load."""
    con = connect(db_path)
    try:
        return apply_views(con)
    finally:
        con.close()


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load DuckDB's fts extension from the pinned PyPI package (works offline)."""
    from duckdb_extensions import import_extension

    import_extension("fts", con=con)
    con.execute("LOAD fts")


def has_search_index(db_path: Path) -> bool:
    """Is there a BM25 index already (from an earlier run)?"""
    _, rows = query(db_path, "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'fts_main_articles'")
    return rows[0][0] > 0


def build_search_index(db_path: Path) -> str | None:
    """Rebuild the BM25 index over article titles and bodies; returns why not, if it could not."""
    con = connect(db_path)
    try:
        load_fts(con)
        con.execute("PRAGMA create_fts_index('articles', 'article_id', 'title', 'body', overwrite = 1)")
        return None
    except (duckdb.Error, ImportError, OSError) as exc:
        return f"full-text search unavailable: {type(exc).__name__}: {exc}"
    finally:
        con.close()


def search(db_path: Path, text: str, limit: int = 10) -> list[tuple]:
    """Articles ranked by BM25 for a query: (score, published_at, title, canonical_url, article_id)."""
    con = connect(db_path, read_only=True, wait=10.0)
    try:
        load_fts(con)
        return con.execute(
            """SELECT round(score, 3) AS score, published_at, title, canonical_url, article_id FROM (
                   SELECT *, fts_main_articles.match_bm25(article_id, ?) AS score FROM articles)
               WHERE score IS NOT NULL ORDER BY score DESC LIMIT ?""",
            [text, limit],
        ).fetchall()
    finally:
        con.close()


def publish_snapshot(db_path: Path) -> Path:
    """Copy the warehouse to its read-only snapshot, atomically.

    Analysts open the snapshot, so a long analyst session never blocks a run's writes; a session
    already open keeps reading the previous copy (the old file stays alive until it closes).
    """
    con = connect(db_path)
    try:
        con.execute("CHECKPOINT")  # everything in the main file, nothing left in the WAL
    finally:
        con.close()
    target = snapshot_path(db_path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(db_path, tmp)
    os.replace(tmp, target)
    return target


EXPORT_TABLES = ("feeds", "feed_entries", "articles", "entities", "mentions", "runs", "fetch_errors")


def export(db_path: Path, directory: Path, fmt: str = "parquet") -> list[Path]:
    """Write every table to `directory` as Parquet (or CSV) files, one per table."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"unknown export format {fmt!r} (parquet or csv)")
    directory.mkdir(parents=True, exist_ok=True)
    con = connect(db_path, read_only=True, wait=10.0)
    written = []
    try:
        for table in EXPORT_TABLES:
            path = directory / f"{table}.{fmt}"
            literal = "'" + str(path).replace("'", "''") + "'"  # COPY takes no bound path
            con.execute(f"COPY (SELECT * FROM {table}) TO {literal} (FORMAT {fmt})")
            written.append(path)
    finally:
        con.close()
    return written
