"""tasks/load.py: migrations, idempotent upserts, never losing a body, the run lock."""

import contextlib
from datetime import UTC, datetime

import duckdb
import pytest

from schemas.records import (
    Article,
    FeedConfig,
    FeedEntry,
    FeedResult,
    FetchError,
    Mention,
    TaggedArticle,
    local_id,
)
from tasks import load
from tasks.extract import article_id_for, content_hash

FEED = FeedConfig("f1", "https://feeds.example/rss", "Feed one", sport="football")
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def entry(n: int) -> FeedEntry:
    url = f"https://site.example/story-{n}"
    return FeedEntry("f1", f"key-{n}", url, url, title=f"Story {n}", summary=f"Summary {n}", published_at=NOW)


def tagged(n: int, body: str = "Arsenal beat Chelsea.", method: str = "trafilatura") -> TaggedArticle:
    e = entry(n)
    art = Article(article_id_for(e.canonical_url), e.url, e.canonical_url, "f1", e.entry_key, e.title, body,
                  e.summary, None, NOW, NOW, "en", "Site", None, content_hash(e.title, body), method,
                  len(body.split()), "feed", 200, paywalled=n % 2 == 1, is_liveblog=n == 0)
    mentions = (
        Mention("team/arsenal-f-c", "Arsenal F.C.", "Arsenal", "TEAM", 0, 7, None, ("Arsenal", "Gunners")),
        Mention("team/chelsea-f-c", "Chelsea F.C.", "Chelsea", "TEAM", 13, 20),
    )
    return TaggedArticle(art, mentions, "test-tagger")


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "wh.duckdb"
    load.prepare(path, [FEED])
    load.record_feeds(path, "run1", [FeedResult("f1", FEED.url, "ok", 200, etag='"v1"',
                                                entries=tuple(entry(n) for n in range(3)))])
    return path


def count(db, table: str) -> int:
    return load.query(db, f"SELECT count(*) FROM {table}")[1][0][0]


def test_migrations_apply_once(tmp_path):
    con = duckdb.connect(str(tmp_path / "m.duckdb"))
    every = sorted(p.name for p in load.MIGRATIONS_DIR.glob("*.sql"))  # each branch adds its own numbers
    assert every[:3] == ["0001_init.sql", "0002_articles_paywalled.sql", "0003_articles_is_liveblog.sql"]
    assert load.migrate(con) == every
    assert load.migrate(con) == []
    cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                      "WHERE table_name = 'articles'").fetchall()}
    assert {"article_id", "url", "canonical_url", "feed_id", "title", "body", "summary", "author", "published_at",
            "fetched_at", "language", "site_name", "image_url", "content_hash", "extraction_method", "word_count",
            "tagger_version", "date_source", "paywalled", "is_liveblog"} <= cols


def test_a_warehouse_from_before_the_flags_is_upgraded_in_place(tmp_path):
    """A 0001 warehouse with rows (and its search index) gains the new columns; old rows read FALSE."""
    path = tmp_path / "old.duckdb"
    con = load.connect(path)
    con.execute("CREATE TABLE _migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ)")
    con.execute((load.MIGRATIONS_DIR / "0001_init.sql").read_text())
    con.execute("INSERT INTO _migrations VALUES ('0001_init.sql', now())")
    con.execute("""INSERT INTO articles (article_id, url, canonical_url, body, fetched_at, content_hash,
                   extraction_method, word_count, first_loaded_at, updated_at)
                   VALUES ('a1', 'u', 'c', 'Arsenal beat Chelsea', now(), 'h', 'trafilatura', 3, now(), now())""")
    load.load_fts(con)
    con.execute("PRAGMA create_fts_index('articles', 'article_id', 'title', 'body', overwrite = 1)")
    for view in sorted(load.VIEWS_DIR.glob("*.sql")):  # the views a 0001 warehouse can have (not those of later tables)
        with contextlib.suppress(duckdb.CatalogException):
            con.execute(view.read_text())
    later = sorted(p.name for p in load.MIGRATIONS_DIR.glob("*.sql"))[1:]
    assert later[:2] == ["0002_articles_paywalled.sql", "0003_articles_is_liveblog.sql"]
    assert load.migrate(con) == later
    assert con.execute("SELECT article_id, paywalled, is_liveblog FROM articles").fetchall() == [("a1", False, False)]
    con.close()


