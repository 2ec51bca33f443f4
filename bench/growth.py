#!/usr/bin/env python3
"""`make bench-growth`: does a run's cost grow with the news or with the warehouse? (issue 19)

1. A seed warehouse: `pressbox run` over S corpus pages (the real pipeline, so bodies, mentions,
   quotes, stories and feed entries are real).
2. A synthetic warehouse of N articles (default 1,000,000) made from the seed's rows with new ids
   by DuckDB INSERT ... SELECT (minutes, not the pipeline's days); built once and reused
   (`--dir`, default /tmp/pressbox-growth).
3. The same ordinary run adding 50 new articles, on a fresh warehouse and on a copy-free reuse of
   the big one, alternated `--runs` times (medians): wall time and peak memory of the process tree
   and of the run's own process, and the run's warehouse side (every tasks/load call, timed
   in-process with the same 50 tagged articles).
4. `pressbox search` latency on the big warehouse; `pressbox retag` of 1,000 articles there.

Prints a table and one JSON line. Usage: growth.py [--n 1000000] [--seed 200] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run_bench import BIN, build_site, feeds_toml, run_cli, tree_memory_mib  # noqa: E402

# the tables a synthetic copy replicates, and how a copy's ids are made from the seed's (copy i)
NEW_ID = "md5(article_id || ':' || i::VARCHAR)"
REPLICATE = {
    "articles": {"article_id": NEW_ID, "url": "url || '#g' || i::VARCHAR",
                 "canonical_url": "canonical_url || '#g' || i::VARCHAR",
                 "published_at": "published_at - to_minutes(i * 7)",
                 "story_id": "'s' || left(md5(story_id || ':' || i::VARCHAR), 15)"},
    "mentions": {"article_id": NEW_ID},
    "quotes": {"article_id": NEW_ID},
    "feed_entries": {"article_id": NEW_ID, "entry_key": "entry_key || '#g' || i::VARCHAR",
                     "url": "url || '#g' || i::VARCHAR", "canonical_url": "canonical_url || '#g' || i::VARCHAR",
                     "published_at": "published_at - to_minutes(i * 7)"},
    "story_signatures": {"article_id": NEW_ID, "story_id": "'s' || left(md5(story_id || ':' || i::VARCHAR), 15)",
                         "published_at": "published_at - to_minutes(i * 7)"},
    "story_keys": {"article_id": NEW_ID, "published_at": "published_at - to_minutes(i * 7)"},
    "stories": {"story_id": "'s' || left(md5(story_id || ':' || i::VARCHAR), 15)",
                "first_seen": "first_seen - to_minutes(i * 7)", "last_seen": "last_seen - to_minutes(i * 7)"},
}


def env_for(tmp: Path) -> dict[str, str]:
    return dict(os.environ, PREFECT_HOME=str(tmp / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
                DO_NOT_TRACK="1", PREFECT_LOGGING_LEVEL="WARNING", PRESSBOX_ALLOW_PRIVATE_HOSTS="127.0.0.1",
                PRESSBOX_PER_HOST_INTERVAL="0", PRESSBOX_PER_HOST_CONCURRENCY="8", PRESSBOX_WORKERS="1")


def seed(tmp: Path, n: int) -> Path:
    """A warehouse made by the pipeline from n corpus pages (kept in tmp for the next build)."""
    db = tmp / "seed.duckdb"
    if db.exists():
        return db
    site, _ = build_site(n)
    with site:
        (tmp / "seed-feeds.toml").write_text(feeds_toml(site, n))
        run_cli(["run", "--feeds", str(tmp / "seed-feeds.toml"), "--db", str(db)], env_for(tmp))
    return db


def build(seed_db: Path, big: Path, n: int) -> dict[str, float]:
    """The N-article warehouse: the seed's rows copied with new ids, batch by batch (bounded memory)."""
    import duckdb

    if big.exists():
        return {}
    t0 = time.perf_counter()
    tmp_big = big.with_suffix(".building")
    tmp_big.unlink(missing_ok=True)
    from tasks import load

    load.checkpoint(seed_db)  # runs leave their changes in the WAL: the copy must hold them
    shutil.copyfile(seed_db, tmp_big)
    con = duckdb.connect(str(tmp_big))
    con.execute("SET memory_limit = '2GB'")
    con.execute(f"ATTACH '{seed_db}' AS seed (READ_ONLY)")
    per_copy = con.execute("SELECT count(*) FROM seed.articles").fetchone()[0]
    copies = max(1, -(-n // per_copy)) - 1  # the seed itself is copy 0
    step = max(1, 100_000 // per_copy)
    for lo in range(1, copies + 1, step):
        hi = min(copies, lo + step - 1)
        con.execute("BEGIN TRANSACTION")
        for table, exprs in REPLICATE.items():
            cols = [r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                                              "AND database_name = 'seed' ORDER BY column_index", [table]).fetchall()]
            select = ", ".join(exprs.get(c, c) for c in cols)
            limit = f"LIMIT {n - lo * per_copy}" if table == "articles" and hi == copies else ""
            con.execute(f"INSERT INTO {table} SELECT {select} FROM seed.{table}, range({lo}, {hi + 1}) r(i) {limit}")
        con.execute("COMMIT")
        print(f"  copies {hi}/{copies}", flush=True)
    con.execute("DETACH seed")
    con.execute("CHECKPOINT")
    con.close()
    os.replace(tmp_big, big)
    return {"build_s": round(time.perf_counter() - t0, 1)}


def warehouse_counts(db: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("articles", "mentions", "quotes")}
    finally:
        con.close()


def one_run(tmp: Path, db: Path, tag: str, n: int = 50) -> dict[str, float]:
    """`pressbox run` adding n new articles (new URLs: a new site) to db: wall and peak memory."""
    site, _ = build_site(n)
    with site:
        feeds = tmp / f"feeds-{tag}.toml"
        feeds.write_text(feeds_toml(site, n))
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(BIN / "pressbox"), "run", "--feeds", str(feeds), "--db", str(db)],
                                env=env_for(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        tree = own = (0.0, 0.0)
        while proc.poll() is None:  # the whole tree (worker, fork server, Prefect's API) and the run's own process
            rss, pss = tree_memory_mib(proc.pid)
            tree = (max(tree[0], rss), max(tree[1], pss))
            own = tuple(max(a, b) for a, b in zip(own, process_memory_mib(proc.pid), strict=True))
            time.sleep(0.2)
        wall = time.perf_counter() - t0
        out, err = proc.communicate()
        if proc.returncode != 0:
            sys.exit(f"pressbox run failed on {db}:\n{out[-2000:]}\n{err[-2000:]}")
    return {f"{tag}_run_s": round(wall, 2), f"{tag}_peak_rss_mib": round(tree[0]),
            f"{tag}_peak_pss_mib": round(tree[1]), f"{tag}_run_process_peak_rss_mib": round(own[0]),
            f"{tag}_run_process_peak_pss_mib": round(own[1])}


def process_memory_mib(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of one process, MiB; zeros once it is gone."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return rss / 1024, pss / 1024


def run_py(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall time and peak PSS (MiB, the process tree, sampled) of a Python snippet in a new process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "python"), "-c", code], env=env, cwd=str(ROOT))
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, tree_memory_mib(proc.pid)[1])
        time.sleep(0.25)
    if proc.returncode:
        sys.exit(f"failed: {code}")
    return round(time.perf_counter() - t0, 1), round(peak)


