#!/usr/bin/env python3
"""The stories stage's cost (issue 17): the text signal per article, and the stage's share of a run.

1. text signal: the MinHash of every BBC text of ../shared/corpus/texts (737), ms per article
   (target <= 2 ms);
2. share of a run: N pages (BBC texts wrapped as pages, as `make bench` serves them) go through what
   a run does to an article in one process - extraction (tasks/extract.build_article), tagging and
   enrichment (tasks/enrich.enrich_articles) and the load in batches of 50 (tasks/load.load_batch) -
   with the story assignment inside each load timed on its own (signatures, the index lookup in the
   warehouse, the writes). Fetching, Prefect and the feeds are left out, so the share is an upper
   bound (target <= 5%);
3. the index's growth: the same load after 20,000 synthetic signatures of the last four days are
   stored under pairings of the teams these articles name, so each batch's lookup meets history.

Prints a table and one JSON line. Figures, not pass/fail. Usage: bench_stories.py [--n 200]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
SHARED = ROOT.parent / "shared"


def text_signal() -> dict:
    """MinHash ms/article over the BBC texts (after one warm-up, which draws the permutations)."""
    from tasks.stories import minhash

    texts = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "corpus" / "texts").glob("*.txt"))]
    minhash(texts[0])
    start = time.perf_counter()
    for t in texts:
        minhash(t)
    ms = (time.perf_counter() - start) / len(texts) * 1000
    return {"texts": len(texts), "minhash_ms_per_article": round(ms, 3),
            "words_per_text": round(sum(len(t.split()) for t in texts) / len(texts))}


def seed_history(db: Path, count: int, teams: list[str]) -> None:
    """`count` synthetic signatures of the last four days, each keyed under two of the teams the new
    articles name (a pairing), so every batch's lookup meets history: one team in common is not a
    candidate, a pairing is."""
    from tasks import load

    t0 = datetime(2026, 11, 23, tzinfo=UTC)
    with load.transaction(db) as con:
        con.execute(
            """INSERT INTO story_signatures
               SELECT 'hist' || i, 'sh' || i, 'hist', ?::TIMESTAMPTZ - to_minutes(CAST(i % 5760 AS BIGINT)),
                      'History ' || i, unhex({distinct}),
                      [(?::VARCHAR[])[1 + i % ?], (?::VARCHAR[])[1 + (i * 7 + 3) % ?]], [], NULL, false, [], [],
                      false, false, 'new', NULL, NULL, now()
               FROM range(?) r(i)""".replace("{distinct}", " || ".join(f"md5('{k}-' || i)" for k in range(16))),
            [t0, teams, len(teams), teams, len(teams), count])  # a distinct MinHash each (16 md5s)
        con.execute("""INSERT INTO story_keys SELECT 't:' || unnest(teams), article_id, published_at
                       FROM story_signatures WHERE feed_id = 'hist'""")


def run_share(n: int, model: str, history: int) -> dict:
    """Extraction, enrichment and load of n pages; the story assignment inside the load timed apart."""
    from run_bench import corpus_pages

    from schemas.records import FeedEntry, Response
    from tasks import load
    from tasks.enrich import enrich_articles
    from tasks.extract import build_article
    from tasks.tag import get_tagger

    pages = corpus_pages()
    pages = pages[len(pages) - 737:][:n] if len(pages) >= 737 else pages[:n]  # the BBC texts as pages
    tagger = get_tagger(model)
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    articles = []
    for i, page in enumerate(pages):
        url = f"http://bench.example/a/{i}"
        entry = FeedEntry("f", f"s{i}", url, url, title=None,
                          published_at=datetime(2026, 11, 23, tzinfo=UTC) + timedelta(minutes=20 * i))
        art = build_article(entry, Response(url, url, 200, page, "text/html", {}, now, 0.0))
        if not hasattr(art, "error_type"):
            articles.append(art)
    extract_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    tagged = []
    for i in range(0, len(articles), 50):
        tagged += enrich_articles(tagger, articles[i : i + 50])
    enrich_s = time.perf_counter() - t0

    spent = [0.0]
    real = load.assign_stories

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t

    out = {"articles": len(articles), "extract_s": round(extract_s, 2), "enrich_s": round(enrich_s, 2)}
    for label, seeded in (("empty", 0), ("history", history)):
        spent[0] = 0.0
        load.assign_stories = timed
        try:
            with tempfile.TemporaryDirectory() as tmp:
                db = Path(tmp) / "stories.duckdb"
                load.prepare(db, [])
                if seeded:
                    seed_history(db, seeded, sorted({m.entity_id for t in tagged for m in t.mentions
                                                     if m.label == "TEAM"}) or ["team/none"])
                t0 = time.perf_counter()
                for i in range(0, len(tagged), 50):
                    load.load_batch(db, "bench", tagged[i : i + 50], [], 3)
                load_s = time.perf_counter() - t0
                joined = load.query(db, "SELECT count(*) FROM story_signatures WHERE reason <> 'new' "
                                        "AND feed_id <> 'hist'")[1][0][0]
        finally:
            load.assign_stories = real
        total = extract_s + enrich_s + load_s
        out[label] = {"signatures_before": seeded, "load_s": round(load_s, 2), "stories_s": round(spent[0], 3),
                      "stories_ms_per_article": round(spent[0] / len(tagged) * 1000, 2),
                      "share_of_run": round(spent[0] / total, 4), "joined_a_story": joined}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="pages through the run (default 200)")
    ap.add_argument("--history", type=int, default=20_000, help="stored signatures for the second load")
    args = ap.parse_args()
    if not (SHARED / "corpus" / "texts").is_dir():
        print("../shared/corpus/texts is absent: nothing to measure")
        return 0
    from pressbox.settings import get_settings

    signal = text_signal()
    share = run_share(args.n, get_settings().spacy_model, args.history)
    print("## stories: cost")
    print(f"text signal (MinHash, {signal['texts']} BBC texts of {signal['words_per_text']} words): "
          f"{signal['minhash_ms_per_article']:.2f} ms/article (target <= 2 ms)")
    print(f"a run of {share['articles']} pages in one process: extraction {share['extract_s']} s, "
          f"tagging + enrichment {share['enrich_s']} s")
    for label in ("empty", "history"):
        r = share[label]
        print(f"  load into a warehouse with {r['signatures_before']:>6} signatures: load {r['load_s']} s, of which "
              f"stories {r['stories_s']} s = {r['stories_ms_per_article']} ms/article = {r['share_of_run']:.1%} "
              f"of the run (target <= 5%); {r['joined_a_story']} joined a story")
    print(json.dumps({"text_signal": signal, "run": share}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
