"""openfootball (CC0): football clubs, their stadiums and cities, leagues and cups, 2025-26 tier membership."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pressbox.kbbuild.common import is_weak_name, read_text, record, strip_comment
from tasks.kb import fold

SOURCE = "openfootball"
# Club-name affixes that news drops: "Arsenal FC" is "Arsenal", "AFC Bournemouth" is "Bournemouth".
AFFIXES = {"FC", "AFC", "CF", "SC", "FK", "SK", "AC", "CD", "F.C.", "A.F.C.", "CFC", "SV", "BK", "IF", "NK"}
# football.json file codes -> the country heading of the openfootball clubs files.
CODE_COUNTRY = {"en": "England", "de": "Germany", "es": "Spain", "fr": "France", "it": "Italy", "at": "Austria",
                "be": "Belgium", "nl": "Netherlands", "pt": "Portugal", "sco": "Scotland", "gr": "Greece",
                "tr": "Turkey", "ar": "Argentina", "br": "Brazil", "cn": "China", "co": "Colombia", "jp": "Japan",
                "mls": "United States"}
DEFUNCT = re.compile(r"\(\d{4}\s*-\s*\d{4}\)")  # "Wigan Borough FC (1920-1931)": a club that no longer plays
HEADING = re.compile(r"^=+\s*([^=]*?[A-Za-z][^=]*?)\s*=*\s*$")
CODE = re.compile(r"^[a-z0-9_.]+$")  # "eng.cs", "uefa.champ": data keys, never written in text
PERIOD = re.compile(r"^\d{4}(/\d{2})?-(\d{4}(/\d{2})?)?$|^\d{4}(/\d{2})?$")
FIXTURE = re.compile(r"^\s*(?:\d{1,2}\.\d{2}\s+)?(\S.*?)\s+v\s+(\S.*?)(?:\s{2,}.*)?$")


BRITISH = {"England", "Scotland", "Wales", "Northern Ireland"}


def wikipedia_title(name: str, country: str | None) -> str:
    """English Wikipedia's title of a club: British clubs' trailing abbreviations are dotted ("Rochdale AFC"
    is "Rochdale A.F.C.", "Chester FC" "Chester F.C."; a leading "AFC Bournemouth" stays)."""
    if country not in BRITISH:
        return name
    return re.sub(r" (A?)FC$", lambda m: " A.F.C." if m.group(1) else " F.C.", name)


def short_form(name: str) -> str | None:
    """The club's name without a leading or trailing affix ("Mansfield Town FC" -> "Mansfield Town")."""
    words = name.split()
    while len(words) > 1 and words[-1] in AFFIXES:
        words = words[:-1]
    while len(words) > 1 and words[0] in AFFIXES:
        words = words[1:]
    short = " ".join(words)
    return short if short != name and len(short) >= 4 else None


def _lines(text: str) -> list[tuple[str, object]]:
    """A football.db text file as ("heading", name or None), ("aliases", [names]) and ("record", line) items."""
    out: list[tuple[str, object]] = []
    for raw in text.splitlines():
        line = strip_comment(raw)
        if not line.strip():
            continue
        if line.startswith("="):
            heading = HEADING.match(line)  # None for a rule or a placeholder ("== ??? ==")
            out.append(("heading", heading.group(1).strip() if heading else None))
        elif line[0].isspace():
            if line.strip().startswith("|"):
                out.append(("aliases", [a.strip() for a in line.split("|") if a.strip()]))
        else:
            out.append(("record", line))
    return out


