#!/usr/bin/env python3
"""`make bench`: pressbox's speed and memory, measured in one run on this machine.

Serves N article pages (the real pages of ../shared/corpus/articles and the BBC texts of
../shared/corpus/texts wrapped as pages, repeated under new URLs up to N; generated pages when the
corpus is absent) plus feeds of 100 items listing them, from a local server on 127.0.0.1, and
reports:

1. raw: the single-process cost of extraction, tagging (nlp.pipe) and loading, no Prefect;
2. e2e: `pressbox run` over the same feeds into a fresh warehouse (Prefect start-up reported apart);
3. the no-change re-run: wall time, HTTP requests, feed bytes parsed;
4. peak RSS of the e2e run, and RSS growth over 5 runs in one long-lived process;
5. bulk load throughput of mention rows;
6. executors: e2e with PRESSBOX_EXECUTOR=dask (LocalCluster, 2 workers) against the local pool
   (2 workers), alternating, a few rounds (`--executors-only` runs just this; `--rounds`).

Prints a table and one JSON line. Figures, not pass/fail. Usage: run_bench.py [--n 1000] [--executors-only]
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
BIN = ROOT / ".venv" / "bin"

from pressbox.localsite import LocalSite, Route  # noqa: E402


# -- the site --------------------------------------------------------------------------------------
def corpus_pages() -> list[bytes]:
    """Real article pages, and BBC texts wrapped in a page with boilerplate."""
    pages: list[bytes] = []
    folder = SHARED / "corpus" / "articles"
    if folder.is_dir():
        pages += [gzip.decompress(p.read_bytes()) for p in sorted(folder.glob("*.html.gz"))]
    texts = SHARED / "corpus" / "texts"
    if texts.is_dir():
        for p in sorted(texts.glob("*.txt")):
            # one line per text: the headline's first words, then sentences in paragraphs of three
            sentences = re.split(r"(?<=[.!?\"])\s+(?=[A-Z\"])", p.read_text(encoding="utf-8").strip())
            title = " ".join(sentences[0].split()[:8])
            paras = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
            pages.append(
                ("<html lang='en'><head><title>" + html.escape(title) + "</title></head><body>"
                 "<nav><a href='/'>Home</a> <a href='/sport'>Sport</a></nav><article><h1>" + html.escape(title)
                 + "</h1>" + "".join(f"<p>{html.escape(x)}</p>" for x in paras)
                 + "</article><aside>Related stories</aside><footer>(c) Example</footer></body></html>").encode()
            )
    if not pages:  # no corpus: generated pages from the demo site
        from pressbox import sample_site

        pages = [r.body.replace(b"{base_url}", b"") for path, r in sample_site.routes().items()
                 if not path.startswith("/feeds/") and path != "/robots.txt"]
    return pages


def build_site(n: int) -> tuple[LocalSite, list[bytes]]:
    pages = corpus_pages()
    site = LocalSite()
    chosen = [pages[i % len(pages)] for i in range(n)]
    for i, page in enumerate(chosen):
        site.add(f"/a/{i}", Route(page))
    for f in range(0, n, 100):
        items = "".join(
            f"<item><title>Story {i}</title><link>{{base_url}}/a/{i}</link><guid>s{i}</guid>"
            f"<pubDate>Mon, 23 Nov 2026 {i % 24:02d}:00:00 GMT</pubDate></item>"
            for i in range(f, min(f + 100, n))
        )
        site.add(f"/feed/{f // 100}.xml", Route(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>f{f}</title>{items}</channel></rss>'.encode(),
            content_type="application/rss+xml"))
    return site, chosen


def feeds_toml(site: LocalSite, n: int) -> str:
    return "\n".join(f'[[feeds]]\nid = "f{f}"\nurl = "{site.base_url}/feed/{f}.xml"\nname = "Feed {f}"\n'
                     for f in range((n + 99) // 100))


# -- measurements ----------------------------------------------------------------------------------
def raw_costs(pages: list[bytes], model: str, tmp: Path) -> dict[str, float]:
    """Single process, no Prefect: extraction, tagging, loading, each timed on its own."""
    import trafilatura

    from schemas.records import FeedEntry, Response
    from tasks import load
    from tasks.extract import build_article
    from tasks.tag import get_tagger, tag_articles

    tagger = get_tagger(model)
    now = datetime.now(UTC)
    articles = []
    t_extract = t_trafilatura = 0.0
    warm = pages[0]
    build_article(FeedEntry("f", "warm", "http://bench.example/w", "http://bench.example/w"),
                  Response("http://bench.example/w", "http://bench.example/w", 200, warm, "text/html", {}, now, 0.0))
    trafilatura.extract(warm, url="http://bench.example/w")
    for i, page in enumerate(pages):
        url = f"http://bench.example/a/{i}"
        # the entry carries the feed's pubDate, as in the served feeds (build_site)
        entry = FeedEntry("f", f"s{i}", url, url, title=f"Story {i}",
                          published_at=datetime(2026, 11, 23, i % 24, tzinfo=UTC))
        t0 = time.perf_counter()
        art = build_article(entry, Response(url, url, 200, page, "text/html", {}, now, 0.0))
        t1 = time.perf_counter()
        trafilatura.extract(page, url=url)  # the yardstick, page by page on the same load
        t_trafilatura += time.perf_counter() - t1
        t_extract += t1 - t0
        if not hasattr(art, "error_type"):
            articles.append(art)
    t0 = time.perf_counter()
    tagged = []
    for i in range(0, len(articles), 50):
        tagged += tag_articles(tagger, articles[i : i + 50])
    t_tag = time.perf_counter() - t0
    db = tmp / "raw.duckdb"
    load.prepare(db, [])
    t0 = time.perf_counter()
    for i in range(0, len(tagged), 50):
        load.load_batch(db, "raw", tagged[i : i + 50], [], 3)
    t_load = time.perf_counter() - t0
    words = sum(a.word_count for a in articles)
    return {"extract_s": t_extract, "trafilatura_s": t_trafilatura,
            "tag_s": t_tag, "load_s": t_load, "raw_s": t_extract + t_tag + t_load,
            "articles": len(articles), "words": words,
            "mentions": sum(len(t.mentions) for t in tagged)}


def tree_memory_mib(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of a process and all its descendants: worker processes, Prefect's API server.

    RSS counts pages shared between processes (libraries, the forkserver's) once per process;
    PSS splits them between the processes sharing them, so the PSS sum is the memory really used.
    """
    rss = pss = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return rss / 1024, pss / 1024


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, tuple[float, float], str]:
    """Wall time, peak (RSS, PSS) of the whole process tree (MiB, sampled) and output of one command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "pressbox"), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    peak_rss = peak_pss = 0.0
    while proc.poll() is None:
        rss, pss = tree_memory_mib(proc.pid)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.25)
    wall = time.perf_counter() - t0
    out, err = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"pressbox {' '.join(args)} failed:\n{out[-3000:]}\n{err[-3000:]}")
    return wall, (peak_rss, peak_pss), out


def prefect_startup(env: dict[str, str]) -> float:
    """Wall time of a trivial flow in a fresh process: Prefect's own start-up (ephemeral API)."""
    code = "from prefect import flow\n@flow\ndef f(): return 1\nf()\n"
    subprocess.run([str(BIN / "python"), "-c", code], env=env, capture_output=True, check=True)  # first: migrations
    t0 = time.perf_counter()
    subprocess.run([str(BIN / "python"), "-c", code], env=env, capture_output=True, check=True)
    return time.perf_counter() - t0


