"""`pressbox kb build`: import the open sports data sets into the generated knowledge-base files, deterministically.

One module per source turns its files into entity records; this module gives every record a unique,
stable id, makes an alias that several entities of one label and sport share weak, keeps references
to teams that exist, and writes one sorted JSON-lines file per source (the Fjelstul shard stays its
own file under CC-BY-SA 4.0). Same sources in, byte-identical files out.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from pressbox.kbbuild import cbbpy, chadwick, fjelstul, international, nba, openfootball
from pressbox.kbbuild.common import US_STATES, is_weak_name, ordered, read_text
from tasks.kb import KB_DIR, fold, slug

GENERATED_DIR = KB_DIR / "generated"
# (source directory under --sources, importer, output file); earlier sources win a duplicate entity
IMPORTERS: tuple[tuple[str, Callable[[Path, set[str]], list[dict]], str], ...] = (
    ("openfootball", openfootball.build, "openfootball.jsonl"),
    ("international_results", international.build, "international_results.jsonl"),
    ("nba_api", nba.build, "nba_api.jsonl"),
    ("cbbpy", cbbpy.build, "cbbpy.jsonl"),
    ("chadwick-register", chadwick.build, "chadwick-register.jsonl"),
    ("fjelstul-worldcup", fjelstul.build, "fjelstul-worldcup.cc-by-sa.jsonl"),
)
# sources that list people by the thousand (not only the notable): their names are weak aliases
BULK_PEOPLE = {"chadwick-register", "nba_api", "international_results", "fjelstul-worldcup"}
# licence texts the generated files carry along, copied verbatim
LICENCES = (("nba_api/LICENSE", "LICENSE.nba_api.txt"), ("cbbpy/LICENSE", "LICENSE.cbbpy.txt"))


def known_places(sources: Path) -> set[str]:
    """Folded names of places the sources know: club cities, match venues' cities and countries, US states."""
    places = {fold(s) for s in US_STATES}
    if (sources / "openfootball").is_dir():
        places |= openfootball.city_names(sources / "openfootball")
    results = sources / "international_results" / "results.csv"
    if results.is_file():
        for row in csv.DictReader(io.StringIO(read_text(results))):
            places.update((fold(row["city"]), fold(row["country"])))
    places.discard("")
    return places


def collect(sources: Path) -> dict[str, list[dict]]:
    """Every importer's records, by output file, with unique ids and no duplicate entity."""
    places = known_places(sources)
    by_file: dict[str, list[dict]] = {}
    seen: dict[tuple[str, str | None, str, str | None], dict] = {}  # (label, sport, name, country) -> record
    named: set[tuple[str, str | None, str]] = set()
    ids: set[str] = set()
    renamed: dict[str, str] = {}
    for directory, build, filename in IMPORTERS:
        if not (sources / directory).is_dir():
            continue
        kept = []
        for rec in build(sources / directory, places):
            if not rec["id"].split("/", 1)[1]:
                continue
            person = rec["label"] in ("PLAYER", "COACH")
            key = (rec["label"], rec.get("sport"), fold(rec["name"]), None if person else rec.get("country"))
            if key in seen:
                continue  # the same entity from an earlier record or source
            if not person and is_weak_name(rec["name"], places):
                _name_outright(rec, places)  # "Brown" (a club in Argentina) is also a colour and a name
                key = (rec["label"], rec.get("sport"), fold(rec["name"]), rec.get("country"))
            if not person and key[:3] in named and rec.get("country"):
                # another club of the same name elsewhere: "Generali Arena (Austria)", the bare name weak
                rec["weak"] = [rec["name"], *rec.get("weak", [])]
                rec["name"] = f"{rec['name']} ({rec['country']})"
            named.add(key[:3])
            original = rec["id"]
            candidate = original
            for suffix in (slug(rec.get("country") or ""), slug(rec.get("sport") or ""), rec["source"]):
                if candidate not in ids:
                    break
                candidate = f"{original}-{suffix}" if suffix else candidate
            n = 2
            while candidate in ids:
                candidate, n = f"{original}-{n}", n + 1
            rec["id"] = candidate
            renamed.setdefault(original, candidate)
            ids.add(candidate)
            seen[key] = rec
            kept.append(rec)
        by_file[filename] = kept
    for recs in by_file.values():
        for rec in recs:
            if rec["label"] in ("PLAYER", "COACH") and rec["source"] in BULK_PEOPLE:
                # thousands of full names collide with namesakes in other news ("Kevin McCarthy"):
                # a bulk-list person counts only where the article is about their sport
                # (a name listed among its own weak aliases is not a strong one: see tasks.kb.load_kb)
                rec["weak"] = list(dict.fromkeys([rec["name"], *rec.get("aliases", []), *rec.get("weak", [])]))
                rec["aliases"] = []
    _resolve_references(by_file, ids, renamed)
    _weaken_shared_aliases(by_file)
    return by_file


