"""Load: the only module that talks to DuckDB — connect, migrate, upsert, record runs.

Every write is one short transaction. Outside a run, each opens a connection and closes it after,
so the file is locked only while a batch loads; inside a run (`held`), every connection is a cursor
of one connection held for the run, so a run reads the big tables' blocks once, not once per step.
Loads are idempotent by key: articles by canonical URL, mentions by (article, span), entries by
(feed, entry key).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb

if TYPE_CHECKING:  # pandas is imported where frames are built: a no-change run never pays for it
    import pandas as pd

from schemas.codec import from_jsonable, to_jsonable
from schemas.records import (
    Article,
    FeedConfig,
    FeedEntry,
    FeedResult,
    FeedState,
    FetchError,
    StorySignature,
    TaggedArticle,
    is_local_id,
)
from tasks import lake, stories
from tasks.lake import Lake
from tasks.paths import snapshot_path

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "schemas" / "migrations"
VIEWS_DIR = Path(__file__).resolve().parent.parent / "warehouse" / "views"
SUMMARY_METHODS = {"feed_summary", "meta_description"}
PERMANENT_ERRORS = {"gone", "not_html", "robots_disallowed", "blocked_address", "too_large", "unsupported_scheme",
                    "no_body", "empty_body", "dom_too_large"}
UNTRIED_ERRORS = {"host_unresponsive"}  # the page was never requested: recorded, but no attempt spent
LOCK_ERRORS = ("Could not set lock", "Conflicting lock", "database is locked")
Target = Path | Lake  # a DuckDB file or a DuckLake (tasks/lake.py); every function here takes either
T = TypeVar("T")


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse file (a run, or an analyst with a write connection)."""


# -- connections ---------------------------------------------------------------------------------
HELD_MEMORY_LIMIT = "512MB"  # a run's DuckDB memory: bounded whatever the warehouse's size
_HELD: dict[Path, duckdb.DuckDBPyConnection] = {}


