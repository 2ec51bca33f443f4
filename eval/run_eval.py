#!/usr/bin/env python3
"""`make eval`: score extraction and tagging with the shared scorers in ../shared/eval.

Runs the same code `pressbox extract` and `pressbox tag` run, writes the predictions to
eval/out/, and prints each scorer's table. Skips (exit 0) when ../shared is absent.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

from eval_matches import eval_matches
from eval_tag_precision import eval_tag_precision, ids_by_name

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
OUT = ROOT / "eval" / "out"


def score(script: str, *args: str) -> str:
    """Run one of the shared scorers and return what it printed."""
    res = subprocess.run([sys.executable, str(SHARED / "eval" / script), *args], capture_output=True, text=True,
                         check=True)
    return res.stdout


def eval_extraction() -> None:
    """Score bodies against ground truth, timing pressbox and trafilatura's defaults page by page."""
    import trafilatura

    from tasks.extract import extract_html

    folder = SHARED / "corpus" / "articles"
    manifest = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines() if line.strip()]
    pages = [(item, gzip.decompress((folder / item["html_file"]).read_bytes())) for item in manifest]
    extract_html(pages[0][1], pages[0][0]["url"]), trafilatura.extract(pages[0][1], url=pages[0][0]["url"])  # warm
    ours = theirs = 0.0
    methods: dict[str, int] = {}
    pred = OUT / "extract.jsonl"
    with pred.open("w", encoding="utf-8") as fh:
        for item, html in pages:  # interleaved, so both see the same machine load
            t0 = time.perf_counter()
            trafilatura.extract(html, url=item["url"])
            t1 = time.perf_counter()
            ex = extract_html(html, item["url"])
            ours, theirs = ours + time.perf_counter() - t1, theirs + t1 - t0
            kind = ex.method.split("(")[0].split("+")[0]
            methods[kind] = methods.get(kind, 0) + 1
            fh.write(json.dumps({"id": item["id"], "body": ex.body, "extraction_method": ex.method}) + "\n")
    n = len(pages)
    print(f"## extraction ({n} pages): pressbox {ours / n * 1000:.1f} ms/page, trafilatura defaults "
          f"{theirs / n * 1000:.1f} ms/page = {ours / theirs:.2f}x (target <= 1.5x); winners {methods}")
    print(score("score_extract.py", str(folder), str(pred), "--worst", "5"))
    eval_snippets()


def eval_snippets() -> None:
    """The second check: must-contain / must-not-contain snippets on 32 more pages (no rule is tuned to them)."""
    from tasks.extract import extract_html

    folder = SHARED / "corpus" / "articles_snippets"
    if not folder.is_dir():
        return
    norm = lambda text: " ".join(text.split()).casefold()  # noqa: E731
    found = wanted = kept_out = unwanted = dated = with_date = 0
    for expect_file in sorted(folder.glob("*.expect.json")):
        expect = json.loads(expect_file.read_text(encoding="utf-8"))
        html = gzip.decompress((folder / expect_file.name.replace(".expect.json", ".html.gz")).read_bytes())
        ex = extract_html(html, expect["url"])
        body = norm(ex.body)
        found += sum(norm(s) in body for s in expect.get("with", []))
        wanted += len(expect.get("with", []))
        kept_out += sum(norm(s) not in body for s in expect.get("without", []))
        unwanted += len(expect.get("without", []))
        if expect.get("date"):
            with_date += 1
            dated += bool(ex.published_at and ex.published_at.date().isoformat() == expect["date"])
    print(f"## extraction snippets ({len(list(folder.glob('*.expect.json')))} pages): must-contain {found}/{wanted}, "
          f"must-not-contain {kept_out}/{unwanted}, publication date right {dated}/{with_date}\n")


def eval_tagging() -> None:
    from pressbox.settings import get_settings
    from tasks.tag import get_tagger

    tagger = get_tagger(get_settings().spacy_model)
    for name in ("seed", "dev"):
        gold = SHARED / "gold" / f"{name}.jsonl"
        docs = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
        pred = OUT / f"tags-{name}.jsonl"
        start = time.perf_counter()
        with pred.open("w", encoding="utf-8") as fh:
            for doc, tags in zip(docs, tagger.tag_texts(d["text"] for d in docs), strict=True):
                fh.write(json.dumps({"id": doc["id"], "entities": [t.as_json() for t in tags]}, ensure_ascii=False)
                         + "\n")
        words = sum(len(d["text"].split()) for d in docs)
        rate = words / (time.perf_counter() - start)
        print(f"## tagging: {name} ({len(docs)} texts, {rate:,.0f} words/s, {tagger.version})")
        print(score("score_tags.py", str(gold), str(pred), "--errors", "0"))


def eval_speed() -> None:
    """Words per second of the full tagger against the bare statistical model (same components)."""
    import spacy

    from pressbox.settings import get_settings
    from tasks.tag import EXCLUDED_COMPONENTS, PIPE_BATCH, get_tagger

    folder = SHARED / "corpus" / "texts"
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))] if folder.is_dir() else []
    if not texts:
        texts = [json.loads(line)["text"] for line in (SHARED / "gold" / "dev.jsonl").read_text().splitlines() if line]
    model = get_settings().spacy_model
    words = sum(len(t.split()) for t in texts)
    bare = spacy.load(model, exclude=EXCLUDED_COMPONENTS)
    tagger = get_tagger(model)
    rates = {}
    out: list = []
    for name, run in (("bare model", lambda: list(bare.pipe(texts, batch_size=PIPE_BATCH))),
                      ("pressbox tagger", lambda: list(tagger.tag_texts(texts)))):
        run()  # warm up
        start = time.perf_counter()
        out = run()
        rates[name] = words / (time.perf_counter() - start)
    overhead = rates["bare model"] / rates["pressbox tagger"] - 1
    print(f"## tagging speed ({len(texts)} texts, {words:,} words, one process)")
    for name, rate in rates.items():
        print(f"{name:<16} {rate:>10,.0f} words/s")
    print(f"sports layer overhead: {overhead:+.0%} (target < +30%)")
    print_identity(out)


def print_identity(tagged: list) -> None:
    """Canonical names with more than one entity id over the texts just tagged (article-local ids of
    lone surnames left out: they have no warehouse entity), and how many are one name in two sports."""
    ids = ids_by_name(tagged)
    multi = {name: found for name, found in ids.items() if len(found) > 1}
    sports = [name for name, found in multi.items()
              if all(i.startswith("name/") for i in found) and len({i.split("/")[1] for i in found}) == len(found)]
    print(f"identity: {len(multi)} of {len(ids):,} canonical names have more than one entity id, {len(sports)} of "
          f"them one name in several sports (name/<sport>/...); others: "
          + ", ".join(sorted(set(multi) - set(sports))[:10]) + "\n")


def main() -> int:
    if not (SHARED / "eval").is_dir():
        print(f"skipped: no shared evaluation material at {SHARED}")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    eval_extraction()
    eval_tagging()
    eval_tag_precision(SHARED, OUT)
    eval_speed()
    __import__("eval_quotes").eval_quotes(SHARED)
    eval_matches()
    __import__("eval_stories").eval_stories()  # eval/eval_stories.py: dev clusters, BBC near-duplicates, cost
    __import__("eval_kb").eval_kb()  # eval/eval_kb.py: KB size, build time, RSS, non-sport pages
    return 0


if __name__ == "__main__":
    sys.exit(main())
