"""Issue 18: `--shard I/N` takes the feeds whose stable hash falls in shard I of N; shards partition the
feeds, never change between runs, hold their own run lock, and record themselves in runs.shard."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
from pydantic import ValidationError

from pressbox.settings import ROOT, get_settings
from schemas.records import FeedConfig
from tasks import load
from tasks.shard import Shard, parse_shard, shard_feeds, shard_of

FEEDS = [FeedConfig(f"f{i}", f"https://news{i % 7}.example/sport/feed-{i}.xml", f"Feed {i}") for i in range(200)]


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_shards_partition_the_feeds(n):
    parts = [shard_feeds(FEEDS, Shard(i, n)) for i in range(1, n + 1)]
    ids = [f.feed_id for part in parts for f in part]
    assert sorted(ids) == sorted(f.feed_id for f in FEEDS) and len(ids) == len(set(ids))  # each feed once
    assert all(len(part) > 200 / n / 2 for part in parts)  # roughly even: no shard starves
    assert [f.feed_id for f in parts[0]] == [f.feed_id for f in FEEDS if f in parts[0]]  # file order kept


def test_shards_are_stable_across_processes_and_feed_lists():
    """sha1 of the URL: the same answer in another interpreter (no salted hash) and whatever other
    feeds the file lists."""
    code = ("from tasks.shard import shard_of\n"
            f"print([shard_of(u, 4) for u in {[f.url for f in FEEDS[:20]]!r}])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={"PYTHONHASHSEED": "123", "PATH": ""}).stdout.strip()
    assert out == str([shard_of(f.url, 4) for f in FEEDS[:20]])
    url = "https://feeds.bbci.co.uk/sport/football/rss.xml"
    assert shard_of(url, 4) == int(hashlib.sha1(url.encode()).hexdigest()[:16], 16) % 4 + 1 == 4  # pinned
    one = shard_feeds(FEEDS[:50], Shard(2, 3))
    assert [f for f in shard_feeds(FEEDS, Shard(2, 3)) if f in FEEDS[:50]] == one


def test_shard_spelling():
    assert parse_shard("2/4") == Shard(2, 4) and parse_shard(" 1 / 1 ") == Shard(1, 1)
    assert parse_shard("") is None and parse_shard(None) is None
    for bad in ("0/4", "5/4", "2", "a/b", "1/0", "-1/2"):
        with pytest.raises(ValueError):
            parse_shard(bad)
    assert get_settings(shard=" 3/4").shard == "3/4"
    with pytest.raises(ValidationError, match="shard"):
        get_settings(shard="4/3")


def test_each_shard_has_its_own_run_lock(tmp_path):
    db = tmp_path / "wh.duckdb"
    with load.run_lock(db, shard="1/2"):
        with load.run_lock(db, shard="2/2"):  # another shard runs at the same time
            pass
        with pytest.raises(load.WarehouseBusy), load.run_lock(db, shard="1/2"):  # the same shard does not
            pass
        with pytest.raises(load.WarehouseBusy), load.run_lock(db):  # nor an unsharded run (or a retag)
            pass
    with load.run_lock(db), pytest.raises(load.WarehouseBusy), load.run_lock(db, shard="2/2"):
        pass


def test_runs_record_their_shard_and_a_crash_stays_in_its_shard(tmp_path):
    db = tmp_path / "wh.duckdb"
    load.prepare(db, [])
    load.start_run(db, "a", None, "0", "tv", shard="1/2")
    load.start_run(db, "b", None, "0", "tv", shard="2/2")  # shard 1's run is still going: left alone
    rows = load.query(db, "SELECT run_id, shard, status FROM runs ORDER BY run_id")[1]
    assert rows == [("a", "1/2", "running"), ("b", "2/2", "running")]
    load.start_run(db, "c", None, "0", "tv", shard="1/2")  # shard 1 again: its old row was a crash
    load.start_run(db, "d", None, "0", "tv")  # unsharded: holds every shard, so any running row crashed
    rows = load.query(db, "SELECT run_id, shard, status FROM runs ORDER BY run_id")[1]
    assert rows == [("a", "1/2", "crashed"), ("b", "2/2", "crashed"), ("c", "1/2", "crashed"), ("d", None, "running")]


def test_a_bad_shard_is_one_line_and_exit_2():
    from typer.testing import CliRunner

    from pressbox.cli import app

    for command in ("run", "serve"):
        result = CliRunner().invoke(app, [command, "--shard", "3/2"])
        assert result.exit_code == 2 and "shard" in result.output and "Traceback" not in result.output


@pytest.mark.usefixtures("prefect_harness")
def test_two_shards_load_what_one_unsharded_run_loads(site, settings_for, tmp_path):
    """Shards 1/2 and 2/2 into one warehouse: the same articles and mentions as one run over every
    feed, each feed fetched by exactly one shard, each run's row naming its shard."""
    from flows.ingest import ingest
    from pressbox import sample_site

    for path, route in sample_site.routes().items():
        site.add(path, route)
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(sample_site.feeds_toml(site.base_url))
    whole = settings_for(feeds_file=str(feeds), db_path=tmp_path / "whole.duckdb")
    ingest(settings=whole)
    sharded = settings_for(feeds_file=str(feeds), db_path=tmp_path / "sharded.duckdb")
    results = [ingest(settings=sharded, shard=s) for s in ("1/2", "2/2")]
    assert sorted(f["feed_id"] for r in results for f in r["feeds"]) == sorted(
        f.feed_id for f in load_feeds(feeds))  # every feed in exactly one shard
    sql = ("SELECT a.canonical_url, m.entity_id, m.start_char FROM mentions m JOIN articles a USING (article_id) "
           "ORDER BY ALL")
    assert load.query(sharded.db_path, sql)[1] == load.query(whole.db_path, sql)[1]
    assert load.query(sharded.db_path, "SELECT shard, status FROM runs ORDER BY shard")[1] == [
        ("1/2", "completed"), ("2/2", "completed")]


def load_feeds(path):
    from tasks.feeds import load_feeds_file

    return load_feeds_file(path)
