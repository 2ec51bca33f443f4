"""nba_api's static lists (MIT): NBA and WNBA teams, and their active players."""

from __future__ import annotations

import ast
from pathlib import Path

from pressbox.kbbuild.common import is_weak_name, read_text, record

SOURCE = "nba_api"


def literals(text: str) -> dict[str, object]:
    """The module-level list assignments of data.py, read without running it."""
    out: dict[str, object] = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.List):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = ast.literal_eval(node.value)
    return out


def build(root: Path, places: set[str]) -> list[dict]:
    """TEAM records for the franchises; PLAYER records for active players (full names only)."""
    data = literals(read_text(root / "data.py"))
    out = []
    # team rows: [id, abbreviation, nickname, year_founded, city, full_name, state, championship_years]
    for key, league in (("teams", "NBA"), ("wnba_teams", "WNBA")):
        for row in data.get(key, []):
            _, abbr, nickname, _, city, full, *_ = row
            weak = [n for n in (city,) if n and n != full]
            out.append(record("TEAM", full, SOURCE, "team", sport="basketball", country="United States",
                              city=city, league=league,
                              aliases=[nickname] if nickname and not is_weak_name(nickname, places) else [],
                              weak=[*weak, *([nickname] if nickname and is_weak_name(nickname, places) else [])]))
    # player rows: [id, last_name, first_name, full_name, is_active]
    for key, league in (("players", "NBA"), ("wnba_players", "WNBA")):
        for row in data.get(key, []):
            _, _, _, full, active = row[:5]
            if active and len(full.split()) >= 2:
                out.append(record("PLAYER", full, SOURCE, "person", sport="basketball", league=league))
    return out