def connect(db_path: Path | str, *, read_only: bool = False, wait: float = 30.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, retrying within `wait` seconds while another process holds the lock.

    Inside `held(db_path)` this is a cursor of the held connection (writable even if `read_only`
    is asked: the process already holds the file). A DuckLake is attached in an in-memory DuckDB
    as its default database (tasks/lake.py; its connections are already cursors of one per process)."""
    if lake.is_lake(db_path):
        return lake.connect(db_path, read_only=read_only)
    if (cursor := held_cursor(db_path)) is not None:
        return cursor
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


def held_cursor(db_path: Path | str) -> duckdb.DuckDBPyConnection | None:
    """A new cursor (its own connection to the same database) of the run's held connection, if any."""
    con = _HELD.get(Path(db_path).resolve()) if _HELD and not lake.is_lake(db_path) else None
    return con.cursor() if con is not None else None


@contextlib.contextmanager
def held(db_path: Path | str, wait: float = 30.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """Hold one connection to the warehouse for a whole run (nested: the outer one counts).

    Every `connect` inside is a cursor of it, so the database's blocks stay cached between steps
    (a new database instance reads `articles` cold: seconds at a million articles). Memory is
    bounded by HELD_MEMORY_LIMIT. Nothing is checkpointed, neither automatically nor at close: the
    run's changes stay in the WAL (replayed by the next open) until the nightly maintenance
    checkpoints, so a run never rewrites the big tables' blocks or indexes.
    """
    if lake.is_lake(db_path):  # every lake connection is already a cursor of one attached DuckDB
        con = connect(db_path)
        try:
            yield con
        finally:
            con.close()
        return
    key = Path(db_path).resolve()
    if key in _HELD:
        yield _HELD[key]
        return
    con = connect(db_path, wait=wait)
    try:
        con.execute(f"SET memory_limit = '{HELD_MEMORY_LIMIT}'")
        con.execute("SET checkpoint_threshold = '1TB'")
        con.execute("PRAGMA disable_checkpoint_on_shutdown")
    except BaseException:
        con.close()
        raise
    _HELD[key] = con
    try:
        yield con
    finally:
        del _HELD[key]
        con.close()


def checkpoint(db_path: Path | str) -> None:
    """Write the WAL into the main file (the nightly maintenance; also before a full snapshot copy).
    A lake has no WAL of its own (see `maintain`)."""
    if lake.is_lake(db_path):
        return
    con = connect(db_path)
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()


def extension_dir(db_path: Path | str) -> Path:
    """Where DuckDB keeps extensions for this warehouse (never ~/.duckdb)."""
    if lake.is_lake(db_path):
        return db_path.local / ".duckdb-extensions"
    return Path(db_path).resolve().parent / ".duckdb-extensions"


@contextlib.contextmanager
def transaction(db_path: Path | str, wait: float = 30.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection inside BEGIN/COMMIT; rolled back (and closed) on any error. On a lake the
    transaction claims the write token first (tasks/lake.py): see `transact` for the retry."""
    con = connect(db_path, wait=wait)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            if lake.is_lake(db_path):
                lake.begin_write(con)
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()


def transact(db_path: Target, body: Callable[[duckdb.DuckDBPyConnection], T], wait: float = 30.0) -> T:
    """`body(con)` in one transaction; on a lake, re-run whole when its commit conflicts with
    another writer's (so a retried batch sees what the other committed: nothing doubled)."""
    def once() -> T:
        with transaction(db_path, wait=wait) as con:
            return body(con)

    if not lake.is_lake(db_path):
        return once()
    try:
        return lake.retry_conflicts(once)
    except duckdb.Error as exc:  # still losing after every retry: the flow stages the batch for later
        if lake.is_conflict(exc):
            raise WarehouseBusy(f"{db_path}: the commit kept conflicting with other writers: {exc}") from exc
        raise


@contextlib.contextmanager
def run_lock(db_path: Target, wait: float = 0.0, shard: str | None = None, scope: str = "") -> Iterator[None]:
    """Hold `<db>.lock` for a whole run, so two ingests never interleave on one warehouse.

    A sharded run (`shard` = "I/N", tasks/shard.py) holds `<db>.lock` shared and its own
    `<db>.shard-I-of-N.lock` exclusively: runs of different shards go on at once, two runs of one
    shard never do, and an unsharded run (or a retag) still excludes them all.

    A lake takes many writers: its lock (among this machine's files for it) is per shard and
    `scope` (the run's feeds file), so runs over other feeds or shards load at once, and one feeds
    file's shard never runs twice at once.
    """
    if lake.is_lake(db_path):
        key = hashlib.sha1(f"{scope}|{shard or ''}".encode()).hexdigest()[:12]
        db_path.local.mkdir(parents=True, exist_ok=True)
        with _flock(db_path.local / f"run-{key}.lock", wait):
            yield
        return
    base = Path(db_path).resolve()  # resolved: a symlinked --db shares the lock
    base.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if shard:
            from tasks.shard import parse_shard

            slug = parse_shard(shard).slug
            stack.enter_context(_flock(Path(f"{base}.lock"), wait, shared=True))
            stack.enter_context(_flock(Path(f"{base}.{slug}.lock"), wait))
        else:
            stack.enter_context(_flock(Path(f"{base}.lock"), wait))
        yield


@contextlib.contextmanager
def _flock(path: Path, wait: float, shared: bool = False) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(f"another pressbox run holds {path}; try again when it finishes") from None
                time.sleep(0.2)
        if not shared:
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
    import pandas as pd

    con = connect(db_path)
    try:
        lake.migrate(con, MIGRATIONS_DIR) if lake.is_lake(db_path) else migrate(con)
        feed_frame = pd.DataFrame(
            [[f.feed_id, f.url, f.name, f.sport, f.league, f.language] for f in feeds],
            columns=["feed_id", "url", "name", "sport", "league", "language"], dtype=object,
        ).drop_duplicates("feed_id", keep="last")

        def register(con: duckdb.DuckDBPyConnection) -> None:
            con.register("feed_frame", feed_frame)
            con.execute(
                """MERGE INTO feeds USING feed_frame AS f ON feeds.feed_id = f.feed_id
                   WHEN MATCHED THEN UPDATE SET url = f.url, name = f.name, sport = f.sport, league = f.league,
                     language = f.language
                   WHEN NOT MATCHED THEN INSERT (feed_id, url, name, sport, league, language)
                     VALUES (f.feed_id, f.url, f.name, f.sport, f.league, f.language)""")
            con.unregister("feed_frame")

        if feeds:
            _write_on(con, db_path, register)
        load_coaching_spells(con, target=db_path)
        rows = con.execute(
            "SELECT feed_id, url, etag, last_modified FROM feeds WHERE feed_id IN (SELECT unnest(?))",
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


def _write_on(con: duckdb.DuckDBPyConnection, db_path: Target, body: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    """`transact` on a connection already open (one transaction; on a lake, re-run on a conflict)."""
    def once() -> T:
        con.execute("BEGIN TRANSACTION")
        try:
            if lake.is_lake(db_path):
                lake.begin_write(con)
            result = body(con)
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT has already rolled back
                con.execute("ROLLBACK")
            raise
        return result

    return lake.retry_conflicts(once) if lake.is_lake(db_path) else once()


def load_coaching_spells(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple] | None = None,
                         target: Target | None = None) -> int:
    """Rewrite coaching_spells from the knowledge base (or `rows`) in one transaction; returns the rows.
    `target`: the warehouse `con` is open on (a lake's write is claimed and retried)."""
    import pandas as pd

    from tasks.kb import coaching_spells, default_kb

    rows = coaching_spells(default_kb()) if rows is None else rows
    spell_frame = pd.DataFrame(
        list(rows), columns=["coach_entity_id", "team_entity_id", "start_year", "end_year", "coach_name",
                             "team_name", "source"]
    ).astype({"start_year": "Int64", "end_year": "Int64"})

    def rewrite(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("DELETE FROM coaching_spells")
        con.register("spell_frame", spell_frame)
        con.execute("INSERT INTO coaching_spells BY NAME SELECT * FROM spell_frame")
        con.unregister("spell_frame")

    if target is not None and lake.is_lake(target) and _same_spells(con, spell_frame):
        return len(rows)  # a lake's runs do not each rewrite it (a snapshot and files per run, conflicts)
    _write_on(con, target if target is not None else Path(), rewrite)
    return len(rows)


def _same_spells(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> bool:
    cols = ", ".join(frame.columns)
    con.register("spell_frame", frame)
    try:
        return con.execute(f"""SELECT (SELECT count(*) FROM coaching_spells) = (SELECT count(*) FROM spell_frame)
                               AND NOT EXISTS (SELECT {cols} FROM spell_frame
                                               EXCEPT ALL SELECT {cols} FROM coaching_spells)""").fetchone()[0]
    finally:
        con.unregister("spell_frame")


# -- runs ----------------------------------------------------------------------------------------
def start_run(db_path: Target, run_id: str, flow_run_id: str | None, pressbox_version: str, tagger_version: str,
              shard: str | None = None) -> None:
    """Insert the run's row (status running); a row of the same shard left `running` by a killed run
    becomes `crashed` (an unsharded run holds the whole warehouse: any such row).

    Called under the run lock, so no other run of the shard can be active; on a lake other runs may
    be (other feeds, other machines), so only a row left running for over a day is taken as crashed there.
    """
    shard = shard or None

    def body(con: duckdb.DuckDBPyConnection) -> None:
        now = datetime.now(UTC)
        stale = now - timedelta(days=1) if lake.is_lake(db_path) else now
        con.execute("UPDATE runs SET status = 'crashed' WHERE status = 'running' AND (? IS NULL OR shard = ?) "
                    "AND started_at <= ?", [shard, shard, stale])
        con.execute(
            """INSERT INTO runs (run_id, flow_run_id, started_at, status, pressbox_version, tagger_version, shard)
               VALUES (?, ?, ?, 'running', ?, ?, ?)""",
            [run_id, flow_run_id, now, pressbox_version, tagger_version, shard],
        )

    transact(db_path, body)


def finish_run(db_path: Path, run_id: str, status: str, counts: dict[str, int], error: str | None = None) -> None:
    """Close the run's row with its counts."""
    cols = ["feeds_ok", "feeds_failed", "feeds_not_modified", "entries_new", "articles_new", "articles_updated",
            "articles_unchanged", "articles_failed", "mentions", "batches_staged"]
    sets = ", ".join(f"{c} = ?" for c in cols)
    transact(db_path, lambda con: con.execute(
        f"UPDATE runs SET finished_at = ?, status = ?, error = ?, {sets} WHERE run_id = ?",
        [datetime.now(UTC), status, error, *[int(counts.get(c, 0)) for c in cols], run_id],
    ))


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
            "fatal": [e.fatal for e in errors],
        }
    )


def _insert_errors(con: duckdb.DuckDBPyConnection, run_id: str, errors: Sequence[FetchError]) -> None:
    if errors:
        frame = _errors_frame(run_id, errors)  # noqa: F841 (read by name in SQL)
        con.execute("INSERT INTO fetch_errors BY NAME SELECT * FROM frame")


# -- feeds and entries ---------------------------------------------------------------------------
def record_feeds(db_path: Path, run_id: str, results: Sequence[FeedResult]) -> int:
    """Store every entry seen (new ones pending) and each feed's state, in one transaction.

    Entries are stored before the feed's new ETag, so a crash between the two never loses an
    entry behind a 304. Returns how many entries are new or updated (to fetch).
    """
    import pandas as pd

    now = datetime.now(UTC)
    entries = [e for r in results for e in r.entries]

    def body(con: duckdb.DuckDBPyConnection) -> int:
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
            ).drop_duplicates(["feed_id", "entry_key"], keep="last")
            before = con.execute("SELECT count(*) FROM feed_entries WHERE status = 'pending'").fetchone()[0]
            # A new entry whose article is already stored (same canonical URL, other feed) is done.
            # MERGE, not ON CONFLICT: a DuckLake has no keys to conflict on (tasks/lake.py)
            con.execute(
                """MERGE INTO feed_entries USING (
                       SELECT f.*, CASE WHEN a.article_id IS NULL THEN 'pending' ELSE 'done' END AS new_status,
                              a.article_id AS known_article_id
                       FROM frame f LEFT JOIN articles a ON a.canonical_url = f.canonical_url) AS s
                   ON feed_entries.feed_id = s.feed_id AND feed_entries.entry_key = s.entry_key
                   WHEN MATCHED THEN UPDATE SET
                     last_seen_at = ?,
                     title = s.title, summary = s.summary, updated_at = s.updated_at,
                     -- a guid whose link changed points at its new page
                     url = s.url, canonical_url = s.canonical_url,
                     -- an entry the publisher updated (or moved) is fetched again
                     status = CASE WHEN s.canonical_url <> feed_entries.canonical_url THEN 'pending'
                                   WHEN s.updated_at > feed_entries.updated_at
                                   AND feed_entries.status <> 'gone' THEN 'pending' ELSE feed_entries.status END,
                     attempts = CASE WHEN s.canonical_url <> feed_entries.canonical_url
                                       OR s.updated_at > feed_entries.updated_at THEN 0
                                     ELSE feed_entries.attempts END
                   WHEN NOT MATCHED THEN INSERT VALUES (
                     s.feed_id, s.entry_key, s.url, s.canonical_url, s.title, s.summary, s.author, s.published_at,
                     s.updated_at, s.language, ?, ?, s.new_status, 0, s.known_article_id, NULL)""",
                [now, now, now],
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
        if results:
            con.executemany("INSERT INTO feed_fetches VALUES (?, ?, ?, ?, ?)",
                            [[run_id, r.feed_id, r.status, r.http_status, now] for r in results])
        return fresh

    return transact(db_path, body)


def pending_entries(db_path: Path, feed_ids: Sequence[str], max_attempts: int, limit: int = 100_000) -> list[FeedEntry]:
    """Entries still to fetch for these feeds, newest first (retries of earlier runs included)."""
    con = connect(db_path)
    try:
        rows = con.execute(
            """SELECT feed_id, entry_key, url, canonical_url, title, summary, author, published_at, updated_at,
                      language
               FROM feed_entries
               WHERE status = 'pending' AND attempts < ? AND feed_id IN (SELECT unnest(?))
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
    entities: Counter = field(default_factory=Counter)  # entity_id -> mentions in the articles written

    def add(self, other: LoadCounts) -> None:
        """Add another batch's counts to these."""
        for name in ("new", "updated", "unchanged", "failed", "mentions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.entities.update(other.entities)


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
    count_in_run: bool = False,
    story_params: stories.StoryParams | None = None,
) -> LoadCounts:
    """Upsert a batch of tagged articles, give them stories and record its failures, all in one transaction.

    `count_in_run`: add the batch's counts to its run's row in the same transaction, so a run
    killed later still shows what it loaded.
    """
    now = datetime.now(UTC)
    # two entries of one batch can lead to the same article: keep one
    unique: dict[str, TaggedArticle] = {}
    for t in tagged:
        unique.setdefault(t.article.article_id, t)

    def body(con: duckdb.DuckDBPyConnection) -> LoadCounts:  # re-run whole if a lake's commit conflicts
        counts = LoadCounts()
        existing = {}
        if unique:
            existing = {
                aid: (h, m)
                for aid, h, m in con.execute(
                    "SELECT article_id, content_hash, extraction_method FROM articles "
                    "WHERE article_id IN (SELECT unnest(?))",
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
            _replace_article_outputs(con, write, new_ids={aid for aid in unique if aid not in existing})
            assign_stories(con, write, story_params or stories.StoryParams())
            counts.mentions = sum(len(t.mentions) for t in write)
            counts.entities.update(m.entity_id for t in write for m in t.mentions)
        _mark_entries(con, tagged, failures, max_attempts)
        counts.failed = len(failures)
        # a loaded page's notes (what was repaired or cut) are rows too, marked not fatal
        _insert_errors(con, run_id, [e for _, e in failures] + [n for t in tagged for n in t.article.notes])
        if count_in_run:
            con.execute(
                """UPDATE runs SET articles_new = articles_new + ?, articles_updated = articles_updated + ?,
                     articles_unchanged = articles_unchanged + ?, articles_failed = articles_failed + ?,
                     mentions = mentions + ? WHERE run_id = ?""",
                [counts.new, counts.updated, counts.unchanged, counts.failed, counts.mentions, run_id],
            )
        return counts

    return transact(db_path, body, wait=wait)


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
    updates = ", ".join(f"{c} = s.{c}" for c in ARTICLE_COLS if c not in keep)
    values = ", ".join(f"s.{c}" for c in ARTICLE_COLS)
    con.register("article_frame", frame)
    con.execute(
        f"""MERGE INTO articles USING article_frame AS s ON articles.article_id = s.article_id
            WHEN MATCHED THEN UPDATE SET {updates}, updated_at = ?
            WHEN NOT MATCHED THEN INSERT ({cols}, first_loaded_at, updated_at) VALUES ({values}, ?, ?)""",
        [now, now, now],
    )
    con.unregister("article_frame")


def _replace_article_outputs(con: duckdb.DuckDBPyConnection, write: Sequence[TaggedArticle],
                             new_ids: Collection[str] = frozenset()) -> None:
    """Replace everything computed from these articles' text (mentions and each enrichment's rows).

    `new_ids`: articles this transaction inserted, which have no rows to delete (the big tables
    are not searched for them: their key is kept by this delete-then-insert, not by an index)."""
    old_ids = [t.article.article_id for t in write if t.article.article_id not in new_ids]
    _replace_mentions(con, write, old_ids)
    _replace_quotes(con, write, old_ids)
    _replace_matches(con, write, old_ids)


def _replace_mentions(con: duckdb.DuckDBPyConnection, write: Sequence[TaggedArticle], old_ids: Sequence[str]) -> None:
    import pandas as pd

    if old_ids:
        con.execute("DELETE FROM mentions WHERE article_id IN (SELECT unnest(?))", [list(old_ids)])
    ents: dict[str, tuple] = {}
    mrows = []
    for t in write:
        for m in t.mentions:
            mrows.append((t.article.article_id, m.entity_id, m.surface, m.label, m.start_char, m.end_char))
            if is_local_id(m.entity_id):
                continue  # a name of this article only (a lone surname): no warehouse entity
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
            """MERGE INTO entities USING (
                   SELECT entity_id, canonical_name, label, wikidata_id, CAST(aliases AS VARCHAR[]) AS aliases,
                          source, sport, league, country FROM entity_frame) AS s
               ON entities.entity_id = s.entity_id
               WHEN MATCHED THEN UPDATE SET
                 canonical_name = s.canonical_name, wikidata_id = s.wikidata_id,
                 aliases = s.aliases, source = s.source, sport = s.sport,
                 league = s.league, country = s.country,
                 label = CASE WHEN entities.label IN ('PERSON', 'ORG') THEN s.label ELSE entities.label END
               WHEN NOT MATCHED THEN INSERT (entity_id, canonical_name, label, wikidata_id, aliases, source, sport,
                                             league, country)
                 VALUES (s.entity_id, s.canonical_name, s.label, s.wikidata_id, s.aliases, s.source, s.sport,
                         s.league, s.country)"""
        )


QUOTE_COLS = ["article_id", "quote_no", "text", "start_char", "end_char", "speaker_name", "speaker_entity_id",
              "speaker_kind", "role", "team_entity_id", "team_name", "cue"]


def _replace_quotes(con: duckdb.DuckDBPyConnection, write: Sequence[TaggedArticle], old_ids: Sequence[str]) -> None:
    """Replace the quotes of these articles (tasks/quotes.py) with the ones just computed."""
    import pandas as pd

    if old_ids:
        con.execute("DELETE FROM quotes WHERE article_id IN (SELECT unnest(?))", [list(old_ids)])
    rows = [(t.article.article_id, q.quote_no, q.text, q.start_char, q.end_char, q.speaker_name, q.speaker_entity_id,
             q.speaker_kind, q.role, q.team_entity_id, q.team_name, q.cue) for t in write for q in t.quotes]
    if rows:
        quote_frame = pd.DataFrame(rows, columns=QUOTE_COLS)  # noqa: F841 (read by name in SQL)
        con.execute(f"INSERT INTO quotes ({', '.join(QUOTE_COLS)}) SELECT * FROM quote_frame")
def _replace_matches(con: duckdb.DuckDBPyConnection, write: Sequence[TaggedArticle], old_ids: Sequence[str]) -> None:
    """Replace these articles' match reports and scorers, then recompute every match row they touch."""
    import pandas as pd

    from tasks.matches import (
        MATCH_COLS,
        REPORT_COLS,
        SAME_MATCH_DAYS,
        majority,
        match_id,
        pair_key,
        same_match,
        team_key,
    )

    ids = list(old_ids)
    touched: set[str] = set()
    if ids:
        touched = {r[0] for r in con.execute(
            "SELECT DISTINCT match_id FROM match_reports WHERE article_id IN (SELECT unnest(?))", [ids]).fetchall()}
        con.execute("DELETE FROM match_reports WHERE article_id IN (SELECT unnest(?))", [ids])
        con.execute("DELETE FROM match_scorers WHERE article_id IN (SELECT unnest(?))", [ids])
    facts = [f for t in write for f in t.matches]
    known = []  # (match_id, teams, date) of stored matches with these pairings, then of new ones
    if facts:
        names = sorted({k for f in facts for k in pair_key(f)})
        days = [f.match_date for f in facts if f.match_date]
        window = [min(days) - timedelta(days=SAME_MATCH_DAYS), max(days) + timedelta(days=SAME_MATCH_DAYS)] if (
            days and len(days) == len(facts)) else [None, None]  # an undated fact may meet any stored match
        for mid, h, a, hn, an, day in con.execute(
                "SELECT match_id, home_entity_id, away_entity_id, home_name, away_name, match_date FROM matches "
                "WHERE (home_entity_id IN (SELECT unnest(?)) OR away_entity_id IN (SELECT unnest(?)) "
                "OR home_entity_id IS NULL OR away_entity_id IS NULL) "
                "AND (CAST(? AS DATE) IS NULL OR match_date IS NULL OR match_date BETWEEN ? AND ?)",
                [names, names, window[0], window[0], window[1]]).fetchall():
            known.append((mid, frozenset([team_key(h, hn), team_key(a, an)]), day))
    reports, scorers = [], []
    for t in write:
        aid, seen = t.article.article_id, set()
        for f in t.matches:
            mid = same_match(known, f)
            if mid is None:
                mid = match_id(f)
                known.append((mid, pair_key(f), f.match_date))
            if mid in seen:
                continue
            seen.add(mid)
            touched.add(mid)
            reports.append([aid, mid, f.reported, f.home_entity_id, f.away_entity_id, f.home, f.away, f.home_score,
                            f.away_score, f.neutral, f.sport, f.competition_entity_id, f.competition, f.match_date,
                            f.date_certain, f.extra_time, f.penalties, f.start_char])
            scorers += [[mid, aid, s.player, s.player_entity_id, s.team_entity_id, s.minute, s.kind]
                        for s in f.scorers]
    if reports:
        report_frame = pd.DataFrame(reports, columns=REPORT_COLS)  # noqa: F841 (read by name in SQL)
        con.execute(f"INSERT INTO match_reports ({', '.join(REPORT_COLS)}) SELECT * FROM report_frame")
    if scorers:
        scorer_frame = pd.DataFrame(  # noqa: F841 (read by name in SQL)
            scorers, columns=["match_id", "article_id", "player_name", "player_entity_id", "team_entity_id", "minute",
                              "kind"])
        scorer_frame["minute"] = pd.array(scorer_frame["minute"], dtype="Int32")
        con.execute("INSERT INTO match_scorers SELECT * FROM scorer_frame")
    if not touched:
        return
    cur = con.execute(f"SELECT {', '.join(REPORT_COLS)} FROM match_reports WHERE match_id IN (SELECT unnest(?)) "
                      "ORDER BY article_id", [sorted(touched)])
    by_match: dict[str, list[dict]] = {}
    for row in cur.fetchall():
        rec = dict(zip(REPORT_COLS, row, strict=True))
        by_match.setdefault(rec["match_id"], []).append(rec)
    con.execute("DELETE FROM matches WHERE match_id IN (SELECT unnest(?))", [sorted(touched)])
    if by_match:
        match_frame = pd.DataFrame([majority(r) for r in by_match.values()], columns=MATCH_COLS)
        match_frame["updated_at"] = pd.Series([datetime.now(UTC)] * len(match_frame), dtype="datetime64[us, UTC]")
        con.register("match_frame", match_frame)
        con.execute(f"INSERT INTO matches ({', '.join(MATCH_COLS)}, updated_at) SELECT * FROM match_frame")
        con.unregister("match_frame")


def _mark_entries(
    con: duckdb.DuckDBPyConnection,
    tagged: Sequence[TaggedArticle],
    failures: Sequence[tuple[FeedEntry, FetchError]],
    max_attempts: int,
) -> None:
    """Mark the batch's entries done or failed: one set-based UPDATE each (a join on the key; an
    UPDATE per entry scanned the whole table, as the key is composite)."""
    import pandas as pd

    if tagged:
        done = pd.DataFrame([(t.article.feed_id, t.article.entry_key, t.article.article_id) for t in tagged],
                            columns=["feed_id", "entry_key", "article_id"])
        done = done.groupby(["feed_id", "entry_key"], as_index=False).agg(  # noqa: F841 (read by name in SQL)
            article_id=("article_id", "last"), n=("article_id", "size"))
        con.execute(
            """UPDATE feed_entries SET status = 'done', article_id = d.article_id, attempts = attempts + d.n,
                 last_error = NULL
               FROM done d WHERE feed_entries.feed_id = d.feed_id AND feed_entries.entry_key = d.entry_key""")
    if failures:
        failed = pd.DataFrame(  # noqa: F841 (read by name in SQL)
            [(e.feed_id, e.entry_key, int(err.error_type not in UNTRIED_ERRORS),
              f"{err.error_type}: {err.message}"[:500], err.error_type in PERMANENT_ERRORS and not err.retryable)
             for e, err in failures],
            columns=["feed_id", "entry_key", "tried", "error", "permanent"],
        ).drop_duplicates(subset=["feed_id", "entry_key"], keep="last")
        con.execute(
            """UPDATE feed_entries SET attempts = attempts + f.tried, last_error = f.error,
                 status = CASE WHEN f.permanent THEN 'gone' WHEN attempts + f.tried >= ? THEN 'failed'
                               ELSE 'pending' END
               FROM failed f WHERE feed_entries.feed_id = f.feed_id AND feed_entries.entry_key = f.entry_key""",
            [max_attempts])


# -- stories: cross-article, so assigned here, inside the batch's transaction ----------------------
SIGNATURE_COLS = ["article_id", "story_id", "feed_id", "published_at", "title", "minhash", "teams", "title_teams",
                  "subject", "subject_in_title", "scores", "match_keys", "generic", "preview"]
MAX_STORY_CANDIDATES = 5000  # earlier articles read per batch, most shared keys first: memory stays bounded


def assign_stories(con: duckdb.DuckDBPyConnection, write: Sequence[TaggedArticle], params: stories.StoryParams) -> int:
    """Give written articles a story (tasks/stories.py) from the signatures of the story window;
    store their signatures and keys, `articles.story_id` and the stories they touch. Returns how
    many earlier signatures were read."""
    import pandas as pd

    sigs = [stories.signature_of(t) for t in write]
    ids = [s.article_id for s in sigs]
    kept = dict(con.execute("SELECT article_id, story_id FROM story_signatures WHERE article_id IN (SELECT unnest(?))",
                            [ids]).fetchall())
    sigs = [replace(s, story_id=kept.get(s.article_id)) for s in sigs]  # an updated article keeps its story
    lo, hi = stories.window(sigs, params)
    keys = pd.DataFrame([(k, s.article_id, w) for s in sigs if not s.story_id for k, w in stories.weighted_keys(s)],
                        columns=["key", "new_id", "weight"])
    known: list[StorySignature] = []
    if len(keys):
        con.register("new_keys", keys.drop_duplicates(subset=["key", "new_id"]))
        cols = ", ".join(f"s.{c}" for c in SIGNATURE_COLS)
        # per new article, the earlier ones sharing enough with it to link (one team in common never
        # does): the most shared first, at most MAX_STORY_CANDIDATES for the batch
        rows = con.execute(
            f"""WITH pairs AS (
                    SELECT k.article_id, n.new_id, sum(n.weight) AS shared
                    FROM story_keys k JOIN new_keys n USING ("key")
                    WHERE k.published_at BETWEEN ? AND ? AND NOT k.article_id IN (SELECT unnest(?))
                    GROUP BY ALL HAVING sum(n.weight) >= ?),
                hits AS (SELECT article_id, max(shared) AS shared FROM pairs GROUP BY ALL
                         ORDER BY shared DESC, article_id LIMIT ?)
                SELECT {cols} FROM story_signatures s JOIN hits h USING (article_id)""",
            [lo, hi, ids, stories.LINK_WEIGHT, MAX_STORY_CANDIDATES],
        ).fetchall()
        con.unregister("new_keys")
        known = [_signature_row(r) for r in rows]
    assigned = {a.article_id: a for a in stories.assign_stories(sigs, known, params)}
    now = datetime.now(UTC)
    frame = pd.DataFrame([[*(getattr(s, c) for c in SIGNATURE_COLS[:1]), assigned[s.article_id].story_id,
                           *(getattr(s, c) for c in SIGNATURE_COLS[2:]), assigned[s.article_id].reason,
                           assigned[s.article_id].via, assigned[s.article_id].similarity, now] for s in sigs],
                         columns=[*SIGNATURE_COLS, "reason", "via_article_id", "similarity", "assigned_at"])
    for col in ("teams", "title_teams", "scores", "match_keys"):
        frame[col] = frame[col].map(list)
    frame["published_at"] = pd.Series(frame["published_at"], dtype="datetime64[us, UTC]")
    frame["assigned_at"] = pd.Series(frame["assigned_at"], dtype="datetime64[us, UTC]")
    key_frame = pd.DataFrame(  # noqa: F841 (read by name in SQL)
        [(k, s.article_id, s.published_at) for s in sigs for k in stories.index_keys(s)],
        columns=["key", "article_id", "published_at"])
    key_frame["published_at"] = pd.Series(key_frame["published_at"], dtype="datetime64[us, UTC]")
    if kept:  # only a reloaded article has rows to replace (a scan of the index is not paid for new ones)
        con.execute("DELETE FROM story_signatures WHERE article_id IN (SELECT unnest(?))", [list(kept)])
        con.execute("DELETE FROM story_keys WHERE article_id IN (SELECT unnest(?))", [list(kept)])
    con.register("sig_frame", frame)
    con.execute("""INSERT INTO story_signatures SELECT article_id, story_id, feed_id, published_at, title, minhash,
                          CAST(teams AS VARCHAR[]), CAST(title_teams AS VARCHAR[]), subject, subject_in_title,
                          CAST(scores AS VARCHAR[]),
                          CAST(match_keys AS VARCHAR[]), generic, preview, reason, via_article_id, similarity,
                          assigned_at FROM sig_frame""")
    con.execute("UPDATE articles SET story_id = f.story_id FROM sig_frame f WHERE f.article_id = articles.article_id")
    con.unregister("sig_frame")
    con.execute('INSERT INTO story_keys SELECT "key", article_id, published_at FROM key_frame')
    _refresh_stories(con, sorted({a.story_id for a in assigned.values()}), now)
    return len(known)


def refresh_story_signatures(con: duckdb.DuckDBPyConnection, tagged: Sequence[TaggedArticle],
                             params: stories.StoryParams | None = None) -> int:
    """Rebuild the story signatures (teams, subject, index keys) of re-tagged articles and the `stories`
    rows they belong to. An article keeps its story; one with none yet (stored before the stories
    stage) is assigned one. Returns how many signatures were written."""
    if tagged:
        assign_stories(con, tagged, params or stories.StoryParams())
    return len(tagged)


BACKFILL_MARKER = "backfill:articles.story_id"  # a row of _migrations once every article has a story


def backfill_story_ids(db_path: Target, batch_size: int = 200, limit: int = 5000,
                       params: stories.StoryParams | None = None, wait: float = 30.0) -> int:
    """Give a story to articles stored before the stories stage existed (`story_id` NULL), oldest first,
    from their stored title, body, mentions and match reports; one transaction per batch, at most
    `limit` articles per call (the next call goes on). When none is left a marker row in `_migrations`
    records it, so later calls return at once. Returns how many articles got a story."""
    params = params or stories.StoryParams()
    done = 0

    def batch(con: duckdb.DuckDBPyConnection) -> int | None:  # None: none left (the marker is there)
        if con.execute("SELECT count(*) FROM _migrations WHERE name = ?", [BACKFILL_MARKER]).fetchone()[0]:
            return None
        take = min(batch_size, limit - done)
        ids = [r[0] for r in con.execute(
            "SELECT article_id FROM articles WHERE story_id IS NULL "
            "ORDER BY coalesce(published_at, fetched_at), article_id LIMIT ?", [max(take, 0)]).fetchall()]
        if not ids and take > 0:
            con.execute("INSERT INTO _migrations VALUES (?, ?)", [BACKFILL_MARKER, datetime.now(UTC)])
            return None
        if ids:
            assign_stories(con, _stored_tagged(con, ids), params)
        return len(ids)

    while True:
        n = transact(db_path, batch, wait=wait)  # on a lake, re-run whole on a commit conflict
        if n is None:
            return done
        done += n
        if done >= limit:
            return done


def _stored_tagged(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> list[TaggedArticle]:
    """Stored articles with their stored mentions (and match reports as match facts), for signatures."""
    from types import SimpleNamespace

    from schemas.records import Mention

    names = [c for c in ARTICLE_COLS if c != "tagger_version"]
    articles, versions = {}, {}
    for *r, version in con.execute(f"SELECT {', '.join(names)}, tagger_version FROM articles "
                                   "WHERE article_id IN (SELECT unnest(?))", [list(ids)]).fetchall():
        articles[r[0]] = Article(**dict(zip([*names, "entry_key"], [*r, ""], strict=True)))
        versions[r[0]] = version
    mentions: dict[str, list[Mention]] = {}
    for aid, eid, surface, label, start, end, canonical, qid, aliases, source, sport, league, country in con.execute(
            """SELECT m.article_id, m.entity_id, m.surface, m.label, m.start_char, m.end_char,
                      coalesce(e.canonical_name, m.surface), e.wikidata_id, e.aliases, e.source, e.sport, e.league,
                      e.country
               FROM mentions m LEFT JOIN entities e USING (entity_id)
               WHERE m.article_id IN (SELECT unnest(?)) ORDER BY m.article_id, m.start_char""", [list(ids)]).fetchall():
        mentions.setdefault(aid, []).append(Mention(eid, canonical, surface, label, start, end, qid,
                                                    tuple(aliases or ()), source, sport, league, country))
    facts: dict[str, list] = {}
    for aid, home, away, day, reported in con.execute(
            "SELECT article_id, home_entity_id, away_entity_id, match_date, reported FROM match_reports "
            "WHERE article_id IN (SELECT unnest(?))", [list(ids)]).fetchall():
        facts.setdefault(aid, []).append(SimpleNamespace(home_entity_id=home, away_entity_id=away, match_date=day,
                                                         reported=reported))
    return [TaggedArticle(articles[i], tuple(mentions.get(i, ())), versions.get(i) or "",
                          matches=tuple(facts.get(i, ()))) for i in ids if i in articles]


def _signature_row(row: tuple) -> StorySignature:
    d = dict(zip(SIGNATURE_COLS, row, strict=True))
    for col in ("teams", "title_teams", "scores", "match_keys"):
        d[col] = tuple(d[col] or ())
    d["minhash"] = bytes(d["minhash"])
    return StorySignature(**d)


def _refresh_stories(con: duckdb.DuckDBPyConnection, story_ids: list[str], now: datetime) -> None:
    """Recompute the `stories` rows of these stories from their articles' signatures and mentions."""
    con.execute("DELETE FROM stories WHERE story_id IN (SELECT unnest(?))", [story_ids])
    con.execute(
        """INSERT INTO stories
           WITH members AS (SELECT * FROM story_signatures WHERE story_id IN (SELECT unnest(?))),
           -- from the signatures (teams and subject of each article), not the whole mentions table
           named AS (
               SELECT story_id, coalesce(e.canonical_name, n.name) AS name, count(DISTINCT article_id) AS n
               FROM (SELECT story_id, article_id, unnest(teams) AS name FROM members
                     UNION ALL SELECT story_id, article_id, subject FROM members WHERE subject IS NOT NULL) n
               LEFT JOIN entities e ON e.entity_id = n.name
               GROUP BY ALL),
           lead AS (SELECT story_id, list(name ORDER BY n DESC, name)[1:5] AS names FROM named GROUP BY ALL)
           SELECT s.story_id, min(s.published_at), max(s.published_at), count(*), count(DISTINCT s.feed_id),
                  arg_min(s.title, (s.published_at, s.article_id)), any_value(l.names), ?
           FROM members s LEFT JOIN lead l USING (story_id) GROUP BY s.story_id""",
        [story_ids, now],
    )


def top_entities(db_path: Path, mentions: Counter, labels: Sequence[str],
                 limit: int = 10) -> list[tuple[str, str, int]]:
    """(canonical name, label, mentions) of the most mentioned entities among `mentions` (a run's
    own counts) whose label is one of `labels`: a key lookup per entity, never a mentions scan."""
    if not mentions:
        return []
    con = connect(db_path)
    try:
        rows = con.execute("SELECT entity_id, canonical_name, label FROM entities "
                           "WHERE entity_id IN (SELECT unnest(?)) AND label IN (SELECT unnest(?))",
                           [list(mentions), list(labels)]).fetchall()
    finally:
        con.close()
    return sorted(((name, label, mentions[eid]) for eid, name, label in rows), key=lambda r: (-r[2], r[0]))[:limit]


# -- retagging -------------------------------------------------------------------------------------
def stale_article_ids(db_path: Path, tagger_version: str, limit: int | None = None) -> list[str]:
    """Articles whose mentions were made by another tagger version, newest first (at most `limit`)."""
    con = connect(db_path)
    try:
        rows = con.execute(
            "SELECT article_id FROM articles WHERE tagger_version IS DISTINCT FROM ? "
            "ORDER BY published_at DESC NULLS LAST, article_id LIMIT ?",
            [tagger_version, limit],
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def count_stale(db_path: Path, tagger_version: str) -> int:
    """How many articles carry another tagger version than this one."""
    _, rows = query(db_path, "SELECT count(*) FROM articles WHERE tagger_version IS DISTINCT FROM ?",
                    [tagger_version])
    return rows[0][0]


def unchanged_since(db_path: Path, tagged: Sequence[TaggedArticle]) -> list[TaggedArticle]:
    """Those of `tagged` whose stored body is still the one they were tagged from (a run may have
    updated an article while a retag tagged it outside the run lock)."""
    if not tagged:
        return []
    _, rows = query(db_path, "SELECT article_id, content_hash FROM articles WHERE article_id IN (SELECT unnest(?))",
                    [[t.article.article_id for t in tagged]])
    stored = dict(rows)
    return [t for t in tagged if stored.get(t.article.article_id) == t.article.content_hash]


def stored_articles(db_path: Path, article_ids: Sequence[str]) -> list[Article]:
    """Articles as stored (for retagging)."""
    cols = ", ".join(c for c in ARTICLE_COLS if c != "tagger_version")
    con = connect(db_path)
    try:
        cur = con.execute(
            f"""SELECT {cols}, (SELECT entry_key FROM feed_entries fe WHERE fe.article_id = a.article_id LIMIT 1)
                FROM articles a WHERE article_id IN (SELECT unnest(?)) ORDER BY article_id""",
            [list(article_ids)],
        )
        rows = cur.fetchall()
    finally:
        con.close()
    names = [c for c in ARTICLE_COLS if c != "tagger_version"] + ["entry_key"]
    return [Article(**dict(zip(names, r, strict=True))) for r in rows]


def replace_tags(db_path: Target, tagged: Sequence[TaggedArticle],
                 story_params: stories.StoryParams | None = None) -> int:
    """Replace the mentions of stored articles and set their tagger_version, in one transaction.

    Their story signatures are built from those mentions, so they are rebuilt too (each article
    keeps its story; one stored before the stories stage gets one)."""
    def body(con: duckdb.DuckDBPyConnection) -> None:
        _replace_article_outputs(con, tagged)
        refresh_story_signatures(con, tagged, story_params)
        for t in tagged:
            con.execute("UPDATE articles SET tagger_version = ? WHERE article_id = ?",
                        [t.tagger_version, t.article.article_id])

    transact(db_path, body)
    return sum(len(t.mentions) for t in tagged)


# -- staging: a batch that could not be loaded waits on disk for the next run ----------------------
def staging_dir(db_path: Path | str) -> Path:
    """Where batches wait when the warehouse is held by another process: `<db>.staging/`."""
    if lake.is_lake(db_path):
        return db_path.local / "staging"
    return Path(f"{db_path}.staging")


def stage_batch(
    db_path: Path, run_id: str, seq: int, tagged: Sequence[TaggedArticle],
    failures: Sequence[tuple[FeedEntry, FetchError]],
) -> Path:
    """Write a batch to the staging folder (atomically: a half-written file is never read)."""
    folder = staging_dir(db_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{run_id}-{seq:05d}.json"
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump({"run_id": run_id, "tagged": [to_jsonable(t) for t in tagged],
                   "failures": [[to_jsonable(e), to_jsonable(err)] for e, err in failures]}, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def load_staged(db_path: Path, max_attempts: int, wait: float = 30.0,
                story_params: stories.StoryParams | None = None) -> LoadCounts:
    """Load batches staged by earlier runs, oldest first; each file is removed once loaded."""
    total = LoadCounts()
    for path in sorted(staging_dir(db_path).glob("*.json")):
        # JSON, not pickle: loading a file from a writable folder must never run code
        batch = json.loads(path.read_text(encoding="utf-8"))
        tagged = [from_jsonable(TaggedArticle, t) for t in batch["tagged"]]
        failures = [(from_jsonable(FeedEntry, e), from_jsonable(FetchError, err)) for e, err in batch["failures"]]
        counts = load_batch(db_path, batch["run_id"], tagged, failures, max_attempts, wait=wait,
                            story_params=story_params)
        path.unlink()
        total.add(counts)
    return total


# -- reading -------------------------------------------------------------------------------------
def sandbox(con: duckdb.DuckDBPyConnection) -> None:
    """Lock an analyst's connection to the database it opened: no file reads or writes (COPY,
    read_csv, ATTACH), no extension installs, no network; and no SET can undo it."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def query(db_path: Path, sql: str, params: Sequence | None = None, wait: float = 10.0,
          sandboxed: bool = False) -> tuple[list[str], list[tuple]]:
    """Run one read-only query (`sandboxed`: analysts' SQL, see `sandbox`); returns (column names, rows)."""
    if lake.is_lake(db_path):  # a sandbox's settings are its DuckDB's: a fresh one, not a shared one
        con = lake.connect(db_path, read_only=True, fresh=sandboxed)
    else:
        con = connect(db_path, read_only=True, wait=wait)
    try:
        if sandboxed:
            lake.sandbox(con) if lake.is_lake(db_path) else sandbox(con)
        cur = con.execute(sql, params or [])
        cols = [d[0] for d in cur.description] if cur.description else []
        return cols, cur.fetchall()
    finally:
        con.close()


def refresh_views(db_path: Path) -> list[str]:
    """Re-create the analyst views after a load (on a lake: in one transaction, retried on a conflict)."""
    if lake.is_lake(db_path):
        return transact(db_path, apply_views)
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
    """Is there a search index already (from an earlier run)?"""
    from tasks import search as search_index

    return search_index.exists(db_path)


SEARCH_ERRORS = (ImportError, OSError, ValueError, RuntimeError, duckdb.Error)


def update_search_index(db_path: Path, rebuild: bool = False) -> str | None:
    """Index the articles loaded since the last update (tasks/search.py), or rebuild the whole index
    (`rebuild`, or when there is none yet); returns why not, if it could not."""
    from tasks import search as search_index

    con = connect(db_path)
    try:
        con.execute(f"SET memory_limit = '{HELD_MEMORY_LIMIT}'")  # a rebuild reads every body
        if rebuild or not search_index.exists(db_path):
            search_index.rebuild(con, db_path)
        else:
            search_index.update(con, db_path)
        return None
    except SEARCH_ERRORS as exc:
        return f"full-text search unavailable: {type(exc).__name__}: {exc}"
    finally:
        con.close()


def build_search_index(db_path: Path) -> str | None:
    """Rebuild the search index over article titles and bodies; returns why not, if it could not."""
    return update_search_index(db_path, rebuild=True)


def search(db_path: Path, text: str, limit: int = 10, sandboxed: bool = False) -> list[tuple]:
    """Articles ranked by BM25 for a query: (score, published_at, title, canonical_url, article_id).

    Answered by the search index alone (the warehouse is not opened; `sandboxed` has nothing to
    lock)."""
    from tasks import search as search_index

    return [r[:5] for r in search_index.search(db_path, text, limit)]


def publish_snapshot(db_path: Target) -> Path | None:
    """Publish the warehouse's read-only snapshot: the main file and its WAL, each atomically.

    Analysts open the snapshot, so a long analyst session never blocks a run's writes; a session
    already open keeps reading the previous copy (the old file stays alive until it closes). Runs
    do not checkpoint (see `held`): their changes are in the WAL and the main file changes only at
    the nightly checkpoint, so the main file is copied only when it changed since the last publish
    and a run's publish copies just the WAL (DuckDB replays it when the snapshot is opened).
    A lake has no copy (None): its readers attach it read-only.
    """
    if lake.is_lake(db_path):
        return None
    db_path = Path(db_path)
    target = snapshot_path(db_path)
    wal, target_wal = Path(f"{db_path}.wal"), Path(f"{target}.wal")
    stamp = Path(f"{target}.source")  # size and mtime of the main file the snapshot was copied from
    st = db_path.stat()
    source = f"{st.st_size} {st.st_mtime_ns}"
    main_changed = not target.exists() or not stamp.exists() or stamp.read_text() != source
    if main_changed:  # readers in between see an older state, never a main file with a foreign WAL
        target_wal.unlink(missing_ok=True)
        stamp.unlink(missing_ok=True)
        _atomic_copy(db_path, target)
    if wal.exists():
        _atomic_copy(wal, target_wal)
    else:
        target_wal.unlink(missing_ok=True)
    if main_changed:
        stamp.write_text(source)
    return target


def _atomic_copy(src: Path, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, target)


def maintain(db_path: Target, keep_days: float = 7.0) -> dict[str, int]:
    """The nightly maintenance of a lake's storage: merge small files, expire old snapshots, delete
    unreferenced files (tasks/lake.py); {} for a DuckDB file (its nightly work is `checkpoint`)."""
    return lake.maintain(db_path, keep_days) if lake.is_lake(db_path) else {}


EXPORT_TABLES = ("feeds", "feed_entries", "articles", "entities", "mentions", "runs", "fetch_errors", "feed_fetches",
                 "quotes", "matches", "match_reports", "match_scorers", "stories", "story_signatures")


def export(db_path: Path, directory: Path, fmt: str = "parquet", overwrite: bool = False) -> list[Path]:
    """Write every table to `directory` as Parquet (or CSV: list columns as JSON arrays) files, one
    per table. Writes only those files: never over the warehouse or its snapshot, and over an
    earlier export only with `overwrite`."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"unknown export format {fmt!r} (parquet or csv)")
    targets = [directory / f"{table}.{fmt}" for table in EXPORT_TABLES]
    protected = set() if lake.is_lake(db_path) else {
        Path(p).resolve() for p in (db_path, snapshot_path(db_path), f"{db_path}.wal")}
    if clash := [str(p) for p in targets if p.resolve() in protected]:
        raise ValueError(f"refusing to export over the warehouse: {', '.join(clash)}")
    if (existing := [str(p) for p in targets if p.exists() or p.is_symlink()]) and not overwrite:
        raise FileExistsError(f"{existing[0]} exists ({len(existing)} export files in {directory}); "
                              "use --force to overwrite them")
    directory.mkdir(parents=True, exist_ok=True)
    con = connect(db_path, read_only=True, wait=10.0)
    written = []
    try:
        for table, path in zip(EXPORT_TABLES, targets, strict=True):
            if path.is_symlink():  # overwrite the export file itself, never what a link points at
                path.unlink()
            literal = "'" + str(path).replace("'", "''") + "'"  # COPY takes no bound path
            select = "*"
            if fmt == "csv":  # a list in CSV is a JSON array, not DuckDB's [a, b] text
                lists = [c for c, t in con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                                                     "WHERE table_name = ? AND database_name = current_database()",
                                                     [table]).fetchall() if t.endswith("[]")]
                if lists:
                    select = "* REPLACE (" + ", ".join(f"to_json({c}) AS {c}" for c in lists) + ")"
            con.execute(f"COPY (SELECT {select} FROM {table}) TO {literal} (FORMAT {fmt})")
            written.append(path)
    finally:
        con.close()
    return written
