"""CBBpy's NCAA Division I basketball maps (Apache-2.0): college programmes and their conferences."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pressbox.kbbuild.common import is_acronym, read_text, record

SOURCE = "cbbpy"


def latest_season(path: Path) -> list[dict[str, str]]:
    """The rows of a team map's newest season."""
    rows = list(csv.DictReader(io.StringIO(read_text(path))))
    last = max(r["season"] for r in rows)
    return [r for r in rows if r["season"] == last]


def build(root: Path, places: set[str]) -> list[dict]:
    """TEAM records for programmes ("UCLA Bruins", short name "UCLA"); COMPETITION records for conferences."""
    teams: dict[str, dict[str, str]] = {}
    out = []
    for name, side in (("mens_team_map.csv", "men's"), ("womens_team_map.csv", "women's")):
        for row in latest_season(root / name):
            teams.setdefault(row["team"], row)  # one programme for both: the names are the school's
            # and its team in each, titled as Wikipedia titles them: what the tagger names the programme
            # in a basketball article (tasks.tag.doc_tags); no aliases, the programme's names find it
            out.append(record("TEAM", f"{row['team']} {side} basketball", SOURCE, "team", sport="basketball",
                              country="United States", league=row["conference"]))
    for full, row in sorted(teams.items()):
        short = row["location"]
        # only an abbreviation ("UCLA", "UConn") names the school outright; a school named like a state,
        # a town or a word ("Iowa", "Michigan State", "Duke") also names other things and needs the
        # text's support (political news names states, and "Michigan State" is a university too)
        weak = not is_acronym(short)
        names = [n for n in (short,) if n and n != full]
        out.append(record("TEAM", full, SOURCE, "team", sport="basketball", country="United States",
                          league=row["conference"], aliases=[] if weak else names, weak=names if weak else []))
    for conference in sorted({t["conference"] for t in teams.values()}):
        short = conference.removesuffix(" Conference").strip()
        out.append(record("COMPETITION", conference, SOURCE, "comp", sport="basketball", country="United States",
                          aliases=[short] if short != conference and len(short.split()) > 1 else [],
                          weak=[short] if short != conference and len(short.split()) == 1 else []))
    return out
