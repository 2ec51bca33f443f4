"""The knowledge base's cost and side effects: size by source, tagger build time, a worker's memory,
and sport labels on non-sport pages (names must not leak into political or world news)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SPORT_LABELS = {"TEAM", "COACH", "PLAYER", "COMPETITION", "VENUE"}
# A tagging worker: build the tagger, tag the BBC texts, report the peak resident memory.
WORKER = """
import sys, time
from pathlib import Path
from tasks.tag import get_tagger
t, c = time.perf_counter(), time.process_time()
tagger = get_tagger(sys.argv[1])
built, cpu = time.perf_counter() - t, time.process_time() - c
texts = [p.read_text(encoding="utf-8") for p in sorted(Path(sys.argv[2]).glob("*.txt"))][:200]
for _ in tagger.tag_texts(texts):
    pass
# the worker's own peak (VmHWM): ru_maxrss would also count what the process inherited from its parent
try:
    peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
except OSError:  # not Linux
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{built:.2f} {cpu:.2f} {peak / 1024:.0f}")
"""


def non_sport_pages(folder: Path) -> list[tuple[str, str]]:
    """(id, truth body) of the corpus pages marked not about sport."""
    manifest = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines() if line.strip()]
    return [(m["id"], (folder / f"{m['id']}.truth.txt").read_text(encoding="utf-8"))
            for m in manifest if m.get("is_sports") is False and (folder / f"{m['id']}.truth.txt").is_file()]


def eval_kb() -> None:
    """Print KB size by source, build time and worker RSS, and sport labels per 1,000 non-sport words."""
    from pressbox.settings import get_settings
    from tasks.kb import default_kb, stats
    from tasks.tag import get_tagger

    model = get_settings().spacy_model
    by_source = stats(default_kb())["source"]
    print(f"## knowledge base: {len(default_kb().entities):,} entities; by source {by_source}")
    res = subprocess.run([sys.executable, "-c", WORKER, model, str(SHARED / "corpus" / "texts")], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    built, cpu, rss = res.stdout.split()
    # CPU time too: on a shared machine the wall clock measures the neighbours
    print(f"tagger build {built} s wall, {cpu} s CPU (target <= 5 s); a tagging worker after 200 BBC texts: "
          f"{rss} MB RSS (target <= 600 MB)")
    folder = SHARED / "corpus" / "articles"
    if not (folder / "manifest.jsonl").is_file():
        return
    pages = non_sport_pages(folder)
    tagger = get_tagger(model)
    start = time.perf_counter()
    names: Counter[tuple[str, str]] = Counter()
    words = sum(len(body.split()) for _, body in pages)
    for (_, _body), tags in zip(pages, tagger.tag_texts(body for _, body in pages), strict=True):
        names.update((t.label, t.text) for t in tags if t.label in SPORT_LABELS)
    total = sum(names.values())
    print(f"non-sport pages ({len(pages)}, {words:,} words, {time.perf_counter() - start:.0f} s): "
          f"{total / words * 1000:.1f} sport labels per 1,000 words (target <= 1.5); most: "
          + ", ".join(f"{text} {label} x{n}" for (label, text), n in names.most_common(8)) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    eval_kb()