def index_build(tmp: Path, db: Path) -> dict[str, float]:
    """The search index rebuilt from the whole warehouse (what the nightly maintenance may do)."""
    from tasks import search

    if search.exists(db):
        return {}
    wall, peak = run_py(f"from tasks import load; print(load.build_search_index({str(db)!r}))", env_for(tmp))
    return {"index_build_s": wall, "index_build_peak_pss_mib": peak}


def retag(tmp: Path, db: Path, n: int = 1000) -> dict[str, float]:
    """`pressbox retag` of the n newest articles, marked as tagged by an older tagger (every other
    article is marked as tagged by the current one: the synthetic rows carry the seed's version)."""
    import duckdb

    from pressbox.settings import get_settings
    from tasks.kb import tagger_version

    current = tagger_version(get_settings().spacy_model)
    con = duckdb.connect(str(db))
    con.execute("UPDATE articles SET tagger_version = ? WHERE tagger_version <> ?", [current, current])
    con.execute("UPDATE articles SET tagger_version = 'bench-older' WHERE article_id IN "
                "(SELECT article_id FROM articles ORDER BY published_at DESC LIMIT ?)", [n])
    con.close()
    wall, peak, out = run_cli(["retag", "--db", str(db)], env_for(tmp))
    return {"retag_n": n, "retag_s": round(wall, 1), "retag_peak_pss_mib": round(peak[1])}


