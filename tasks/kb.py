"""The sports knowledge base: entities, aliases and the places they are named after."""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
import json
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path

RULES_VERSION = "6"  # bump when the rules in tasks/tag.py change what they tag
KB_DIR = Path(__file__).resolve().parent.parent / "pressbox" / "kb"
GENERATED = "generated"  # the sub-folder `pressbox kb build` writes; the curated files above it win
SPORTS_LABELS = ("TEAM", "COACH", "PLAYER", "COMPETITION", "VENUE")
KB_LABELS = (*SPORTS_LABELS, "PLACE", "ORG")  # ORG: governing bodies and other non-team organisations


@lru_cache(maxsize=65536)  # called for every span of every article: names repeat
def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive key for a name (character references decoded:
    "B&#233;ziers" of a text escaped twice is "Béziers")."""
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():  # most names are plain ASCII: skip the Unicode work for them
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c)).replace("’", "'")
    text = text.casefold()
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
    league: str | None = None  # a team's current league (a college programme's conference)
    tier: int | None = None  # that league's tier in its country's pyramid
    spells: tuple[tuple[str, int | None, int | None], ...] = ()  # a coach's (team id, first, last year)
    source: str = "curated"  # "curated", a generated source, or "curated+<source>" when they merged

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
    countries: set[str] = field(default_factory=set)  # folded names of the countries entities belong to
    digest: str = ""

    def candidates(self, surface: str) -> list[Entity]:
        """Entities a surface string may name."""
        return self.by_alias.get(fold(surface), [])


def _entity(rec: dict, source: str) -> Entity:
    return Entity(
        id=rec["id"],
        label=rec["label"],
        name=rec["name"],
        # the name is an alias too, unless the record lists it as weak (a person from a bulk list)
        aliases=tuple(dict.fromkeys([*([] if rec["name"] in rec.get("weak", ()) else [rec["name"]]),
                                     *rec.get("aliases", [])])),
        qid=rec.get("qid"),
        sport=rec.get("sport"),
        country=rec.get("country"),
        city=rec.get("city"),
        teams=tuple(rec.get("teams", [])),
        years=rec.get("years"),
        weak=tuple(rec.get("weak", [])),
        strict=tuple(rec.get("strict", [])),
        player_too=bool(rec.get("player_too", False)),
        league=rec.get("league"),
        tier=rec.get("tier"),
        spells=tuple((t, a, b) for t, a, b in rec.get("spells", [])),
        source=rec.get("source", source),
    )


def _read(directory: Path, digest: hashlib._Hash, source: str) -> list[Entity]:
    """The entities of every *.jsonl file of one folder, in file and line order."""
    out = []
    for path in sorted(directory.glob("*.jsonl")):
        raw = path.read_bytes()
        digest.update(raw)
        for line in raw.decode("utf-8").splitlines():
            if line.strip():
                out.append(_entity(json.loads(line), source))
    return out


def load_kb(directory: Path = KB_DIR) -> KnowledgeBase:
    """Read the generated layer (directory/generated) and the curated *.jsonl files, which win on conflict."""
    digest = hashlib.sha1()
    generated = _read(directory / GENERATED, digest, "generated") if (directory / GENERATED).is_dir() else []
    entities: dict[str, Entity] = {}
    for ent in _read(directory, digest, "curated"):
        if ent.id in entities:
            raise ValueError(f"duplicate id {ent.id} in {directory}")
        entities[ent.id] = ent
    _layer(entities, generated)
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
        if ent.country:
            kb.countries.add(fold(ent.country))
    return kb


def _layer(entities: dict[str, Entity], generated: list[Entity]) -> None:
    """Add the generated entities under the curated ones (in place).

    A generated entity that is a curated one (the same Wikidata id, or the same label and sport and a
    shared strong name, in a compatible country) merges into it: the curated id, name and fields win,
    and it gains the generated qid, missing fields and the aliases no other entity of its label and
    sport claims. Other generated entities are added, minus aliases a curated entity claims.
    """
    squashed: dict[str, str] = {}

    def _squash(name: str) -> str:
        """A looser key for telling two spellings of one name apart ("Arsenal F.C." = "Arsenal FC")."""
        key = squashed.get(name)
        if key is None:
            key = squashed[name] = fold(name).replace(" ", "")
        return key

    by_qid = {e.qid: e.id for e in entities.values() if e.qid}
    by_name: dict[tuple[str, str | None, str], list[str]] = {}
    for ent in entities.values():
        for alias in ent.aliases:
            by_name.setdefault((_kind(ent.label), _sport_key(ent), _squash(alias)), []).append(ent.id)
    claimed = {(_kind(e.label), e.sport, fold(a)) for e in entities.values() for a in (*e.aliases, *e.weak)}
    renamed: dict[str, str] = {}
    added: list[Entity] = []
    merged: set[tuple[str, str]] = set()  # (curated id, source): one generated entity per source merges
    # entities named exactly like a curated alias go first, so "FA Cup" beats "England FA Cup" to it
    for gen in sorted(generated, key=lambda e: not by_name.get((_kind(e.label), _sport_key(e), _squash(e.name)))):
        target = by_qid.get(gen.qid) if gen.qid else None
        if target is None:
            # a weak generated name counts too ("Arsenal" of Arsenal FC), but only within one country
            key = _sport_key(gen)
            hits = {i for a in (*gen.aliases, *gen.weak) for i in by_name.get((_kind(gen.label), key, _squash(a)), [])
                    if _same_country(entities[i], gen) and (a in gen.aliases or gen.country or a == gen.name)}
            target = min(hits) if len(hits) == 1 else None
            if len(hits) > 1:
                continue  # it is one of several curated entities: never a duplicate of them
        if target is not None and (target, gen.source) not in merged:
            merged.add((target, gen.source))
            entities[target] = _merge(entities[target], gen, claimed)
            renamed[gen.id] = target
            continue
        if target is not None:
            continue  # a second candidate for a curated entity already merged: a duplicate, left out
        new_id = gen.id if gen.id not in entities else f"{gen.id}-{slug(gen.source)}"
        renamed[gen.id] = new_id
        name = gen.name
        if (_kind(gen.label), gen.sport, fold(name)) in claimed:
            # a namesake of a curated entity: the qualified title is never matched, the bare name is weak
            name = f"{name} ({gen.country or gen.city or gen.source})"
        keep = tuple(a for a in gen.aliases if a != gen.name and (_kind(gen.label), gen.sport, fold(a)) not in claimed)
        if new_id == gen.id and name == gen.name and len(keep) == len([a for a in gen.aliases if a != gen.name]):
            added.append(gen)  # nothing to change (most people): no copy
            continue
        kept = {fold(k) for k in keep}
        weak = tuple(dict.fromkeys(a for a in (*gen.weak, *([gen.name] if name != gen.name else []))
                                   if fold(a) not in kept))
        # the name stays strong only if it was (a bulk list's person keeps a weak name)
        head = (name,) if gen.name in gen.aliases or name != gen.name else ()
        added.append(replace(gen, id=new_id, name=name, aliases=(*head, *keep), weak=weak))
    for ent in added:
        entities[ent.id] = ent
    for ent_id, ent in list(entities.items()):
        if ent.source != "curated" and (ent.teams or ent.spells):
            teams = tuple(t for t in (renamed.get(t, t) for t in ent.teams) if t in entities)
            spells = tuple((renamed.get(t, t), a, b) for t, a, b in ent.spells if renamed.get(t, t) in entities)
            if teams != ent.teams or spells != ent.spells:
                entities[ent_id] = replace(ent, teams=teams, spells=spells)


def _kind(label: str) -> str:
    """What must agree for two entities to be one: a person is one person as a player and as a coach."""
    return "PERSON" if label in ("PLAYER", "COACH") else label


def _sport_key(ent: Entity) -> str | None:
    """The sport two entities must share to be one: a ground is one ground whatever is played on it
    ("Stade de France" hosts rugby and football)."""
    return None if ent.label == "VENUE" else ent.sport


def _same_country(a: Entity, b: Entity) -> bool:
    return not (a.country and b.country) or fold(a.country) == fold(b.country)


def _merge(cur: Entity, gen: Entity, claimed: set[tuple[str, str | None, str]]) -> Entity:
    """The curated entity with what the generated one adds and does not contradict."""
    have = {fold(a) for a in (*cur.aliases, *cur.weak, *cur.strict)}
    free = lambda a: fold(a) not in have and (_kind(cur.label), cur.sport, fold(a)) not in claimed  # noqa: E731
    aliases = tuple(a for a in gen.aliases if free(a) and not _is_disambiguated_title(a))
    weak = tuple(a for a in gen.weak if free(a) and fold(a) not in {fold(x) for x in aliases})
    for a in (*aliases, *weak):
        claimed.add((_kind(cur.label), cur.sport, fold(a)))
    source = cur.source if gen.source in cur.source else f"{cur.source}+{gen.source}"
    return replace(cur, aliases=cur.aliases + aliases, weak=cur.weak + weak, qid=cur.qid or gen.qid,
                   country=cur.country or gen.country, city=cur.city or gen.city,
                   league=cur.league or gen.league, tier=cur.tier or gen.tier, years=cur.years or gen.years,
                   # a player's squads add to the curated clubs (a coach's teams are the teams he led)
                   teams=cur.teams + (tuple(t for t in gen.teams if t not in cur.teams)
                                      if cur.label == gen.label == "PLAYER" else ()),
                   spells=cur.spells or gen.spells, source=source,
                   # a curated coach whom a source lists as a player (a World Cup squad): the context decides
                   player_too=cur.player_too or gen.player_too or (cur.label == "COACH" and gen.label == "PLAYER"))


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


def lookup(kb: KnowledgeBase, name: str) -> list[dict]:
    """What a name resolves to and why: one row per candidate entity, strong aliases first."""
    key = fold(name)
    rows = []
    for ent in kb.by_alias.get(key, []):
        how = "strict" if key in ent.strict_keys else "weak" if key in ent.weak_keys else "alias"
        if how == "alias" and key == fold(ent.name):
            how = "name"
        rows.append({"id": ent.id, "label": ent.label, "name": ent.name, "sport": ent.sport, "source": ent.source,
                     "qid": ent.qid, "alias": how})
    if key in kb.places and not any(r["label"] == "PLACE" for r in rows):
        rows.append({"id": f"place/{slug(name)}", "label": "PLACE", "name": name, "sport": None, "source": "places",
                     "qid": None, "alias": "place"})
    order = {"name": 0, "alias": 1, "weak": 2, "strict": 3, "place": 4}
    return sorted(rows, key=lambda r: (order[r["alias"]], r["id"]))


def stats(kb: KnowledgeBase) -> dict[str, dict[str, int]]:
    """Entity counts by label, by sport and by source (a merged entity counts under "curated+<source>")."""
    out: dict[str, dict[str, int]] = {"label": {}, "sport": {}, "source": {}}
    for ent in kb.entities.values():
        for what, value in (("label", ent.label), ("sport", ent.sport or "-"), ("source", ent.source)):
            out[what][value] = out[what].get(value, 0) + 1
    return {k: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))) for k, v in out.items()}


def _years(years: str | None) -> tuple[int | None, int | None]:
    """"2009-" -> (2009, None); "1980-2022" -> (1980, 2022); "2018" -> (2018, 2018)."""
    if not years:
        return None, None
    first, _, last = years.partition("-")
    start = int(first) if first.strip().isdigit() else None
    if not _:
        return start, start
    return start, int(last) if last.strip().isdigit() else None


def coaching_spells(kb: KnowledgeBase) -> list[tuple[str, str, int | None, int | None, str, str, str]]:
    """(coach id, team id, start year, end year, coach name, team name, source) for every known coach.

    A spell the knowledge base records team by team (World Cup managers) is taken as it is. A curated
    coach has one range of years for the role: its end belongs to the first team listed (the current
    or last one), its start too when that is the only team; other years are unknown (None). An end
    year of None on the first team means "to date".
    """
    rows = []
    for ent in kb.entities.values():
        if ent.label != "COACH":
            continue
        spells = list(ent.spells)
        covered = {t for t, _, _ in spells}
        start, end = _years(ent.years)
        rest = [t for t in ent.teams if t not in covered]
        for i, team in enumerate(rest):
            # the role's first year is the first team's only when it is the only team
            spells.append((team, start if len(ent.teams) == 1 else None, end) if i == 0 and not covered
                          else (team, None, None))
        for team, first, last in spells:
            if team in kb.entities:
                rows.append((ent.id, team, first, last, ent.name, kb.entities[team].name, ent.source))
    return sorted(set(rows), key=lambda r: (r[0], r[1], r[2] or 0))
