"""The sports knowledge base: entities, aliases and the places they are named after."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

RULES_VERSION = "2"  # bump when the rules in tasks/tag.py change what they tag
KB_DIR = Path(__file__).resolve().parent.parent / "pressbox" / "kb"
SPORTS_LABELS = ("TEAM", "COACH", "PLAYER", "COMPETITION", "VENUE")
KB_LABELS = (*SPORTS_LABELS, "PLACE", "ORG")  # ORG: governing bodies and other non-team organisations


@lru_cache(maxsize=65536)  # called for every span of every article: names repeat
def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive key for a name."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("’", "'")
    text = re.sub(r"[^\w\s']", " ", text)
    return " ".join(text.split())


def slug(text: str) -> str:
    """URL-safe form of a name, for stable entity ids."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text).replace("'", "")).strip("-")


@dataclass(frozen=True)
class Entity:
    """One canonical entity of the knowledge base."""

    id: str
    label: str
    name: str  # English Wikipedia title
    aliases: tuple[str, ...]
    qid: str | None = None
    sport: str | None = None
    country: str | None = None
    city: str | None = None
    teams: tuple[str, ...] = ()  # for coaches and players: ids of their teams
    years: str | None = None
    weak: tuple[str, ...] = ()  # nicknames, surnames, city names: need support from the text
    strict: tuple[str, ...] = ()  # common words ("United", "Derby"): only when the text names it outright
    player_too: bool = False  # a coach who was a notable player: the article's context decides

    @property
    def weak_keys(self) -> frozenset[str]:
        """Folded weak aliases."""
        return frozenset(fold(a) for a in (*self.weak, *self.strict))

    @property
    def strict_keys(self) -> frozenset[str]:
        """Folded strict aliases."""
        return frozenset(fold(a) for a in self.strict)


@dataclass
class KnowledgeBase:
    """All entities, with an alias index; aliases shared by several entities are ambiguous."""

    entities: dict[str, Entity]
    by_alias: dict[str, list[Entity]] = field(default_factory=dict)
    places: set[str] = field(default_factory=set)  # folded names of cities and countries
    digest: str = ""

    def candidates(self, surface: str) -> list[Entity]:
        """Entities a surface string may name."""
        return self.by_alias.get(fold(surface), [])


def load_kb(directory: Path = KB_DIR) -> KnowledgeBase:
    """Read every *.jsonl file of the knowledge base directory."""
    entities: dict[str, Entity] = {}
    digest = hashlib.sha1()
    for path in sorted(directory.glob("*.jsonl")):
        raw = path.read_bytes()
        digest.update(raw)
        for n, line in enumerate(raw.decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            if rec["id"] in entities:
                raise ValueError(f"{path.name}:{n}: duplicate id {rec['id']}")
            entities[rec["id"]] = Entity(
                id=rec["id"],
                label=rec["label"],
                name=rec["name"],
                aliases=tuple(dict.fromkeys([rec["name"], *rec.get("aliases", [])])),
                qid=rec.get("qid"),
                sport=rec.get("sport"),
                country=rec.get("country"),
                city=rec.get("city"),
                teams=tuple(rec.get("teams", [])),
                years=rec.get("years"),
                weak=tuple(rec.get("weak", [])),
                strict=tuple(rec.get("strict", [])),
                player_too=bool(rec.get("player_too", False)),
            )
    kb = KnowledgeBase(entities=entities, digest=digest.hexdigest()[:10])
    for ent in entities.values():
        for alias in (*ent.aliases, *ent.weak, *ent.strict):
            if ent.label != "PLACE" and alias == ent.name and _is_disambiguated_title(alias):
                continue  # "Mason Rudolph (American football)" is never written in text
            bucket = kb.by_alias.setdefault(fold(alias), [])
            if ent not in bucket:
                bucket.append(ent)
        if ent.label == "PLACE":
            kb.places.update(fold(a) for a in ent.aliases)
        for place in (ent.city, ent.country):
            if place:
                kb.places.add(fold(place))
    return kb


def _is_disambiguated_title(name: str) -> bool:
    return name.endswith(")") and "(" in name


@cache
def default_kb() -> KnowledgeBase:
    """The shipped knowledge base, loaded once per process."""
    return load_kb()


def tagger_version(model_name: str, kb: KnowledgeBase | None = None) -> str:
    """rules + knowledge base + model: the version stored on articles.

    Computed from package metadata, so knowing it loads neither spaCy nor the model.
    """
    kb = kb or default_kb()
    try:
        model = importlib.metadata.version(model_name)
    except importlib.metadata.PackageNotFoundError:
        model = "?"
    return f"r{RULES_VERSION}-kb{kb.digest}-{model_name}@{model}"
