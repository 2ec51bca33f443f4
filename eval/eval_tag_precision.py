"""Tagging precision on news that is not sport: sport labels per 1,000 words on non-sport pages.

Reads ../shared/corpus/articles (manifest.jsonl, `is_sports: false`), tags each page's truth body
through the same tagger `pressbox tag` runs (language gate included), and prints how many sport
labels (TEAM/COACH/PLAYER/COMPETITION/VENUE) it finds per 1,000 words, with the most frequent ones.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

SPORT = {"TEAM", "COACH", "PLAYER", "COMPETITION", "VENUE"}


def non_sport_pages(folder: Path) -> list[tuple[str, str]]:
    """(id, truth body) of every non-sport page in the corpus manifest."""
    manifest = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines() if line.strip()]
    return [(m["id"], (folder / m["truth_file"]).read_text(encoding="utf-8"))
            for m in manifest if not m.get("is_sports") and (folder / m.get("truth_file", "")).is_file()]


def ids_by_name(tagged: list) -> dict[str, set[str]]:
    """Canonical name -> the entity ids it was given over the texts tagged (article-local ids of lone
    surnames left out: they have no warehouse entity)."""
    from schemas.records import is_local_id

    ids: dict[str, set[str]] = {}
    for tags in tagged:
        for t in tags:
            if not is_local_id(t.entity_id):
                ids.setdefault(t.canonical, set()).add(t.entity_id)
    return ids


def eval_tag_precision(shared: Path, out: Path) -> dict:
    """Print and return sport labels per 1,000 words on the corpus's non-sport pages (target <= 1.5)."""
    from pressbox.settings import get_settings
    from tasks.tag import get_tagger

    folder = shared / "corpus" / "articles"
    if not (folder / "manifest.jsonl").is_file():
        return {}
    pages = non_sport_pages(folder)
    tagger = get_tagger(get_settings().spacy_model)
    words = sum(len(text.split()) for _, text in pages)
    top: Counter[tuple[str, str]] = Counter()
    tagged = []
    with (out / "tags-nonsport.jsonl").open("w", encoding="utf-8") as fh:
        for (page_id, _), tags in zip(pages, tagger.tag_texts(text for _, text in pages), strict=True):
            fh.write(json.dumps({"id": page_id, "entities": [t.as_json() for t in tags]}, ensure_ascii=False) + "\n")
            top.update((t.text, t.label) for t in tags if t.label in SPORT)
            tagged.append(tags)
    ids = ids_by_name(tagged)
    split = sorted(name for name, found in ids.items() if len(found) > 1)
    n = sum(top.values())
    rate = n / words * 1000 if words else 0.0
    print(f"## tagging precision on non-sport news ({len(pages)} pages, {words:,} words)")
    print(f"sport labels per 1,000 words: {rate:.2f} ({n} labels; target <= 1.5)")
    print("most frequent: " + ", ".join(f"{t} {lab} x{c}" for (t, lab), c in top.most_common(12)))
    print(f"canonical names with more than one entity id: {len(split)} of {len(ids):,} (target 0) "
          + ", ".join(split[:10]) + "\n")
    return {"pages": len(pages), "words": words, "sport_labels": n, "per_1000_words": rate,
            "names_with_several_ids": len(split)}
