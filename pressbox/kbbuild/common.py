"""Shared helpers of the knowledge-base importers: records, names, places, ids."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from tasks.kb import fold, slug

# Fields in the order every generated record is written (a fixed order keeps the output byte-stable).
FIELDS = ("id", "label", "name", "sport", "country", "city", "league", "tier", "qid", "teams", "years", "spells",
          "aliases", "weak", "strict", "player_too", "source")

# The fifty US states: a short college name that is also a state ("Iowa") must stay a weak alias.
US_STATES = (
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware", "Florida",
    "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine",
    "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska",
    "Nevada", "New Hampshire", "New Jersey", "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio",
    "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas",
    "Utah", "Vermont", "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming",
)


def record(label: str, name: str, source: str, prefix: str, **fields: object) -> dict:
    """A generated entity record with the given fields (empty ones are left out when written)."""
    rec: dict = {"id": f"{prefix}/{slug(name)}", "label": label, "name": name, "source": source}
    rec.update(fields)
    return rec


def ordered(rec: dict) -> dict:
    """The record's non-empty fields in FIELDS order."""
    return {k: rec[k] for k in FIELDS if rec.get(k) not in (None, "", [], (), False)}


def wiki_title(url: str) -> str | None:
    """The English Wikipedia article title of a URL ("https://en.wikipedia.org/wiki/Alan_A%27Court")."""
    if "/wiki/" not in url:
        return None
    return unquote(url.split("/wiki/", 1)[1]).replace("_", " ").strip() or None


def is_acronym(name: str) -> bool:
    """"UCLA", "QPR", "UConn": one word with two or more capitals is an abbreviation, not a word."""
    return " " not in name and sum(c.isupper() for c in name) >= 2


def is_weak_name(name: str, places: set[str]) -> bool:
    """A one-word name or a place's name needs the text's support (it is a town, a surname, a word)."""
    return fold(name) in places or (len(name.split()) == 1 and not is_acronym(name))


def full_name(*parts: str | None) -> str:
    """Given names and family name joined, blanks and "not applicable" left out."""
    return " ".join(p.strip() for p in parts if p and p.strip() and p.strip() != "not applicable")


def strip_comment(line: str) -> str:
    """A football.db text line without its `#` comment."""
    return re.sub(r"\s#.*$|^#.*$", "", line).rstrip()


def read_text(path: Path) -> str:
    """A UTF-8 source file (a BOM tolerated)."""
    return path.read_text(encoding="utf-8-sig")


def year_span(first: str | int | None, last: str | int | None) -> str | None:
    """"2004-2010", "2019-" style years of a career or role."""
    if not first:
        return None
    return f"{first}-{last or ''}" if str(last) != str(first) else str(first)
