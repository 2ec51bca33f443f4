"""The Fjelstul World Cup Database (CC-BY-SA 4.0): players, managers, stadiums; a shard under its own licence."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

from pressbox.kbbuild.common import full_name, is_weak_name, read_text, record, wiki_title, year_span
from pressbox.kbbuild.international import team_id
from tasks.kb import fold

SOURCE = "fjelstul-worldcup"
# players of the World Cups since 1998: the men and women of the news since the mid-2000s (the BBC's
# 2004-05 line-ups name the 2002 and 2006 squads), as players then, as coaches and pundits now
RECENT_TOURNAMENT = 1998


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(read_text(path))))


def build(root: Path, places: set[str]) -> list[dict]:
    """Recent World Cup players, every World Cup manager (with the teams they led), every stadium."""
    data = root / "data-csv"
    out = []
    # squad membership: the men's national teams a player went to a World Cup with (the women's teams
    # are not in the knowledge base yet); the tagger reads a line-up's surnames against it
    squads: dict[str, set[str]] = {}
    for row in _rows(data / "squads.csv") if (data / "squads.csv").is_file() else []:
        if "Women" not in row["tournament_name"]:
            squads.setdefault(row["player_id"], set()).add(team_id(row["team_name"]))
    players: dict[str, dict] = {}  # by Wikipedia title
    rows = _rows(data / "players.csv")
    names = [full_name(row["given_name"], row["family_name"]) for row in rows]
    # a one-word name ("Ronaldinho", "Kaká") is a player's only when no other player goes by it and no
    # player has it as a given name or a surname ("Ricardo", "Pedro", "Marta": everyday names)
    parts = Counter(w for n in names if len(n.split()) >= 2 for w in (fold(n.split()[0]), fold(n.split()[-1])))
    alone = Counter(fold(n) for n in names if len(n.split()) == 1)
    for row, written in zip(rows, names, strict=True):
        years = [int(y) for y in row["list_tournaments"].replace(" ", "").split(",") if y.isdigit()]
        mononym = len(written.split()) == 1
        if not years or max(years) < RECENT_TOURNAMENT or not written:
            continue
        if mononym and (alone[fold(written)] > 1 or parts[fold(written)]):
            continue  # an everyday name would match every use of the word
        title = wiki_title(row["player_wikipedia_link"]) or written
        players[title] = record("PLAYER", title, SOURCE, "person", sport="football",
                                aliases=[written] if written != title and not mononym else [],
                                # a mononym needs the article's sport: "Hulk" is a footballer in football only
                                weak=[written] if mononym else [],
                                teams=sorted(squads.get(row["player_id"], ())), years=year_span(min(years), max(years)))
    spells: dict[str, dict[str, list[int]]] = {}
    for row in _rows(data / "manager_appointments.csv"):
        year = int(row["tournament_id"].split("-")[-1])
        if "Women" in row["tournament_name"]:
            continue  # the women's teams are not in the knowledge base yet
        spells.setdefault(row["manager_id"], {}).setdefault(row["team_name"], []).append(year)
    for row in _rows(data / "managers.csv"):
        written = full_name(row["given_name"], row["family_name"])
        title = wiki_title(row["manager_wikipedia_link"]) or written
        led = spells.get(row["manager_id"], {})
        if len(written.split()) < 2 or not led:
            continue
        years = [y for ys in led.values() for y in ys]
        coach = record("COACH", title, SOURCE, "person", sport="football", country=row["country_name"],
                       aliases=[written] if written != title else [],
                       teams=sorted(team_id(t) for t in led), years=year_span(min(years), max(years)),
                       spells=sorted([team_id(t), min(ys), max(ys)] for t, ys in led.items()))
        player = players.pop(title, None)
        if player is not None:  # one man who played at a World Cup and managed at one: one entity
            coach.update(player_too=True, aliases=sorted({*coach["aliases"], *player["aliases"]}))
        out.append(coach)
    out += players.values()
    for row in _rows(data / "stadiums.csv"):
        title = wiki_title(row["stadium_wikipedia_link"]) or row["stadium_name"]
        names = [n for n in dict.fromkeys([row["stadium_name"]]) if n != title]
        out.append(record("VENUE", title, SOURCE, "venue", sport="football", country=row["country_name"],
                          city=row["city_name"], aliases=[n for n in names if not is_weak_name(n, places)],
                          weak=[n for n in names if is_weak_name(n, places)]))
    return out