WAREHOUSE_SIDE = """
import json, sys, time, uuid
from dataclasses import replace
from pathlib import Path
from schemas.records import FeedConfig, FeedResult, FeedEntry, Mention, TaggedArticle
from tasks import load
from tasks.extract import article_id_for
db, seed, tag = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
ids = [r[0] for r in load.query(seed, "SELECT article_id FROM articles ORDER BY article_id LIMIT 50")[1]]
arts = load.stored_articles(seed, ids)
_, rows = load.query(seed, "SELECT m.article_id, m.entity_id, e.canonical_name, m.surface, m.label, m.start_char, "
                           "m.end_char FROM mentions m JOIN entities e USING (entity_id)")
mentions = {}
for aid, *m in rows:
    mentions.setdefault(aid, []).append(Mention(*m))
run = uuid.uuid4().hex
tagged, entries = [], []
for a in arts:
    url = a.canonical_url + "#" + tag + run
    new = replace(a, article_id=article_id_for(url), url=url, canonical_url=url, feed_id="ws", entry_key=url)
    tagged.append(TaggedArticle(new, tuple(mentions.get(a.article_id, ())), "bench"))
    entries.append(FeedEntry("ws", url, url, url, title=a.title, published_at=a.published_at))
timings = {}
def timed(name, fn, *args, **kw):
    t0 = time.perf_counter(); out = fn(*args, **kw); timings[name] = round(time.perf_counter() - t0, 3); return out
t0 = time.perf_counter()
with load.held(db):
    timed("prepare", load.prepare, db, [FeedConfig("ws", "http://ws.example/feed", "ws")])
    timed("start_run", load.start_run, db, run, None, "bench", "bench")
    timed("record_feeds", load.record_feeds, db, run, [FeedResult("ws", "http://ws.example/feed", "ok", 200,
                                                                  entries=tuple(entries))])
    timed("pending", load.pending_entries, db, ["ws"], 3)
    counts = timed("load_batch", load.load_batch, db, run, tagged, [], 3, count_in_run=True)
    timed("top_entities", load.top_entities, db, counts.entities, ["TEAM", "PLAYER"])
    timed("finish_run", load.finish_run, db, run, "completed", {})
    timed("views", load.refresh_views, db)
    timed("search_index", load.update_search_index, db)
    timed("snapshot", load.publish_snapshot, db)
timings["total"] = round(time.perf_counter() - t0, 3)
print(json.dumps(timings))
"""