def test_entries_recorded_and_pending(db):
    assert count(db, "feed_entries") == 3
    assert len(load.pending_entries(db, ["f1"], max_attempts=3)) == 3
    assert load.query(db, "SELECT etag FROM feeds")[1] == [('"v1"',)]
    # seeing the same entries again adds nothing
    fresh = load.record_feeds(db, "run2", [FeedResult("f1", FEED.url, "ok", 200, entries=(entry(0), entry(1)))])
    assert fresh == 0 and count(db, "feed_entries") == 3


def test_load_is_idempotent(db):
    first = load.load_batch(db, "run1", [tagged(0), tagged(1)], [], max_attempts=3)
    assert (first.new, first.updated, first.mentions) == (2, 0, 4)
    again = load.load_batch(db, "run2", [tagged(0), tagged(1)], [], max_attempts=3)
    assert (again.new, again.updated, again.unchanged, again.mentions) == (0, 0, 2, 0)
    assert count(db, "articles") == 2 and count(db, "mentions") == 4 and count(db, "entities") == 2
    assert load.query(db, "SELECT aliases FROM entities WHERE entity_id = 'team/arsenal-f-c'")[1] == [
        (["Arsenal", "Gunners"],)]
    flags = load.query(db, "SELECT paywalled, is_liveblog FROM articles ORDER BY url")[1]
    assert flags == [(False, True), (True, False)]
    statuses = load.query(db, "SELECT DISTINCT status FROM feed_entries WHERE entry_key IN ('key-0','key-1')")[1]
    assert statuses == [("done",)]


def test_an_article_local_name_gets_a_mention_and_no_entity(db):
    """A lone surname nobody explains (`local/<article>/<slug>`) is no warehouse entity."""
    art = tagged(0, body="Arsenal beat Chelsea. Jones scored.")
    jones = Mention(local_id("abc12345", "jones"), "Jones", "Jones", "PLAYER", 22, 27)
    load.load_batch(db, "run1", [TaggedArticle(art.article, (*art.mentions, jones), art.tagger_version)], [],
                    max_attempts=3)
    assert count(db, "mentions") == 3 and count(db, "entities") == 2
    assert load.query(db, "SELECT entity_id FROM mentions WHERE surface = 'Jones'")[1] == [("local/abc12345/jones",)]


def test_changed_article_is_updated_not_duplicated(db):
    load.load_batch(db, "run1", [tagged(0)], [], max_attempts=3)
    res = load.load_batch(db, "run2", [tagged(0, body="Arsenal lost to Chelsea after all.")], [], max_attempts=3)
    assert res.updated == 1 and count(db, "articles") == 1
    assert load.query(db, "SELECT body FROM articles")[1] == [("Arsenal lost to Chelsea after all.",)]
    assert count(db, "mentions") == 2  # replaced, not appended


def test_summary_never_replaces_a_page_body(db):
    load.load_batch(db, "run1", [tagged(0)], [], max_attempts=3)
    res = load.load_batch(db, "run2", [tagged(0, body="Summary 0", method="feed_summary")], [], max_attempts=3)
    assert res.unchanged == 1
    assert load.query(db, "SELECT body FROM articles")[1] == [("Arsenal beat Chelsea.",)]


def test_failures_are_recorded_and_retried_within_bound(db):
    err = FetchError("https://site.example/story-2", "page", "timeout", "timed out", None, NOW, retryable=True)
    for attempt in range(3):
        load.load_batch(db, f"run{attempt}", [], [(entry(2), err)], max_attempts=3)
    assert load.query(db, "SELECT status, attempts FROM feed_entries WHERE entry_key = 'key-2'")[1] == [("failed", 3)]
    assert count(db, "fetch_errors") == 3
    gone = FetchError("https://site.example/story-1", "page", "gone", "HTTP 404", 404, NOW)
    load.load_batch(db, "run9", [], [(entry(1), gone)], max_attempts=3)
    assert load.query(db, "SELECT status FROM feed_entries WHERE entry_key = 'key-1'")[1] == [("gone",)]
    assert [e.entry_key for e in load.pending_entries(db, ["f1"], 3)] == ["key-0"]


