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

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
OUT = ROOT / "eval" / "out"


def score(script: str, *args: str) -> str:
    """Run one of the shared scorers and return what it printed."""
    res = subprocess.run([sys.executable, str(SHARED / "eval" / script), *args], capture_output=True, text=True,
                         check=True)
    return res.stdout


def eval_extraction() -> None:
    from tasks.extract import extract_html

    folder = SHARED / "corpus" / "articles"
    manifest = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines() if line.strip()]
    pred = OUT / "extract.jsonl"
    start = time.perf_counter()
    with pred.open("w", encoding="utf-8") as fh:
        for item in manifest:
            ex = extract_html(gzip.decompress((folder / item["html_file"]).read_bytes()), item["url"])
            fh.write(json.dumps({"id": item["id"], "body": ex.body}) + "\n")
    per_page = (time.perf_counter() - start) / len(manifest) * 1000
    print(f"## extraction ({len(manifest)} pages, {per_page:.1f} ms/page)")
    print(score("score_extract.py", str(folder), str(pred), "--worst", "5"))


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
    from tasks.tag import EXCLUDED_COMPONENTS, get_tagger

    folder = SHARED / "corpus" / "texts"
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))] if folder.is_dir() else []
    if not texts:
        texts = [json.loads(line)["text"] for line in (SHARED / "gold" / "dev.jsonl").read_text().splitlines() if line]
    model = get_settings().spacy_model
    words = sum(len(t.split()) for t in texts)
    bare = spacy.load(model, exclude=EXCLUDED_COMPONENTS)
    tagger = get_tagger(model)
    rates = {}
    for name, run in (("bare model", lambda: list(bare.pipe(texts, batch_size=32))),
                      ("pressbox tagger", lambda: list(tagger.tag_texts(texts)))):
        run()  # warm up
        start = time.perf_counter()
        run()
        rates[name] = words / (time.perf_counter() - start)
    overhead = rates["bare model"] / rates["pressbox tagger"] - 1
    print(f"## tagging speed ({len(texts)} texts, {words:,} words, one process)")
    for name, rate in rates.items():
        print(f"{name:<16} {rate:>10,.0f} words/s")
    print(f"sports layer overhead: {overhead:+.0%} (target < +30%)\n")


def main() -> int:
    if not (SHARED / "eval").is_dir():
        print(f"skipped: no shared evaluation material at {SHARED}")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    eval_extraction()
    eval_tagging()
    eval_speed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
