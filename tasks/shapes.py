"""The shapes of sports writing: line-ups, scorer lines, results lines and box scores, read from text.

Pure regular expressions over a text; each finding is a (start, end, label, shape) character span
that `tasks.tag` turns into an entity when the text reads as sport. No name lists: a line-up is
a comma list of names opening a sentence, a scorer line is a name and a minute, a results line is
two sides around a score.
"""

from __future__ import annotations

import re
from typing import NamedTuple

UP = "A-ZÀ-ÖØ-Þ"
CAPWORD = rf"[{UP}](?:[\w’'\-]|&#\d+;)*"  # "O'Neil", "Bean-Laing", "McIntosh", "GC"
INITIAL = rf"[{UP}]\."  # "K. Hupfer"
PARTICLE = r"(?:de|da|di|van|von|der|den|le|la|du|dos|del|al|el|bin|ter)"
NAME = rf"(?:{INITIAL}[ ]?){{0,2}}{CAPWORD}(?:[ ](?:{PARTICLE}[ ])?{CAPWORD}){{0,3}}"
PAREN = r"\([^()\n]{1,40}\)"
ITEM = rf"{NAME}(?:[ ]{PAREN})?"
SEP = r"(?:[ ]*,[ ]*|(?<=\))[ ]+)"  # a comma, or only a space after "(Club)": sheets drop commas
START = r"(?:^|(?<=[.:;!?\n])[ ]*|(?<=[.:;!?][ ]))"  # a list opens a sentence or a line
LIST_HEAD = (r"(?:Subs(?:titutes)?(?:[ ](?:[Nn]ot[ ][Uu]sed|[Uu]sed))?|Replacements|Bench|Tries|Try|Cons|Pens"
             r"|Drop[ ]goals?|Goals|Scorers?)")

LINEUP = re.compile(
    rf"{START}(?:(?P<head>{LIST_HEAD})[ ]*:[ ]*(?P<few>{ITEM}(?:{SEP}{ITEM})*)"
    rf"|(?P<many>{ITEM}(?:{SEP}{ITEM}){{4,}}))[ ]*(?=[.;\n]|$)",
    re.M,
)
ITEM_RE = re.compile(rf"(?P<name>{NAME})(?:[ ](?P<paren>{PAREN}))?")
MINUTE = r"(?:1[0-2]\d|\d{1,2})"  # a match minute (extra time included), not a cricket total ("South Africa 337")
SCORER = re.compile(rf"{START}(?P<name>{NAME})[ ]{MINUTE}(?:[ ]\((?:pen|og|o\.g\.)\))?(?:[ ]*,[ ]*{MINUTE})*"
                    r"(?=[.;\n]|$)", re.M)
SUB = re.compile(rf"^(?P<name>{NAME})[ ]\d{{1,3}}$")  # "(Tiago 56)": a substitute and the minute
ROLE = re.compile(r"^(?:capt|captain|c|vc|wk|wkt|gk|sub|pen|og|\d+|[A-Z]{2,3})$")  # "(capt)", "(wkt)", "ENG"
STAT_WORDS = (r"points?|goals?|assists?|saves?|rebounds?|steals?|blocks?|tackles?|yards?|touchdowns?|strikeouts?"
              r"|hits?|kills?|digs?|aces?|sacks?|catches|receptions?|carries|interceptions?")
STATLINE = re.compile(rf"{START}(?P<name>{NAME})[ ]\d{{1,3}}[ ](?:{STAT_WORDS})\b", re.M)
RECORD = re.compile(rf"^(?P<name>{NAME})[ ]\((?:\d{{1,2}}(?:-\d{{1,2}}){{1,2}}|NR)\)[ ]*:", re.M)  # "Viera (4-0):"
LINESCORE = re.compile(rf"^(?P<name>{NAME})(?:[ ]\d{{1,3}}){{2,}}[ ]*[—–-]+[ ]*\d{{1,3}}[ ]*$", re.M)
# results lines: "Chelsea 2-1 Arsenal", "Palm Bay d. Rockledge 70-44" (a line of its own, or a headline)
RESULT = re.compile(rf"{START}(?P<a>{NAME})[ ](?:\d{{1,3}}[-–]\d{{1,3}}|d\.|def\.)[ ](?P<b>{NAME})", re.M)
# competitions: a capitalised name ending in a competition word ("Mid-American Conference", "SAP Open",
# "Great Edinburgh International Cross Country"), "the Championship" mid-sentence, an NFL division
COMP_HEAD = (r"(?:Cup|Championships?|League|Conference|Open|Tour|Marathon|Trophy|Series|Games|Classic|Grand[ ]Prix"
             r"|Tournament|Cross[ ]Country|Masters|Invitational|Shield|Premiership|Division)")