def long_lived(site: LocalSite, n: int, tmp: Path, env: dict[str, str]) -> dict[str, float]:
    """RSS after each of 5 runs in one process (a fresh warehouse each time, as a server would see)."""
    (tmp / "feeds-long.toml").write_text(feeds_toml(site, n))
    code = f"""
import gc, json, resource, sys
sys.path.insert(0, {str(ROOT)!r})
from flows.ingest import ingest
from pressbox.settings import get_settings
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
out = []
for i in range(5):
    s = get_settings(db_path={str(tmp)!r} + f"/long{{i}}.duckdb", feeds_file={str(tmp / "feeds-long.toml")!r})
    ingest(settings=s)
    gc.collect()  # retained memory, not garbage the collector has yet to reach
    out.append(rss())
print(json.dumps(out))
"""
    res = subprocess.run([str(BIN / "python"), "-c", code], env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(res.stderr[-3000:])
    rss = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"RSS after each run (MiB): {[round(r) for r in rss]}", flush=True)
    return {"rss_after_run1_mib": rss[0], "rss_after_run5_mib": rss[-1], "rss_growth_mib": rss[-1] - rss[0]}


def load_throughput(tmp: Path, rows: int = 200_000) -> float:
    """Mention rows per second through load_batch (bulk DataFrame inserts)."""
    from schemas.records import Article, Mention, TaggedArticle
    from tasks import load

    db = tmp / "load.duckdb"
    load.prepare(db, [])
    now = datetime.now(UTC)
    per_article = 100
    batch = []
    for i in range(rows // per_article):
        art = Article(f"id{i}", f"u{i}", f"u{i}", "f", f"s{i}", "t", "body " * 50, None, None, now, now, "en",
                      None, None, f"h{i}", "trafilatura", 50)
        ms = tuple(Mention(f"team/e{j % 500}", f"E{j % 500}", "Name", "TEAM", j * 10, j * 10 + 4)
                   for j in range(per_article))
        batch.append(TaggedArticle(art, ms, "bench"))
    t0 = time.perf_counter()
    for i in range(0, len(batch), 50):
        load.load_batch(db, "bench", batch[i : i + 50], [], 3)
    return rows / (time.perf_counter() - t0)


def executors(site: LocalSite, n: int, tmp: Path, env: dict[str, str], rounds: int, workers: int = 2) -> dict:
    """e2e `pressbox run` with PRESSBOX_EXECUTOR=dask (a LocalCluster of `workers` processes, started
    by the run) against the local pool of as many workers, alternating, `rounds` times each; fresh
    warehouse each run. Returns the medians and dask/local (Prefect's start-up taken off both)."""
    import statistics

    (tmp / "feeds-exec.toml").write_text(feeds_toml(site, n))
    walls: dict[str, list[float]] = {"local": [], "dask": []}
    for r in range(rounds):
        for name in ("local", "dask") if r % 2 == 0 else ("dask", "local"):
            db = tmp / f"exec-{name}-{r}.duckdb"
            run_env = dict(env, PRESSBOX_EXECUTOR=name, PRESSBOX_WORKERS=str(workers),
                           PRESSBOX_PARALLEL_MIN_ARTICLES="1", PRESSBOX_PUBLISH_SNAPSHOT="false")
            wall, _, _ = run_cli(["run", "--feeds", str(tmp / "feeds-exec.toml"), "--db", str(db)], run_env)
            walls[name].append(wall)
            print(f"executors round {r + 1}: {name} {wall:.1f}s", flush=True)
    startup = prefect_startup(env)
    med = {k: statistics.median(v) for k, v in walls.items()}
    return {"executors_n": n, "executors_workers": workers, "executors_rounds": rounds,
            "local_e2e_s": round(med["local"], 2), "dask_e2e_s": round(med["dask"], 2),
            "executors_prefect_startup_s": round(startup, 2),
            "dask_over_local": round((med["dask"] - startup) / (med["local"] - startup), 3),
            "dask_over_local_wall": round(med["dask"] / med["local"], 3),
            "local_runs_s": [round(w, 1) for w in walls["local"]], "dask_runs_s": [round(w, 1) for w in walls["dask"]]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="article pages to serve (default 1000)")
    ap.add_argument("--skip-long", action="store_true", help="skip the 5-runs-in-one-process memory check")
    ap.add_argument("--executors-only", action="store_true",
                    help="only compare the dask executor (2 workers) with the local pool, e2e")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the executors comparison (default 3)")
    ap.add_argument("--skip-executors", action="store_true", help="skip the executors comparison")
    a = ap.parse_args()
    from pressbox.settings import get_settings

    model = get_settings().spacy_model
    tmp = Path(tempfile.mkdtemp(prefix="pressbox-bench-"))
    site, pages = build_site(a.n)
    site.start()
    (tmp / "feeds.toml").write_text(feeds_toml(site, a.n))
    env = dict(os.environ, PREFECT_HOME=str(tmp / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               DO_NOT_TRACK="1", PREFECT_LOGGING_LEVEL="WARNING", PRESSBOX_ALLOW_PRIVATE_HOSTS="127.0.0.1",
               PRESSBOX_PER_HOST_INTERVAL="0", PRESSBOX_PER_HOST_CONCURRENCY="8", PRESSBOX_RESPECT_ROBOTS="true")
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")  # a busy machine starts it slowly
    print(f"serving {a.n} pages on {site.base_url}; work dir {tmp}", flush=True)
    if a.executors_only:
        prefect_startup(env)  # the first start migrates PREFECT_HOME: not in any run's time
        results = executors(site, a.n, tmp, env, a.rounds)
        site.stop()
        print()
        for k, v in results.items():
            print(f"{k:<28} {v!s:>12}   {'<= 1.10 (issue 18, N=875)' if k == 'dask_over_local' else ''}")
        print(json.dumps(results))
        return 0

    raw = raw_costs(pages, model, tmp)
    print(f"raw: extract {raw['extract_s']:.1f}s, tag {raw['tag_s']:.1f}s, load {raw['load_s']:.1f}s", flush=True)
    startup = prefect_startup(env)
    db = tmp / "e2e.duckdb"
    site.hits.clear()
    e2e, peak, _ = run_cli(["run", "--feeds", str(tmp / "feeds.toml"), "--db", str(db)], env)
    hits_first = sum(site.hits.values())
    print(f"e2e: {e2e:.1f}s (Prefect start-up {startup:.1f}s), process tree peak RSS {peak[0]:.0f} MiB, "
          f"PSS {peak[1]:.0f} MiB", flush=True)
    site.hits.clear()
    rerun, _, _ = run_cli(["run", "--feeds", str(tmp / "feeds.toml"), "--db", str(db)], env)
    rerun_requests = sum(site.hits.values())
    rerun_pages = sum(v for k, v in site.hits.items() if k.startswith("/a/"))
    counts = subprocess.run([str(BIN / "python"), "-c", (
        f"import duckdb; c=duckdb.connect({str(db)!r}, read_only=True); "
        "print(c.execute(\"SELECT count(*) FROM articles\").fetchone()[0], "
        "c.execute(\"SELECT feeds_not_modified, feeds_ok FROM runs ORDER BY started_at DESC LIMIT 1\").fetchone())")],
        capture_output=True, text=True, check=True).stdout.strip()
    print(f"re-run: {rerun:.1f}s, {rerun_requests} requests ({rerun_pages} article pages); {counts}", flush=True)
    long = {} if a.skip_long else long_lived(site, min(a.n, 300), tmp, env)
    rate = load_throughput(tmp)
    execs = {} if a.skip_executors else executors(site, min(a.n, 875), tmp, env, a.rounds)
    site.stop()

    e2e_net = e2e - startup
    results = {
        "n": a.n, "articles": raw["articles"], "words": raw["words"], "mentions": raw["mentions"],
        "raw_extract_s": round(raw["extract_s"], 2), "raw_tag_s": round(raw["tag_s"], 2),
        "raw_load_s": round(raw["load_s"], 2), "raw_s": round(raw["raw_s"], 2),
        "trafilatura_defaults_s": round(raw["trafilatura_s"], 2),
        "extract_over_trafilatura": round(raw["extract_s"] / raw["trafilatura_s"], 2),
        "prefect_startup_s": round(startup, 2), "e2e_s": round(e2e, 2), "e2e_minus_startup_s": round(e2e_net, 2),
        "e2e_over_raw": round(e2e_net / raw["raw_s"], 3), "requests_first_run": hits_first,
        "rerun_s": round(rerun, 2), "rerun_requests": rerun_requests, "rerun_article_pages": rerun_pages,
        "rerun_minus_startup_s": round(rerun - startup, 2), "peak_rss_mib": round(peak[0]),
        "peak_pss_mib": round(peak[1]),
        **{k: round(v, 1) for k, v in long.items()}, "load_mention_rows_per_s": round(rate), **execs,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    print()
    print(f"{'figure':<28} {'value':>12}   target")
    targets = {"e2e_over_raw": "<= 0.65",
               "extract_over_trafilatura": "<= 1.5", "rerun_article_pages": "0", "rerun_minus_startup_s": "<= 1 s",
               "peak_pss_mib": "<= 1536 at N=2000 (all processes)", "rss_growth_mib": "< 100",
               "load_mention_rows_per_s": ">= 20000", "dask_over_local": "<= 1.10 (N=875, 2 workers)"}
    for k, v in results.items():
        print(f"{k:<28} {v!s:>12}   {targets.get(k, '')}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
