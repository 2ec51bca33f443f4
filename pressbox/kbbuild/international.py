"""martj42/international_results (CC0): men's national football teams, former names, tournaments, scorers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pressbox.kbbuild.common import read_text, record, year_span

SOURCE = "international_results"
RECENT = "2018-01-01"  # teams, tournaments and scorers seen since then are the ones news still names


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(read_text(path))))


def team_id(country: str) -> str:
    """The id of a men's national football team, shared with the other importers."""
    return record("TEAM", national_team_name(country), SOURCE, "team")["id"]


def national_team_name(country: str) -> str:
    """English Wikipedia's title for a country's men's team."""
    return f"{country} national football team"


def build(root: Path, places: set[str]) -> list[dict]:
    """National teams that played since RECENT, their tournaments, and their recent scorers."""
    results = _rows(root / "results.csv")
    recent = [r for r in results if r["date"] >= RECENT]
    teams = sorted({t for r in recent for t in (r["home_team"], r["away_team"])})
    former: dict[str, list[str]] = {}
    for row in _rows(root / "former_names.csv"):
        former.setdefault(row["current"], []).append(row["former"])
    out = []
    for team in teams:
        # the bare country name is also the country: a weak alias that a sports context must support
        out.append(record("TEAM", national_team_name(team), SOURCE, "team", sport="football", country=team,
                          weak=[team, *sorted(set(former.get(team, [])))]))
    for tournament in sorted({r["tournament"] for r in recent} - {"Friendly"}):
        out.append(record("COMPETITION", tournament, SOURCE, "comp", sport="football"))
    scorers: dict[str, tuple[str, str, str]] = {}
    for row in _rows(root / "goalscorers.csv"):
        if row["date"] >= RECENT and len(row["scorer"].split()) >= 2 and row["team"] in teams:
            first = scorers.get(row["scorer"], (row["date"], row["date"], row["team"]))
            scorers[row["scorer"]] = (min(first[0], row["date"]), max(first[1], row["date"]), row["team"])
    for name, (first, last, team) in sorted(scorers.items()):
        out.append(record("PLAYER", name, SOURCE, "person", sport="football", country=team,
                          teams=[team_id(team)], years=year_span(first[:4], last[:4])))
    return out