COMPETITION = re.compile(rf"(?:(?P<named>(?:{CAPWORD}[ ]){{1,5}}{COMP_HEAD})"
                         r"|(?<=\bthe[ ])(?P<the>Championship|Conference|Premiership))\b"
                         rf"|(?P<division>\b(?:AFC|NFC)(?:[ ](?:East|West|North|South))?\b)")
# sentence-opening words that run a headline into the text: "Leyton Orient An early goal ..."
OPENERS = {"A", "An", "The", "In", "On", "At", "After", "But", "And", "It", "He", "She", "They", "His", "Her",
           "Their", "This", "That", "With", "When", "As", "For", "Two", "Three", "First", "Second", "Subs", "By"}
TIME_WORDS = {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
              "Week", "Day", "Round", "Game", "Match", "Race", "Stage", "Group", "Division", "Under", "U"}


class Found(NamedTuple):
    """A name a shape of sports writing gives a label to."""

    start: int
    end: int
    label: str
    shape: str
    group: int = -1  # a line-up item's list (its index among the text's lists); -1 for other shapes


def _name(text: str, start: int, end: int, label: str, shape: str) -> Found | None:
    """A found name, cut at a word that opens a sentence; None for times and rounds ("March 8")."""
    words = text[start:end].split(" ")
    for i, word in enumerate(words[1:], 1):
        if word in OPENERS:
            end = start + len(" ".join(words[:i]))
            break
    first = text[start:end].split(" ")[0]
    if not text[start:end].strip() or first in TIME_WORDS or first in OPENERS:
        return None
    return Found(start, end, label, shape)


def _paren(text: str, start: int, end: int) -> list[Found]:
    """Inside a line-up item's brackets: a substitute ("Tiago 56"), a club ("Biarritz"), or a role."""
    inner = text[start + 1 : end - 1]
    sub = SUB.match(inner)
    if sub:
        return [f for f in [_name(text, start + 1, start + 1 + sub.end("name"), "PLAYER", "lineup")] if f]
    out = []
    pos = start + 1
    for part in re.split(r"([,/])", inner):
        word = part.strip()
        if word and part not in {",", "/"} and not ROLE.match(word) and re.fullmatch(NAME, word):
            s = pos + part.index(word)
            found = _name(text, s, s + len(word), "TEAM", "lineup-club")
            out += [found] if found else []
        pos += len(part)
    return out


def find_shapes(text: str) -> list[Found]:
    """Every name the shapes of sports writing label in a text, in text order."""
    found: list[Found] = []
    for n, m in enumerate(LINEUP.finditer(text)):
        group = "few" if m.group("few") else "many"
        for item in ITEM_RE.finditer(text, m.start(group), m.end(group)):
            name = _name(text, item.start("name"), item.end("name"), "PLAYER", "lineup")
            found += [name._replace(group=n)] if name else []
            if item.group("paren"):
                found += _paren(text, item.start("paren"), item.end("paren"))
    for regex, label, shape in ((SCORER, "PLAYER", "scorer"), (STATLINE, "PLAYER", "stat"),
                                (RECORD, "TEAM", "record"), (LINESCORE, "TEAM", "linescore")):
        for m in regex.finditer(text):
            name = _name(text, m.start("name"), m.end("name"), label, shape)
            found += [name] if name else []
    for m in COMPETITION.finditer(text):
        group = next(g for g in ("named", "the", "division") if m.group(g))
        start = m.start(group)
        words = text[start : m.end(group)].split(" ")
        for i, word in enumerate(words[:-1]):  # "The Mid-American Conference", "Spain's Davis Cup"
            if word in OPENERS or word.endswith(("'s", "’s", "s'")):
                start = m.start(group) + len(" ".join(words[: i + 1])) + 1
        found.append(Found(start, m.end(group), "COMPETITION", "competition"))
    for m in RESULT.finditer(text):
        for side in ("a", "b"):
            name = _name(text, m.start(side), m.end(side), "TEAM", "result")
            found += [name] if name else []
    return sorted(found)