def parse_clubs(text: str) -> list[dict]:
    """Clubs of one `*.clubs.txt` file: name, founding year, stadium, city, aliases, country heading."""
    clubs: list[dict] = []
    country = None
    for kind, value in _lines(text):
        if kind == "heading":
            # the file's first heading is its country ("Germany • Deutschland"); later ones are regions
            country = country or (_english(value) if isinstance(value, str) else None)
            continue
        if kind == "aliases":
            if clubs:
                clubs[-1]["aliases"] += value
            continue
        parts = [p.strip() for p in str(value).split(",") if p.strip()]
        club = {"name": parts[0], "country": country, "aliases": [], "stadium": None, "city": None}
        for part in parts[1:]:
            if part.startswith("@"):
                club["stadium"] = part[1:].strip()
            elif not re.fullmatch(r"\d{4}", part) and club["city"] is None:
                club["city"] = re.sub(r"\s*\(.*?\)|\s*›.*$", "", part).strip() or None
        clubs.append(club)
    return clubs


def _english(heading: str) -> str:
    """The English part of a bilingual heading ("Österreich • Austria" -> "Austria")."""
    parts = [p.strip() for p in heading.split("•")]
    return next((p for p in parts if p.isascii()), parts[0])


def parse_leagues(text: str, default_country: str | None = None) -> list[dict]:
    """Leagues and cups of one `leagues.txt` file: key, period, name (after a rename), aliases, country."""
    leagues: list[dict] = []
    country = default_country
    for kind, value in _lines(text):
        if kind == "heading":
            country = value if isinstance(value, str) else country
            continue
        if kind == "aliases":
            if leagues:
                leagues[-1]["aliases"] += value
            continue
        tokens = str(value).split(None, 1)
        if len(tokens) < 2:
            continue
        key, rest = tokens
        period = None
        first = rest.split(None, 1)
        if len(first) == 2 and PERIOD.match(first[0]):
            period, rest = first
        name = rest.split("=>")[-1].strip()
        if name:
            leagues.append({"key": key, "period": period, "name": name, "aliases": [], "country": country})
    return leagues


def _clean_alias(alias: str) -> str | None:
    if "[" in alias or CODE.match(alias) or "$" in alias:
        return None  # another language, a data key, a sponsor marker
    return alias


def build_clubs(root: Path, places: set[str]) -> list[dict]:
    """Club TEAM and home-ground VENUE records."""
    out = []
    tiers = current_tiers(root)
    for path in sorted((root / "clubs").rglob("*.clubs.txt")):
        for club in parse_clubs(read_text(path)):
            if DEFUNCT.search(club["name"]) or not club["country"]:
                continue
            names = [club["name"], *[a for a in map(_clean_alias, club["aliases"]) if a]]
            names += [s for s in (short_form(n) for n in names) if s]
            names = [n for n in dict.fromkeys(names) if not DEFUNCT.search(n)]
            tier = next((tiers[(club["country"], fold(n))] for n in names if (club["country"], fold(n)) in tiers), None)
            # a club in no league we know of is rarely news: its short names ("Metropolitan Police",
            # "ABC") need the text's support; only its full name counts on its own
            aliases = [n for n in names[1:] if tier and not is_weak_name(n, places)]
            weak = [n for n in names[1:] if n not in aliases]
            title = wikipedia_title(club["name"], club["country"])
            if title != club["name"]:  # the name as the source writes it stays a full name of the club
                aliases, weak = [club["name"], *aliases], [n for n in weak if n != club["name"]]
            rec = record("TEAM", title, SOURCE, "team", sport="football", country=club["country"],
                         city=club["city"], aliases=aliases, weak=weak)
            if tier:
                rec["league"], rec["tier"] = tier
            out.append(rec)
            if club["stadium"] and "$" not in club["stadium"]:
                out.append(record("VENUE", club["stadium"], SOURCE, "venue", sport="football",
                                  country=club["country"], city=club["city"], teams=[rec["id"]],
                                  weak=[club["stadium"]] if is_weak_name(club["stadium"], places) else []))
    out += national_league_clubs(root, {fold(n) for r in out for n in (r["name"], *r.get("aliases", []),
                                                                        *r.get("weak", []))}, places)
    return out


