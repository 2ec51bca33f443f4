#!/usr/bin/env python3
"""`make bench-lake`: one ingest into a DuckDB file vs two concurrent ingests into one DuckLake.

Serves N article pages (as `make bench`: the corpus pages, repeated under new URLs) in feeds of 100
items from a local server, then:

1. `pressbox run` over all the feeds into a DuckDB file;
2. two `pressbox run --shard I/2` at once over the same feeds file (each takes the feeds whose
   stable hash falls in its shard), into one DuckLake whose catalog is a real PostgreSQL
   (pressbox/pglocal.py) and whose Parquet files are in a folder;
3. compares the tables' row counts, re-runs both lake ingests at once (0 rows expected), and runs
   the nightly lake maintenance (data files before and after).

Prints a table and one JSON line. Figures, not pass/fail. Usage: run_lake.py [--n 875]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
BIN = ROOT / ".venv" / "bin"

from run_bench import build_site, feeds_toml  # noqa: E402

TABLES = ("feeds", "feed_entries", "articles", "entities", "mentions", "quotes", "matches", "match_reports",
          "match_scorers", "stories", "story_signatures", "runs")


def counts(target) -> dict[str, int]:
    from tasks import load

    return {t: load.query(target, f"SELECT count(*) FROM {t}")[1][0][0] for t in TABLES}


KEYS = {"articles": "article_id", "entities": "entity_id", "feed_entries": "feed_id, entry_key", "feeds": "feed_id",
        "stories": "story_id", "story_signatures": "article_id", "mentions": "article_id, start_char, end_char",
        "quotes": "article_id, quote_no"}


def doubled(target) -> dict[str, int]:
    """Keys held by more than one row, per table (a lake keeps its keys itself: none expected)."""
    from tasks import load

    out = {}
    for table, key in KEYS.items():
        n = load.query(target, f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY ALL HAVING count(*) > 1)")
        out[table] = n[1][0][0]
    return {t: n for t, n in out.items() if n}


def differing_entities(file_db, target) -> dict[str, list]:
    """Entity ids one warehouse has and the other lacks (with their label and canonical name)."""
    from tasks import load

    sql = "SELECT entity_id, label, canonical_name FROM entities"
    a, b = set(load.query(file_db, sql)[1]), set(load.query(target, sql)[1])
    ids_a, ids_b = {r[0] for r in a}, {r[0] for r in b}
    return {"file": sorted(r for r in a if r[0] not in ids_b)[:20],
            "lake": sorted(r for r in b if r[0] not in ids_a)[:20]}


def run_all(runs: list[list[str]], env: dict[str, str]) -> tuple[float, list[int], list[str]]:
    """`pressbox run ARGS` once per argument list, all at once: wall time, exit codes, outputs."""
    t0 = time.perf_counter()
    procs = [subprocess.Popen([str(BIN / "pressbox"), "run", *args], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for args in runs]
    outs = [p.communicate()[0] for p in procs]
    return time.perf_counter() - t0, [p.returncode for p in procs], outs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=875, help="article pages to serve (default 875: the benchmark)")
    a = ap.parse_args()
    from pressbox.pglocal import LocalPostgres
    from tasks import lake, load
    from tasks.shard import shard_of

    tmp = Path(tempfile.mkdtemp(prefix="pressbox-bench-lake-"))
    site, _ = build_site(a.n)
    site.start()
    (tmp / "all.toml").write_text(feeds_toml(site, a.n))
    everything = ["--feeds", str(tmp / "all.toml")]
    shards = [[*everything, "--shard", "1/2"], [*everything, "--shard", "2/2"]]
    urls = [f["url"] for f in tomllib.loads((tmp / "all.toml").read_text())["feeds"]]
    env = dict(os.environ, PREFECT_HOME=str(tmp / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               DO_NOT_TRACK="1", PREFECT_LOGGING_LEVEL="WARNING", PRESSBOX_ALLOW_PRIVATE_HOSTS="127.0.0.1",
               PRESSBOX_PER_HOST_INTERVAL="0", PRESSBOX_PER_HOST_CONCURRENCY="8", PRESSBOX_HOME=str(tmp / "home"))
    env.pop("PRESSBOX_WAREHOUSE", None)
    print(f"serving {a.n} pages on {site.base_url}; work dir {tmp}", flush=True)
    results: dict[str, object] = {"n": a.n, "feeds_per_shard": [sum(shard_of(u, 2) == i for u in urls) for i in (1, 2)]}
    try:
        file_db = tmp / "file.duckdb"
        wall, codes, outs = run_all([everything], dict(env, PRESSBOX_WAREHOUSE=str(file_db)))
        assert codes == [0], outs
        results["file_run_s"] = round(wall, 1)
        file_counts = counts(file_db)
        print(f"file: {wall:.1f}s, {file_counts['articles']} articles", flush=True)
        with LocalPostgres() as pg:
            spec = f"ducklake:postgres:{pg.create_database('bench')}"
            lake_env = dict(env, PRESSBOX_WAREHOUSE=spec, PRESSBOX_LAKE_DATA_PATH=str(tmp / "lake-data") + "/")
            wall, codes, outs = run_all(shards, lake_env)
            assert all(c == 0 for c in codes), outs  # 3 would be a run skipped on a lock, 1 a failure
            results["lake_2_runs_s"] = round(wall, 1)
            target = lake.parse(spec, None, tmp / "home")
            lake_counts = counts(target)
            print(f"lake: 2 concurrent runs {wall:.1f}s, {lake_counts['articles']} articles", flush=True)
            before = {t: n for t, n in lake_counts.items() if t != "runs"}
            results["lake_doubled_keys"] = doubled(target)
            results["entities_only_in"] = differing_entities(file_db, target)
            wall, codes, outs = run_all(shards, lake_env)
            assert all(c == 0 for c in codes), outs
            after = counts(target)
            results["lake_rerun_s"] = round(wall, 1)
            results["lake_rerun_rows_added"] = sum(after[t] - before[t] for t in before)
            files = load.maintain(target, keep_days=0)
            results.update({"lake_files_before_maintenance": files["files_before"],
                            "lake_files_after_maintenance": files["files_after"]})
            results["lake_rows_after_maintenance_equal"] = counts(target) == after
    finally:
        site.stop()
    results["rows_file"] = {t: n for t, n in file_counts.items() if t != "runs"}
    results["rows_lake"] = before
    results["rows_differ"] = {t: [file_counts[t], before[t]] for t in before if file_counts[t] != before[t]}
    results["lake_over_file"] = round(results["lake_2_runs_s"] / results["file_run_s"], 2)
    results["machine"] = f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    results["date"] = datetime.now(UTC).strftime("%Y-%m-%d")
    print()
    for k, v in results.items():
        if not isinstance(v, dict):
            print(f"{k:<36} {v!s:>12}")
    print(f"{'rows (file = lake unless listed)':<36} {results['rows_differ'] or 'all equal'}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
