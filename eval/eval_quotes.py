#!/usr/bin/env python3
"""Quotes: score ../shared/gold quotes (dev and seed) and time the stage against tagging.

Runs the code `pressbox quotes` runs (tag, then tasks.quotes), writes eval/out/quotes-*.jsonl, prints
../shared/eval/score_quotes.py's figures, then the stage's cost as a share of tagging time on the
737 BBC texts, and how many of them raised (must be none).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
OUT = ROOT / "eval" / "out"
sys.path.insert(0, str(ROOT))


def eval_quotes(shared: Path = SHARED, errors: int = 0, timing: bool = True) -> None:
    """Quote F1, speaker, role and team on the dev set and the seed; the stage's cost on the corpus."""
    from pressbox.settings import get_settings
    from tasks.quotes import extract_quotes, quote_json
    from tasks.tag import get_tagger

    tagger = get_tagger(get_settings().spacy_model)
    OUT.mkdir(parents=True, exist_ok=True)
    for name in ("seed", "dev"):
        gold = shared / "gold" / f"{'seed.quotes' if name == 'seed' else 'quotes.dev'}.jsonl"
        docs = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
        pred = OUT / f"quotes-{name}.jsonl"
        with pred.open("w", encoding="utf-8") as fh:
            for doc, tags in zip(docs, tagger.tag_texts(d["text"] for d in docs), strict=True):
                quotes = extract_quotes(doc["text"], tagger.mentions(tags), tagger.kb)
                fh.write(json.dumps({"id": doc["id"], "quotes": [quote_json(q) for q in quotes]},
                                    ensure_ascii=False) + "\n")
        res = subprocess.run([sys.executable, str(shared / "eval" / "score_quotes.py"), str(gold), str(pred),
                              "--errors", str(errors)], capture_output=True, text=True, check=True)
        print(f"## quotes: {name} ({len(docs)} texts)")
        print(res.stdout)
    folder = shared / "corpus" / "texts"
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]
    if not texts or not timing:
        return
    start = time.perf_counter()
    tagged = [tagger.mentions(tags) for tags in tagger.tag_texts(texts)]
    tag_time = time.perf_counter() - start
    start = time.perf_counter()
    raised = found = 0
    for text, mentions in zip(texts, tagged, strict=True):
        try:
            found += len(extract_quotes(text, mentions, tagger.kb))
        except Exception:  # noqa: BLE001 - counted: the figure must be 0
            raised += 1
    quote_time = time.perf_counter() - start
    print(f"## quotes stage cost ({len(texts)} BBC texts): {quote_time:.2f} s vs tagging {tag_time:.2f} s = "
          f"{quote_time / tag_time:.1%} of tagging (target <= 10%); {found} quotes; documents that raised: {raised}\n")


if __name__ == "__main__":
    # usage: eval_quotes.py [SHARED_DIR] [N_ERRORS_TO_PRINT]
    eval_quotes(Path(sys.argv[1]) if len(sys.argv) > 1 else SHARED, int(sys.argv[2]) if len(sys.argv) > 2 else 0,
                "--no-timing" not in sys.argv)