def current_tiers(root: Path) -> dict[tuple[str, str], tuple[str, int]]:
    """(country, folded team name) -> (league, tier) from football.json's current seasons."""
    tiers: dict[tuple[str, str], tuple[str, int]] = {}
    for path in sorted((root / "football.json").glob("*/*.json")):
        code = path.stem
        country = CODE_COUNTRY.get(code.split(".")[0])
        if country is None:
            continue  # a continental competition: no tier
        tier = int(code.rsplit(".", 1)[1]) if code.rsplit(".", 1)[-1].isdigit() else 1
        data = json.loads(read_text(path))
        league = re.sub(r"\s*\d{4}(/\d{2})?$", "", data["name"]).replace(" | ", " ").strip()
        for match in data["matches"]:
            for team in (match.get("team1"), match.get("team2")):
                if team:
                    tiers.setdefault((country, fold(team)), (league, tier))
    for path in sorted((root / "england").glob("*/5-*.txt")):
        league = re.sub(r"^=\s*|\s*\d{4}/\d{2}$", "", read_text(path).splitlines()[0]).strip()
        for team in fixture_teams(read_text(path)):
            tiers.setdefault(("England", fold(team)), (league, 5))
    return tiers


def fixture_teams(text: str) -> list[str]:
    """Team names of a football.db fixtures file ("Altrincham FC   v Aldershot Town   3-2")."""
    teams = []
    for line in text.splitlines():
        m = FIXTURE.match(strip_comment(line))
        if m:
            teams += [re.sub(r"\s+\d+-\d+.*$", "", t).strip() for t in m.groups()]
    return sorted(set(teams))


def national_league_clubs(root: Path, known: set[str], places: set[str]) -> list[dict]:
    """Clubs of the English fifth tier that the clubs files do not have (Brackley Town, Truro City)."""
    out = []
    for path in sorted((root / "england").glob("*/5-*.txt")):
        text = read_text(path)
        league = re.sub(r"^=\s*|\s*\d{4}/\d{2}$", "", text.splitlines()[0]).strip()
        for team in fixture_teams(text):
            if fold(team) in known:
                continue
            short = team.split()[0]
            title = wikipedia_title(team, "England")
            out.append(record("TEAM", title, SOURCE, "team", sport="football", country="England", league=league,
                              tier=5, aliases=[team] if title != team else [],
                              weak=[short] if short != team and is_weak_name(short, places) else []))
    return out


def build_leagues(root: Path, places: set[str]) -> list[dict]:
    """COMPETITION records for current leagues and cups (ended ones are left out)."""
    out = []
    for path in sorted((root / "leagues").rglob("*leagues.txt")):
        for lg in parse_leagues(read_text(path)):
            if lg["period"] and not lg["period"].endswith("-"):
                continue  # a competition that ended or was renamed
            aliases = [a for a in (_clean_alias(a) for a in lg["aliases"]) if a]
            name = lg["name"]
            country = lg["country"] if lg["country"] not in (None, "International", "National Teams") else None
            # "Premier League", "Cup": named by a fuller alias when one says which ("Kenyan Premier League")
            if country and len(name.split()) <= 2:
                fuller = [a for a in aliases if len(a.split()) >= 3 and name in a]
                if fuller:
                    name, aliases = fuller[0], [lg["name"], *[a for a in aliases if a != fuller[0]]]
                else:
                    name, aliases = f"{country} {name}", [lg["name"], *aliases]
            names = list(dict.fromkeys(aliases))
            out.append(record("COMPETITION", name, SOURCE, "comp", sport="football", country=country,
                              aliases=[a for a in names if a != name and not is_weak_name(a, places)],
                              weak=[a for a in names if a != name and is_weak_name(a, places)]))
    return out


def city_names(root: Path) -> set[str]:
    """Folded city names of every club (to tell a town from a club name)."""
    return {fold(c["city"]) for path in sorted((root / "clubs").rglob("*.clubs.txt"))
            for c in parse_clubs(read_text(path)) if c["city"]}


def build(root: Path, places: set[str]) -> list[dict]:
    """Every openfootball record."""
    return build_clubs(root, places) + build_leagues(root, places)
