#!/usr/bin/env python3
"""Stories: dev clusters scored by ../shared/eval/score_clusters.py, near-duplicates among the BBC
texts, and the cost of the text signal (run by `make eval`, or alone)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ../shared from the main checkout, ../../shared from a worktree under wt/
SHARED = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()),
              ROOT.parent / "shared")
OUT = ROOT / "eval" / "out"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def eval_dev(tagger) -> None:
    """Cluster the dev feed items (titles and summaries only) and score them."""
    from pressbox.settings import get_settings
    from tasks.stories import cluster_items, story_params

    gold_in = SHARED / "gold" / "stories.dev.input.jsonl"
    items = [json.loads(line) for line in gold_in.read_text(encoding="utf-8").splitlines() if line.strip()]
    assignments = cluster_items(items, tagger, story_params(get_settings()))
    pred = OUT / "stories-dev.jsonl"
    with pred.open("w", encoding="utf-8") as fh:
        for a in assignments:
            fh.write(json.dumps({"id": a.article_id, "cluster": a.story_id}) + "\n")
    res = subprocess.run([sys.executable, str(SHARED / "eval" / "score_clusters.py"),
                          str(SHARED / "gold" / "stories.dev.jsonl"), str(pred)], capture_output=True, text=True,
                         check=True)
    print(f"## stories: dev ({len(items)} feed items, titles and summaries only)")
    print(res.stdout)
    by_story: dict[str, list] = {}
    for a in assignments:
        by_story.setdefault(a.story_id, []).append(a)
    title = {d["id"]: d["title"] for d in items}
    for members in by_story.values():
        if len(members) > 1:
            print("  " + " + ".join(f"{title[m.article_id][:40]!r} ({m.reason})" for m in members))


def eval_corpus_duplicates(sample: int = 12) -> None:
    """Every near-duplicate pair among the BBC texts, found through the LSH bands the warehouse uses."""
    from tasks.stories import NEAR_DUPLICATE, band_keys, jaccard, minhash

    folder = SHARED / "corpus" / "texts"
    paths = sorted(folder.glob("*.txt"))
    texts = {p.stem: p.read_text(encoding="utf-8") for p in paths}
    start = time.perf_counter()
    sigs = {k: minhash(t) for k, t in texts.items()}
    per_doc = (time.perf_counter() - start) / len(texts) * 1000
    buckets: dict[str, list[str]] = {}
    for k, mh in sigs.items():
        for b in band_keys(mh):
            buckets.setdefault(b, []).append(k)
    candidates = {tuple(sorted(p)) for ids in buckets.values() for p in itertools.combinations(ids, 2)}
    found = sorted((p for p in candidates if jaccard(sigs[p[0]], sigs[p[1]]) >= NEAR_DUPLICATE),
                   key=lambda p: -jaccard(sigs[p[0]], sigs[p[1]]))
    # the reference: every pair, exact Jaccard of the same shingles (what LSH must not miss)
    from tasks.stories import shingles

    sh = {k: set(shingles(t)) for k, t in texts.items()}
    truth = {p for p in itertools.combinations(sorted(texts), 2)
             if len(sh[p[0]] & sh[p[1]]) / max(1, len(sh[p[0]] | sh[p[1]])) >= NEAR_DUPLICATE}
    exact = sum(texts[a].strip() == texts[b].strip() for a, b in found)
    words = sum(len(t.split()) for t in texts.values()) / len(texts)
    print(f"## stories: near-duplicates in the {len(texts)} BBC texts (MinHash {per_doc:.2f} ms/article, "
          f"{words:.0f} words on average; target <= 2 ms)")
    print(f"pairs found {len(found)} ({exact} exact copies, {len(found) - exact} reworded or trimmed); "
          f"pairs with true shingle Jaccard >= {NEAR_DUPLICATE}: {len(truth)}, missed {len(truth - set(found))}, "
          f"found below it {len(set(found) - truth)}")
    for a, b in found[:sample] + [p for p in found if texts[p[0]].strip() != texts[p[1]].strip()][:sample]:
        print(f"  {jaccard(sigs[a], sigs[b]):.2f} {a} = {b}: {texts[a][:60]!r} | {texts[b][:60]!r}")
    print()


def eval_cost(tagger, n: int = 200) -> None:
    """The stage's share of a run: tag and load BBC texts in batches of 50, timing story assignment
    (signatures, the index lookup, the writes) inside each load. Fetching and extraction are left
    out, so the share is an upper bound."""
    import tempfile
    from datetime import UTC, datetime, timedelta

    from schemas.records import Article, FeedConfig
    from tasks import load, stories
    from tasks.extract import content_hash
    from tasks.tag import tag_articles

    paths = sorted((SHARED / "corpus" / "texts").glob("*.txt"))[:n]
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    articles = []
    for i, p in enumerate(paths):
        text = p.read_text(encoding="utf-8")
        title, body = text[:60], text
        when = t0 + timedelta(minutes=30 * i)
        articles.append(Article(p.stem, f"https://bbc.example/{p.stem}", f"https://bbc.example/{p.stem}", "bbc",
                                p.stem, title, body, None, None, when, when, "en", None, None,
                                content_hash(title, body), "text", len(body.split())))
    start = time.perf_counter()
    tagged = tag_articles(tagger, articles)
    tag_s = time.perf_counter() - start
    spent = [0.0]
    real = load.assign_stories

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t

    load.assign_stories = timed
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "cost.duckdb"
            load.prepare(db, [FeedConfig("bbc", "https://bbc.example/rss", "BBC")])
            start = time.perf_counter()
            for i in range(0, len(tagged), 50):
                load.load_batch(db, "eval", tagged[i : i + 50], [], 3, story_params=stories.StoryParams())
            load_s = time.perf_counter() - start
    finally:
        load.assign_stories = real
    k = len(tagged)
    print(f"## stories: cost ({k} BBC texts, batches of 50, one process)")
    print(f"tagging {tag_s / k * 1000:.1f} ms/article, load {load_s / k * 1000:.1f} ms/article of which stories "
          f"{spent[0] / k * 1000:.1f} ms/article = {spent[0] / (tag_s + load_s):.1%} of tag + load "
          f"(target <= 5% of a run)\n")


def main() -> int:
    """Run the stories evaluation alone."""
    from pressbox.settings import get_settings
    from tasks.tag import get_tagger

    OUT.mkdir(parents=True, exist_ok=True)
    eval_stories(get_tagger(get_settings().spacy_model))
    return 0


def eval_stories(tagger=None) -> None:
    """Everything `make eval` prints for stories."""
    if tagger is None:
        from pressbox.settings import get_settings
        from tasks.tag import get_tagger

        tagger = get_tagger(get_settings().spacy_model)
    eval_dev(tagger)
    eval_corpus_duplicates()
    eval_cost(tagger)


if __name__ == "__main__":
    sys.exit(main())
