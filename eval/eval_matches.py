"""Match facts: score `pressbox matches` output on the shared dev and seed sets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ../shared from the main checkout, ../../shared from a worktree under wt/
SHARED = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()),
              ROOT.parent / "shared")
OUT = ROOT / "eval" / "out"


def eval_matches(errors: int = 0) -> None:
    """Read match facts from matches.dev.jsonl and seed.matches.jsonl and print score_matches.py's figures."""
    from pressbox.settings import get_settings
    from tasks.matches import as_json, match_texts
    from tasks.tag import get_tagger

    tagger = get_tagger(get_settings().spacy_model)
    OUT.mkdir(parents=True, exist_ok=True)
    for name in ("seed.matches", "matches.dev"):
        gold = SHARED / "gold" / f"{name}.jsonl"
        docs = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
        pred = OUT / f"{name}.pred.jsonl"
        with pred.open("w", encoding="utf-8") as fh:
            for doc, (is_report, facts) in zip(docs, match_texts(tagger, [d["text"] for d in docs]), strict=True):
                fh.write(json.dumps({"id": doc["id"], **as_json(is_report, facts)}, ensure_ascii=False) + "\n")
        res = subprocess.run([sys.executable, str(SHARED / "eval" / "score_matches.py"), str(gold), str(pred),
                              "--errors", str(errors)], capture_output=True, text=True, check=True)
        print(f"## match facts: {name} ({len(docs)} texts)")
        print(res.stdout)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    eval_matches(errors=int(sys.argv[1]) if len(sys.argv) > 1 else 50)