def warehouse_side(tmp: Path, db: Path, seed_db: Path, tag: str) -> dict:
    """Every tasks/load step of a run loading the seed's first 50 articles (new ids) into db, timed
    in one process: the warehouse's share of a run, without fetching and tagging."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "python"), "-c", WAREHOUSE_SIDE, str(db), str(seed_db), tag],
                            env=env_for(tmp), cwd=str(ROOT), stdout=subprocess.PIPE, text=True)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, tree_memory_mib(proc.pid)[1])
        time.sleep(0.1)
    out = proc.stdout.read()
    if proc.returncode:
        sys.exit(f"warehouse side failed on {db}")
    timings = json.loads(out.strip().splitlines()[-1])
    print(f"warehouse side on {db.name}: {timings}", flush=True)
    return {f"{tag}_warehouse_s": timings["total"], f"{tag}_warehouse_wall_s": round(time.perf_counter() - t0, 2),
            f"{tag}_warehouse_peak_pss_mib": round(peak), f"{tag}_steps": timings}


def search_latency(tmp: Path, db: Path, queries=("Arsenal", "Liverpool manager", "Six Nations try")) -> float:
    """Worst wall time of `pressbox search` (a process each, as a user runs it)."""
    worst = 0.0
    for q in queries:
        wall, _, _ = run_cli(["search", q, "--db", str(db), "--live"], env_for(tmp))
        worst = max(worst, wall)
    return round(worst, 2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="articles in the synthetic warehouse")
    ap.add_argument("--seed", type=int, default=200, help="corpus pages the seed warehouse is made from")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/pressbox-growth"), help="where the warehouses live")
    ap.add_argument("--build-only", action="store_true", help="build the warehouses and stop")
    ap.add_argument("--retag", type=int, default=1000, help="articles to retag (0: skip)")
    ap.add_argument("--runs", type=int, default=3, help="50-article runs on each warehouse, alternated (medians)")
    a = ap.parse_args()
    tmp = a.dir
    tmp.mkdir(parents=True, exist_ok=True)
    big = tmp / f"big-{a.n}.duckdb"
    results: dict[str, object] = {"n": a.n}
    results.update(build(seed(tmp, a.seed), big, a.n))
    results.update(warehouse_counts(big))
    print(f"warehouse {big}: {results}", flush=True)
    if a.build_only:
        return 0
    results.update(index_build(tmp, big))
    fresh = tmp / "fresh.duckdb"
    runs: dict[str, list[dict]] = {"fresh": [], "big": []}
    for _ in range(a.runs):  # alternated: the machine's drift and the page cache touch both
        for p in tmp.glob("fresh.*"):  # the warehouse, its WAL, lock, snapshot and search index
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        runs["fresh"].append(one_run(tmp, fresh, "fresh"))
        runs["big"].append(one_run(tmp, big, "big"))
        print(f"runs: fresh {runs['fresh'][-1]}, big {runs['big'][-1]}", flush=True)
    for tag, done in runs.items():
        for key in done[0]:
            results[key] = statistics.median(r[key] for r in done)
        results[f"{tag}_runs_s"] = [r[f"{tag}_run_s"] for r in done]
    results["big_over_fresh"] = round(results["big_run_s"] / results["fresh_run_s"], 2)
    results["big_minus_fresh_s"] = round(results["big_run_s"] - results["fresh_run_s"], 1)
    seed_db = tmp / "seed.duckdb"
    results.update(warehouse_side(tmp, fresh, seed_db, "fresh"))
    results.update(warehouse_side(tmp, big, seed_db, "big"))
    results["warehouse_big_over_fresh"] = round(results["big_warehouse_s"] / results["fresh_warehouse_s"], 2)
    results["search_s"] = search_latency(tmp, big)
    if a.retag:
        results.update(retag(tmp, big, a.retag))
    print()
    targets = {"big_over_fresh": "<= 1.5 (+3 s)", "warehouse_big_over_fresh": "the warehouse's share",
               "big_run_process_peak_rss_mib": "< 1024", "search_s": "< 1 s",
               "index_build_peak_pss_mib": "<= 2048"}
    for k, v in results.items():
        print(f"{k:<28} {v!s:>12}   {targets.get(k, '')}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
