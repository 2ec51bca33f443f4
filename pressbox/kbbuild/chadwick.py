"""The Chadwick Baseball Bureau register (ODC-By 1.0): recent MLB players and MLB managers, with Wikidata ids."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

from pressbox.kbbuild.common import full_name, record, year_span

SOURCE = "chadwick-register"
RECENT_PLAYER = 2015  # players whose MLB career reached this season
RECENT_MANAGER = 1995  # managers still named in news as such


def people(root: Path) -> list[dict[str, str]]:
    """Every row of the people-*.csv files (gzip'd or not), in file order."""
    rows: list[dict[str, str]] = []
    for path in sorted((root / "data").glob("people-*.csv*")):
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8")
        rows += csv.DictReader(io.StringIO(text))
    return rows


def build(root: Path, places: set[str]) -> list[dict]:
    """PLAYER records for recent MLB players, COACH records for MLB managers (players too, when they played)."""
    out = []
    for row in people(root):
        name = full_name(row["name_first"], row["name_last"], row["name_suffix"])
        if len(name.split()) < 2:
            continue
        qid = row["key_wikidata"] or None
        managed_last = int(row["mlb_managed_last"] or 0)
        played_last = int(row["mlb_played_last"] or 0)
        if managed_last >= RECENT_MANAGER:
            out.append(record("COACH", name, SOURCE, "person", sport="baseball", qid=qid,
                              years=year_span(row["mlb_managed_first"], row["mlb_managed_last"]),
                              player_too=played_last > 0))
        elif played_last >= RECENT_PLAYER:
            out.append(record("PLAYER", name, SOURCE, "person", sport="baseball", qid=qid,
                              years=year_span(row["mlb_played_first"], row["mlb_played_last"])))
    return out