def _name_outright(rec: dict, places: set[str]) -> None:
    """Give an entity whose name is one word or a place a name that cannot be read as something else.

    Its longest strong alias becomes the name ("Club Atlético Brown"), else the name is qualified by
    the country ("Brown (Argentina)", a form never matched in text); the bare name turns weak.
    """
    fuller = [a for a in rec.get("aliases", []) if not is_weak_name(a, places)]
    bare = rec["name"]
    if fuller:
        rec["name"] = max(fuller, key=lambda a: (len(a), a))
        rec["aliases"] = [a for a in rec["aliases"] if a != rec["name"]]
    elif rec.get("country") or rec.get("city"):
        rec["name"] = f"{bare} ({rec.get('country') or rec.get('city')})"
    else:
        return
    rec["weak"] = [bare, *[w for w in rec.get("weak", []) if w != bare]]


def _resolve_references(by_file: dict[str, list[dict]], ids: set[str], renamed: dict[str, str]) -> None:
    """Team references follow renamed ids; a reference to a team no source has is dropped."""
    for recs in by_file.values():
        for rec in recs:
            if rec.get("teams"):
                rec["teams"] = sorted({renamed.get(t, t) for t in rec["teams"]} & ids)
            if rec.get("spells"):
                rec["spells"] = sorted([renamed.get(t, t), a, b] for t, a, b in rec["spells"]
                                       if renamed.get(t, t) in ids)


def _weaken_shared_aliases(by_file: dict[str, list[dict]]) -> None:
    """An alias two entities of one label and sport share is weak on both (context or a full name decides)."""
    owners: dict[tuple[str, str, str | None], set[str]] = defaultdict(set)
    for recs in by_file.values():
        for rec in recs:
            for alias in (rec["name"], *rec.get("aliases", [])):
                owners[(fold(alias), rec["label"], rec.get("sport"))].add(rec["id"])
    for recs in by_file.values():
        for rec in recs:
            strong, weak = [], list(rec.get("weak", []))
            for alias in dict.fromkeys(rec.get("aliases", [])):
                shared = len(owners[(fold(alias), rec["label"], rec.get("sport"))]) > 1
                if fold(alias) == fold(rec["name"]):
                    continue  # the name is always an alias
                (weak if shared else strong).append(alias)
            rec["aliases"] = strong
            rec["weak"] = [w for w in dict.fromkeys(weak) if w not in strong
                           and (fold(w) != fold(rec["name"]) or w == rec["name"])]


def write(by_file: dict[str, list[dict]], out_dir: Path, sources: Path) -> dict[str, int]:
    """Write each file sorted by id (UTF-8, one JSON object a line); returns records per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for filename, recs in sorted(by_file.items()):
        lines = [json.dumps(ordered(r), ensure_ascii=False) for r in sorted(recs, key=lambda r: r["id"])]
        (out_dir / filename).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        counts[filename] = len(lines)
    for src, dest in LICENCES:
        if (sources / src).is_file():
            shutil.copyfile(sources / src, out_dir / dest)
    return counts


def build_kb(sources: Path, out_dir: Path = GENERATED_DIR) -> dict[str, int]:
    """Import every source found under `sources` into `out_dir`; returns records per file written."""
    if not sources.is_dir():
        raise FileNotFoundError(f"no sources directory at {sources}")
    return write(collect(sources), out_dir, sources)
