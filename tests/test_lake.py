"""tasks/lake.py: the warehouse as a DuckLake, on a SQLite catalog and on a real PostgreSQL one.

One PostgreSQL server serves the session (conftest `postgres`); each test has its own database.
Loads are called directly (no Prefect): test_warehouse.py runs a real flow into a lake."""

import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from test_load import FEED, entry, tagged

from pressbox.settings import get_settings
from schemas.records import FeedConfig, FeedResult, FetchError
from tasks import lake, load
from tasks import search as search_index

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("feeds", "feed_entries", "articles", "entities", "mentions", "stories", "story_signatures", "story_keys",
          "runs", "fetch_errors", "feed_fetches")


@pytest.fixture(params=["sqlite", "postgres"])
def lake_db(request, tmp_path) -> lake.Lake:
    """An empty lake on each catalog (its Parquet files in tmp_path)."""
    if request.param == "sqlite":
        return lake.parse(f"ducklake:sqlite:{tmp_path / 'catalog.sqlite'}", str(tmp_path / "data") + "/")
    pg = request.getfixturevalue("postgres")
    conninfo = pg.create_database(f"lake_{request.node.name.split('[')[0][-40:]}".lower())
    return lake.parse(f"ducklake:postgres:{conninfo}", str(tmp_path / "data") + "/", tmp_path / "home")


def count(db, table: str) -> int:
    return load.query(db, f"SELECT count(*) FROM {table}")[1][0][0]


def test_lake_sql_strips_what_ducklake_lacks():
    sql = lake.lake_sql((load.MIGRATIONS_DIR / "0001_init.sql").read_text())
    assert "PRIMARY KEY" not in sql.upper() and "UNIQUE" not in sql.upper()
    assert "canonical_url     VARCHAR NOT NULL" in sql and "consecutive_failures INTEGER DEFAULT 0" in sql
    assert lake.lake_sql("ALTER TABLE a ADD COLUMN f BOOLEAN DEFAULT FALSE; CREATE UNIQUE INDEX i ON a (x);") == \
        "ALTER TABLE a ADD COLUMN f BOOLEAN DEFAULT 'false'; "


def test_settings_choose_the_backend(tmp_path):
    assert lake.target(get_settings(db_path=tmp_path / "w.duckdb")) == tmp_path / "w.duckdb"
    assert lake.target(get_settings(db_path=tmp_path / "w.duckdb", warehouse=str(tmp_path / "o.duckdb"))) == \
        tmp_path / "o.duckdb"
    sq = lake.target(get_settings(warehouse=f"ducklake:sqlite:{tmp_path}/c.sqlite"))
    assert sq.catalog == "sqlite" and sq.data_path == f"{tmp_path}/c.sqlite.files/"
    pg = lake.target(get_settings(warehouse="ducklake:postgres:host=db dbname=lake password=s3cret",
                                  lake_data_path="s3://bucket/lake/", home=tmp_path))
    assert pg.catalog == "postgres" and pg.data_path == "s3://bucket/lake/" and "s3cret" not in str(pg)
    with pytest.raises(ValueError, match="ducklake:sqlite:PATH"):
        get_settings(warehouse="ducklake:mysql:x")


def test_schema_is_the_file_warehouse_s(lake_db, tmp_path):
    """The same migrations give the same tables and columns (types included) on both backends."""
    file_db = tmp_path / "w.duckdb"
    load.prepare(file_db, [FEED])
    load.prepare(lake_db, [FEED])
    sql = ("SELECT table_name, column_name, data_type FROM information_schema.columns "
           "WHERE table_catalog = current_database() AND table_name <> '_lake_writes' ORDER BY ALL")
    assert load.query(lake_db, sql)[1] == load.query(file_db, sql)[1]
    assert count(lake_db, "coaching_spells") == count(file_db, "coaching_spells") > 0
    assert lake.migrate(lake.connect(lake_db), load.MIGRATIONS_DIR) == []  # applied once