def test_failed_transaction_leaves_nothing(db, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("crash in the middle of a batch")

    monkeypatch.setattr(load, "_replace_mentions", boom)
    with pytest.raises(RuntimeError):
        load.load_batch(db, "run1", [tagged(0), tagged(1)], [], max_attempts=3)
    assert count(db, "articles") == 0 and count(db, "mentions") == 0
    assert count(db, "feed_entries WHERE status = 'pending'") == 3


def test_run_lock_excludes_a_second_run(tmp_path):
    path = tmp_path / "wh.duckdb"
    with (
        load.run_lock(path),
        pytest.raises(load.WarehouseBusy, match="another pressbox run"),
        load.run_lock(path, wait=0.2),
    ):
        pass
    with load.run_lock(path):  # released
        pass


def test_runs_row(db):
    load.start_run(db, "r1", "flow-1", "0.1.0", "tv")
    load.finish_run(db, "r1", "completed", {"feeds_ok": 2, "articles_new": 5, "mentions": 9})
    row = load.query(db, "SELECT status, feeds_ok, articles_new, mentions, finished_at IS NOT NULL FROM runs")[1]
    assert row == [("completed", 2, 5, 9, True)]


def test_no_key_index_on_the_append_tables_and_still_no_duplicates(db):
    """mentions and quotes have no primary key index (0035, 0036): the delete-then-insert keeps the key."""
    keys = load.query(db, "SELECT table_name FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' "
                          "AND table_name IN ('mentions', 'quotes')")[1]
    assert keys == []
    load.load_batch(db, "run1", [tagged(0), tagged(1)], [], max_attempts=3)
    load.load_batch(db, "run2", [tagged(0, body="Arsenal beat Chelsea again."), tagged(1)], [], max_attempts=3)
    load.replace_tags(db, [tagged(0, body="Arsenal beat Chelsea again."), tagged(1)])
    dupes = load.query(db, "SELECT count(*) FROM (SELECT article_id, start_char, end_char FROM mentions "
                           "GROUP BY ALL HAVING count(*) > 1)")[1]
    assert dupes == [(0,)] and count(db, "mentions") == 4


def test_a_batchs_entity_counts_give_the_run_its_top_entities(db):
    counts = load.load_batch(db, "run1", [tagged(0), tagged(1)], [], max_attempts=3)
    assert counts.entities == {"team/arsenal-f-c": 2, "team/chelsea-f-c": 2}
    again = load.load_batch(db, "run2", [tagged(0)], [], max_attempts=3)
    assert not again.entities  # unchanged articles wrote nothing
    top = load.top_entities(db, counts.entities, ["TEAM"])
    assert top == [("Arsenal F.C.", "TEAM", 2), ("Chelsea F.C.", "TEAM", 2)]
    assert load.top_entities(db, counts.entities, ["PLAYER"]) == []


def test_held_connection_serves_every_step_and_leaves_the_changes_in_the_wal(db):
    load.checkpoint(db)
    with load.held(db) as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] in ("488.2 MiB", "512.0 MB")
        load.load_batch(db, "run1", [tagged(0)], [], max_attempts=3)
        assert load.query(db, "SELECT count(*) FROM articles")[1] == [(1,)]  # a cursor of the held connection
    wal = db.with_name(db.name + ".wal")
    assert wal.exists() and wal.stat().st_size > 0  # not checkpointed at close
    assert count(db, "articles") == 1  # replayed by the next open


def test_snapshot_copies_the_main_file_only_when_it_changed(db):
    load.checkpoint(db)
    snap = load.publish_snapshot(db)
    first = snap.stat().st_ino
    with load.held(db):
        load.load_batch(db, "run1", [tagged(0)], [], max_attempts=3)
        load.publish_snapshot(db)
    assert snap.stat().st_ino == first  # the main file was not copied again: only the WAL
    assert load.query(snap, "SELECT count(*) FROM articles")[1] == [(1,)]
    load.checkpoint(db)  # the nightly checkpoint: now the main file changed
    load.publish_snapshot(db)
    assert snap.stat().st_ino != first and not snap.with_name(snap.name + ".wal").exists()
    assert load.query(snap, "SELECT count(*) FROM articles")[1] == [(1,)]