def test_loads_are_idempotent_and_keyed(lake_db):
    """MERGE INTO keeps every key the file warehouse's constraints keep: nothing doubles."""
    load.prepare(lake_db, [FEED])
    load.prepare(lake_db, [FEED])  # registering the feeds again updates, never adds
    results = [FeedResult("f1", FEED.url, "ok", 200, etag='"v1"', entries=tuple(entry(n) for n in range(3)))]
    assert load.record_feeds(lake_db, "run1", results) == 3
    assert load.record_feeds(lake_db, "run2", results) == 0
    first = load.load_batch(lake_db, "run1", [tagged(0), tagged(1)], [], max_attempts=3)
    assert (first.new, first.mentions) == (2, 4)
    again = load.load_batch(lake_db, "run2", [tagged(0), tagged(1)], [], max_attempts=3)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    changed = load.load_batch(lake_db, "run3", [tagged(0, body="Arsenal lost to Chelsea after all.")], [], 3)
    assert changed.updated == 1
    err = FetchError("https://site.example/story-2", "page", "gone", "HTTP 404", 404, None)
    assert load.load_batch(lake_db, "run3", [], [(entry(2), err)], 3).failed == 1
    assert (count(lake_db, "feeds"), count(lake_db, "feed_entries"), count(lake_db, "articles")) == (1, 3, 2)
    assert (count(lake_db, "mentions"), count(lake_db, "entities")) == (4, 2)
    assert load.query(lake_db, "SELECT status FROM feed_entries ORDER BY entry_key")[1] == [
        ("done",), ("done",), ("gone",)]
    assert load.query(lake_db, "SELECT body FROM articles WHERE url LIKE '%story-0'")[1] == [
        ("Arsenal lost to Chelsea after all.",)]
    load.start_run(lake_db, "r1", "flow-1", "0.1.0", "tv")
    load.finish_run(lake_db, "r1", "completed", {"feeds_ok": 1, "articles_new": 2})
    assert load.query(lake_db, "SELECT status, feeds_ok, articles_new FROM runs")[1] == [("completed", 1, 2)]


def test_a_conflicting_commit_is_retried_whole(postgres, tmp_path):
    """Another writer commits while a batch's transaction is open: the batch's commit conflicts and
    the whole transaction runs again on what the other committed (so its article is not doubled)."""
    db = lake.parse(f"ducklake:postgres:{postgres.create_database('lake_conflict')}", f"{tmp_path}/data/",
                    tmp_path / "home")
    load.prepare(db, [FEED])
    load.record_feeds(db, "run1", [FeedResult("f1", FEED.url, "ok", 200, entries=(entry(0), entry(1)))])
    calls = []

    def body(con):
        calls.append(1)
        seen = con.execute("SELECT count(*) FROM articles").fetchone()[0]  # this transaction's snapshot
        if len(calls) == 1:  # another writer's batch commits the same article meanwhile
            load.load_batch(db, "other", [tagged(0)], [], 3)
        con.execute("UPDATE feed_entries SET attempts = attempts + 1 WHERE entry_key = 'key-1'")
        return seen

    assert load.transact(db, body) == 1 and len(calls) == 2  # the retry read the other writer's article
    assert count(db, "articles") == 1
    assert load.query(db, "SELECT attempts FROM feed_entries WHERE entry_key = 'key-1'")[1] == [(1,)]


def test_two_processes_load_one_postgres_lake(postgres, tmp_path):
    """Two ingest processes load overlapping articles (the same page in both feeds) into one lake at
    once: nothing lost, nothing doubled; loading everything again adds no row."""
    conninfo = postgres.create_database("lake_two_writers")
    spec = f"ducklake:postgres:{conninfo}"
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        from datetime import UTC, datetime
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]
        from dataclasses import replace
        from schemas.records import FeedConfig, FeedResult
        from tasks import lake, load
        from test_load import entry, tagged

        feed = sys.argv[1]
        db = lake.parse({spec!r}, {str(tmp_path / 'data') + '/'!r}, __import__('pathlib').Path({str(tmp_path)!r}))
        load.prepare(db, [FeedConfig(feed, "https://feeds.example/" + feed, feed)])
        # 12 pages each, 6 of them also in the other feed (same canonical URL: one article)
        ns = range(0, 12) if feed == "a" else range(6, 18)
        entries = [replace(entry(n), feed_id=feed) for n in ns]
        load.record_feeds(db, "run-" + feed, [FeedResult(feed, "https://feeds.example/" + feed, "ok", 200,
                                                         entries=tuple(entries))])
        total = 0
        for i in range(0, 12, 3):
            batch = [tagged(n) for n in ns[i:i + 3]]
            batch = [replace(t, article=replace(t.article, feed_id=feed)) for t in batch]
            total += load.load_batch(db, "run-" + feed, batch, [], 3).new
        print(total)
    """))
    procs = [subprocess.Popen([sys.executable, str(script), f], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for f in ("a", "b")]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    db = lake.parse(spec, None, tmp_path)
    new = sum(int(o[0].split()[-1]) for o in outs)
    assert new == count(db, "articles") == 18  # each shared page loaded as new by exactly one writer
    assert count(db, "(SELECT DISTINCT article_id FROM articles)") == 18
    assert count(db, "mentions") == count(db, "(SELECT DISTINCT article_id, start_char, end_char FROM mentions)") == 36
    assert count(db, "entities") == 2 and count(db, "feed_entries") == 24 and count(db, "feeds") == 2
    assert count(db, "story_signatures") == 18
    before = {t: count(db, t) for t in TABLES if t != "runs"}
    for feed in ("a", "b"):  # the same work again (in this process: no new interpreter start-up)
        ns = range(0, 12) if feed == "a" else range(6, 18)
        load.prepare(db, [FeedConfig(feed, "https://feeds.example/" + feed, feed)])
        load.record_feeds(db, "again", [FeedResult(feed, "https://feeds.example/" + feed, "ok", 200,
                                                   entries=tuple(replace(entry(n), feed_id=feed) for n in ns))])
        batch = [replace(t, article=replace(t.article, feed_id=feed)) for t in map(tagged, ns)]
        assert load.load_batch(db, "again", batch, [], 3).new == 0
    assert {t: count(db, t) for t in before} == {**before, "feed_fetches": before["feed_fetches"] + 2}


def test_views_search_export_and_readers(lake_db, tmp_path):
    load.prepare(lake_db, [FEED])
    load.record_feeds(lake_db, "run1", [FeedResult("f1", FEED.url, "ok", 200, entries=(entry(0), entry(1)))])
    load.load_batch(lake_db, "run1", [tagged(0)], [], 3)
    load.load_batch(lake_db, "run1", [tagged(1, body="Chelsea and Arsenal drew at Anfield.")], [], 3)
    assert "team_coverage" in load.refresh_views(lake_db)
    assert load.query(lake_db, "SELECT count(*) FROM article_entities", sandboxed=True)[1] == [(4,)]
    with pytest.raises(duckdb.Error):  # an analyst's SQL cannot write files, even on a lake
        load.query(lake_db, f"COPY articles TO '{tmp_path / 'x.csv'}'", sandboxed=True)
    assert load.build_search_index(lake_db) is None and search_index.exists(lake_db)
    assert search_index.index_dir(lake_db).parent == lake_db.local  # this machine's own index
    hits = load.search(lake_db, "Anfield")
    assert [h[2] for h in hits] == ["Story 1"]
    written = load.export(lake_db, tmp_path / "export")
    assert len(written) == len(load.EXPORT_TABLES)
    assert duckdb.sql(f"SELECT count(*) FROM '{tmp_path / 'export' / 'articles.parquet'}'").fetchone()[0] == 2
    assert load.publish_snapshot(lake_db) is None  # readers attach the lake itself
    # an analyst with the plain duckdb Python package (and the pinned extensions) attaches it read-only
    script = textwrap.dedent(f"""
        import duckdb
        from duckdb_extensions import import_extension
        con = duckdb.connect(config={{"extension_directory": {str(tmp_path / 'ext')!r}}})
        for ext in ("ducklake", {lake.CATALOGS[lake_db.catalog]!r}):
            import_extension(ext, con=con)
        con.execute("ATTACH '{lake_db.spec}' AS lake (READ_ONLY)")
        print(con.execute("SELECT count(*) FROM lake.articles").fetchone()[0])
        try:
            con.execute("DELETE FROM lake.articles")
        except duckdb.Error:
            print("read-only")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["2", "read-only"], out.stderr[-2000:]


def test_maintenance_merges_small_files(tmp_path):
    db = lake.parse(f"ducklake:sqlite:{tmp_path / 'c.sqlite'}")
    load.prepare(db, [FEED])
    load.record_feeds(db, "r", [FeedResult("f1", FEED.url, "ok", 200, entries=tuple(entry(n) for n in range(4)))])
    con = lake.connect(db)
    con.execute("CALL ducklake_set_option('lake', 'data_inlining_row_limit', 0)")  # every commit writes its own files
    con.close()
    for n in range(4):
        load.load_batch(db, "r", [tagged(n)], [], 3)
    files = load.maintain(db, keep_days=0)
    assert files["files_after"] < files["files_before"]
    assert count(db, "articles") == 4 and count(db, "mentions") == 8
    assert len(list(Path(db.data_path).rglob("*.parquet"))) == files["files_after"]  # old files deleted


def test_run_lock_is_per_feeds_on_a_lake(tmp_path):
    db = lake.parse(f"ducklake:sqlite:{tmp_path / 'c.sqlite'}")
    with (
        load.run_lock(db, scope="feeds-a.toml"),
        load.run_lock(db, scope="feeds-b.toml"),  # other feeds: both run
        pytest.raises(load.WarehouseBusy),
        load.run_lock(db, wait=0.2, scope="feeds-a.toml"),
    ):
        pass


def test_a_batch_that_keeps_conflicting_is_staged_not_lost(tmp_path, monkeypatch):
    """After every retry lost, the load says the warehouse is busy: the flow stages the batch."""
    db = lake.parse(f"ducklake:sqlite:{tmp_path / 'c.sqlite'}")
    load.prepare(db, [FEED])
    monkeypatch.setattr(lake.time, "sleep", lambda s: None)
    calls = []

    def body(con):
        calls.append(1)
        raise duckdb.TransactionException("Failed to commit DuckLake transaction. Transaction conflict")

    with pytest.raises(load.WarehouseBusy, match="kept conflicting"):
        load.transact(db, body)
    assert len(calls) == 30
