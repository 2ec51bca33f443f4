"""Match facts: which matches an article reports, their scores, scorers, competition and date.

Pure code after tagging: title + body + the article's mentions + the knowledge base in, frozen
`MatchFact` records out. Team names next to a score are read here against the knowledge base's
aliases too, so the stage keeps working when the tagger misses a name (headlines, nicknames).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from schemas.records import MatchFact, MatchScorer, Mention, TaggedArticle
from tasks.kb import KB_DIR, Entity, KnowledgeBase, fold

if TYPE_CHECKING:
    from tasks.tag import SportsTagger

MATCH_SPORTS = {"football", "rugby union", "rugby league", "ice hockey", "basketball", "american football",
                "baseball"}
MAX_SCORE = {"football": 15, "ice hockey": 20, "rugby union": 150, "rugby league": 150}
SCORE_RE = re.compile(r"(?<![\w,.\-–/])(\d{1,3}) ?[-–] ?(\d{1,3})(?![\w\-–/]|[.,]\d)")
WIN = {"win", "wins", "won", "victory", "victories", "triumph", "beat", "beats", "beating", "thrashed",
       "thrashing", "hammered", "hammering", "routed", "rout", "humiliation", "humiliated", "humbled",
       "overcome", "overcame", "defeated", "edged", "crushed", "demolished", "drubbing", "success",
       "whitewash", "trounced", "thumped", "thumping", "stunned", "shocked"}
LOSS = {"defeat", "defeats", "loss", "losses", "lost", "losing", "lose", "beaten", "reverse", "setback"}
DRAW = {"draw", "drew", "drawn", "stalemate", "tie", "tied"}
RESULT_WORDS = WIN | LOSS | DRAW
# between a score and the team after it: '1-1 draw with Fulham', '19-13 Six Nations loss to Ireland'
AFTER_GAP = re.compile(r"\s*(?:(?:[\w'\-]+\s+){0,3}?(?:with|to|by|against|over|at|of|v|vs|versus|for|and|on)\s+"
                       r"(?:the\s+)?)?$", re.I)
UNKNOWN_AFTER = re.compile(r"\s*(?:[\w'\-]+\s+){0,3}?(?:with|to|by|against|over|of|v|vs|versus)\s+(?:the\s+)?"
                           r"([A-Z][\w\-]+)")
PRONOUN = re.compile(r"\b(they|their|we|our|his side|his team|her side|his men|the side|the team)\b")
# a lead that looks ahead (a preview, an interview before a game) mentions results in passing
FUTURE = re.compile(r"\b(will|ahead of|going into|preview|prepares?|faces?|facing|likely to)\b", re.I)
PAST_CUES = re.compile(
    r"\b(last (week|weekend|month|season|year|time)|earlier (this|in the)|previous round|first leg|"
    r"in (january|february|march|april|may|june|july|august|september|october|november|december)\b|"
    r"last (mon|tues|wednes|thurs|fri|satur|sun)day|since|(?:in|the|of) (?:19|20)\d\d\b|"
    r"on \d{1,2} (?:january|february|march|april|may|june|july|august|september|october|november|december))", re.I)
# a lead about an off-field matter mentions a result in passing: it does not report it
OFF_FIELD = re.compile(
    r"\b(complain\w*|complaint|charged?|charges|ban(ned|s)?|fined?|disciplinary|appeal\w*|investigat\w*|"
    r"contract|transfer|loan|signs?|signing|injur\w+|fitness|retire\w*|resign\w*|axed?|dropped|squad|"
    r"selection|sacked|talks|bid|ruled out of|surgery|probes?|trouble|crowd|police|violence|racis\w+|"
    r"obituary|died|dies|tribute)\b", re.I)
STOP_CAPS = {"The", "A", "An", "In", "On", "At", "But", "And", "Goals", "Goal", "Booked", "Subs", "Utd", "United",
             "City", "Rovers", "Town", "Athletic", "Albion", "Wanderers", "County", "Sheff"}
EUROPE = {"England", "Scotland", "Wales", "Ireland", "France", "Italy", "Spain", "Portugal", "Germany", "Netherlands",
          "Belgium", "Romania", "Georgia", "Russia", "Switzerland", "Austria", "Greece", "Denmark", "Sweden", "Norway",
          "Poland", "Croatia", "Serbia", "Czech Republic", "Ukraine", "Turkey", "Northern Ireland"}
DEMONYMS = {"Irish", "Welsh", "French", "English", "Scots", "Scottish", "Italian", "Italians", "Springboks",
            "Wallabies", "Pumas", "Kiwis", "Australians", "Argentines", "Home", "Visitors", "Hosts"}
ROLE_WORDS = ("goalkeeper|keeper|defender|midfielder|striker|forward|winger|international|captain|coach|manager|"
              "boss|fly-half|scrum-half|prop|lock|flanker|centre|wing|full-back|hooker|number|star|player|"
              "skipper|legend|youngster|teenager|veteran|wing|lineout")
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
CALENDAR = {*WEEKDAYS, *MONTHS}
PENALTIES = re.compile(r"(\d{1,2})-(\d{1,2}) on penalties|penalties \((\d{1,2})-(\d{1,2})\)|"
                       r"(\d{1,2})-(\d{1,2}) (?:in|on) (?:a|the) (?:penalty )?shoot-?out")
NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
NAME = r"[A-Z][\w'’\-]*(?:\s(?:(?:van|de|der|den|des|du|da|di|del|della|do|le|la|los|las|dos|of)\b|[A-Z][\w'’\-]*))*"
FOOTER_ITEM = re.compile(
    r"([A-Z][\w'’\-]*(?:\s[A-Z][\w'’\-]*){0,2}) ((?:\d{1,3}(?:\+\d)?(?: ?\((?:pen|og)\)| pen| og)?"
    r"(?:, ?)?)+)")
MINUTE_RE = re.compile(r"(\d{1,3})(?:\+\d)?(?: ?\(?(pen|og)\)?)?")
RUGBY_KINDS = {"tries": "try", "try": "try", "cons": "conversion", "con": "conversion", "conversions": "conversion",
               "conversion": "conversion", "pens": "penalty goal", "pen": "penalty goal", "penalties": "penalty goal",
               "drop goals": "drop goal", "drop goal": "drop goal", "dgs": "drop goal", "dg": "drop goal"}


@dataclass(frozen=True)
class TeamSpan:
    """A team named in the text: where, and which entity (or only a name when unknown)."""

    start: int
    end: int
    name: str
    entity_id: str | None
    country_only: bool = False  # 'in Tunisia', 'France fly-half': names the country; still tells the subject


@dataclass(frozen=True)
class Doc:
    """What the rules look at: the text, its sentences, its teams and its sport."""

    text: str
    sentences: tuple[tuple[int, int], ...]
    teams: tuple[TeamSpan, ...]
    sport: str | None
    named: tuple[TeamSpan, ...]  # teams and countries named, in order: the first is the article's subject
    lead_end: int  # end of the headline and first two sentences
    title_end: int  # end of the title (0 when the text has no separate title)
    kb: KnowledgeBase
    people: tuple[str, ...] = ()  # names the tagger found for people, as written


def read_matches(
    title: str | None,
    body: str,
    mentions: Sequence[Mention],
    kb: KnowledgeBase,
    published: datetime | date | None = None,
) -> tuple[bool, tuple[MatchFact, ...]]:
    """Title + body + body mentions -> (is the article a match report, every match with a final score)."""
    text = f"{title}\n\n{body}" if title else body
    off = len(title) + 2 if title else 0
    doc = _build_doc(text, [_shift(m, off) for m in mentions], kb, len(title) if title else 0)
    if doc.sport not in MATCH_SPORTS:
        return False, ()
    facts: dict[frozenset, MatchFact] = {}
    for fact in _score_facts(doc, kb):
        key = frozenset([fact.home_entity_id or fact.home, fact.away_entity_id or fact.away])
        prev = facts.get(key)
        # the same match stated twice (headline and lead): keep the statement that says the most
        if prev is None or (fact.reported, not fact.neutral, bool(fact.competition)) > (
                prev.reported, not prev.neutral, bool(prev.competition)):
            facts[key] = fact
    out = list(facts.values())
    reported = [f for f in out if f.reported]
    if len(reported) == 1:
        i = out.index(reported[0])
        out[i] = replace(out[i], scorers=_scorers(doc, out[i], kb))
    pub = published.date() if isinstance(published, datetime) else published
    out = [_dated(doc, f, pub) for f in out]
    return bool(reported), tuple(out)


def with_matches(tagged: TaggedArticle, kb: KnowledgeBase) -> TaggedArticle:
    """A tagged article with its match facts read (the enrichment stage after tagging)."""
    a = tagged.article
    is_report, facts = read_matches(a.title, a.body, tagged.mentions, kb, a.published_at or a.fetched_at)
    return replace(tagged, is_match_report=is_report, matches=facts)


def match_id(fact: MatchFact) -> str:
    """Stable id for a match: its date and its two teams (in either order)."""
    teams = sorted([fact.home_entity_id or "name:" + fold(fact.home), fact.away_entity_id or "name:" + fold(fact.away)])
    day = fact.match_date.isoformat() if fact.match_date else "?"
    return hashlib.sha1(f"{day}|{teams[0]}|{teams[1]}".encode()).hexdigest()[:16]


def as_json(is_report: bool, facts: Sequence[MatchFact]) -> dict:
    """The `pressbox matches` JSONL shape of one article's match facts (without the id)."""
    return {
        "is_match_report": is_report,
        "matches": [
            {"home": f.home, "away": f.away, "home_score": f.home_score, "away_score": f.away_score,
             "competition": f.competition, "reported": f.reported, "neutral": f.neutral,
             "extra_time": f.extra_time, "penalties": f.penalties,
             "match_date": f.match_date.isoformat() if f.match_date else None, "date_certain": f.date_certain,
             "scorers": [{"player": s.player, "team": s.team, "minute": s.minute, "kind": s.kind}
                         for s in f.scorers]}
            for f in facts
        ],
    }


# ---------------------------------------------------------------- reading the document


def _shift(m: Mention, off: int) -> Mention:
    return replace(m, start_char=m.start_char + off, end_char=m.end_char + off)


def _sentences(text: str) -> tuple[tuple[int, int], ...]:
    spans, start = [], 0
    for m in re.finditer(r"(?<=[.!?])[\"'”’]?\s+(?=[\"'“‘(]?[A-Z0-9])|\n\s*\n", text):
        spans.append((start, m.start() + (1 if text[m.start()] in "\"'”’" else 0)))
        start = m.end()
    spans.append((start, len(text)))
    return tuple(s for s in spans if s[1] > s[0])


@cache
def _leagues(directory: Path = KB_DIR) -> dict[str, str]:
    """team id -> league name, read from the knowledge base files (the Entity record has no league)."""
    out = {}
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if '"league"' in line:
                rec = json.loads(line)
                out[rec["id"]] = rec["league"]
    return out


def _league(kb: KnowledgeBase, entity_id: str | None) -> str | None:
    """A team's league: from the entity when the knowledge base carries it, else from the shipped files."""
    return getattr(kb.entities.get(entity_id or ""), "league", None) or _leagues().get(entity_id or "")


def _team_cands(kb: KnowledgeBase, surface: str) -> list[Entity]:
    return [e for e in kb.candidates(surface) if e.label == "TEAM"]


def _build_doc(text: str, mentions: Sequence[Mention], kb: KnowledgeBase, title_end: int) -> Doc:
    linked = {m.entity_id for m in mentions if m.label == "TEAM"}
    found: list[tuple[int, int, str, list[Entity]]] = []
    taken: list[tuple[int, int]] = []
    nicknames: list[tuple[int, int, str, list[Entity]]] = []
    for m in mentions:
        ent = kb.entities.get(m.entity_id)
        if m.label == "TEAM" and ent:
            found.append((m.start_char, m.end_char, m.surface, [ent]))
            taken.append((m.start_char, m.end_char))
    # names the tagger missed (headlines, line-up labels, nicknames): longest KB alias first
    for run in re.finditer(r"[A-Z][\w'’.&\-]*(?:\s+(?:of|de|&|[A-Z][\w'’.&\-]*))*", text):
        words = list(re.finditer(r"\S+", run.group()))
        i = 0
        while i < len(words):
            for j in range(min(len(words), i + 5), i, -1):
                s = run.start() + words[i].start()
                e = run.start() + words[j - 1].end()
                surface = re.sub(r"(['’]s?|[.,:;])$", "", text[s:e])
                e = s + len(surface)
                cands = _team_cands(kb, surface)
                if not cands or any(a < e and s < b for a, b in taken):
                    continue
                strong = [c for c in cands if fold(surface) not in c.weak_keys or c.id in linked]
                if not strong and SCORE_RE.search(text, max(0, s - 60), e + 60):
                    nicknames.append((s, e, surface, cands))
                if not strong:
                    continue
                found.append((s, e, surface, strong))
                taken.append((s, e))
                i = j - 1
                break
            i += 1
    sport = _doc_sport(text, [c for *_, cs in found for c in cs], mentions, kb)
    for s, e, surface, cands in nicknames:
        # a nickname next to a score ('Celtic beat Rangers 2-0') names a team when one of its sport fits
        fits = [c for c in cands if c.sport == sport]
        if len(fits) == 1 and not any(a < e and s < b for a, b in taken):
            found.append((s, e, surface, fits))
    counts = Counter(c.id for *_, cs in found if len(cs) == 1 for c in cs)
    teams = []
    for s, e, _surface, cands in sorted(found):
        best = max(cands, key=lambda c: (c.id in linked, c.sport == sport, counts[c.id]))
        if sport and best.sport and best.sport != sport:
            continue
        teams.append(TeamSpan(s, e, best.name, best.id, "national" in best.name and _country_not_team(text, s, e)))
    sents = _sentences(text)
    lead_sents = [s for s in sents if s[0] >= title_end]
    lead_end = lead_sents[min(1, len(lead_sents) - 1)][1] if lead_sents else len(text)
    people = tuple(m.surface for m in mentions if m.label in ("PERSON", "PLAYER", "COACH"))
    return Doc(text, sents, tuple(t for t in teams if not t.country_only), sport, tuple(teams), lead_end, title_end,
               kb, people)


def _country_not_team(text: str, start: int, end: int) -> bool:
    """'in Tunisia', "Albania's Partizani Tirana", 'Zimbabwe goalkeeper': the country, not its team."""
    after = text[end:end + 30]
    if re.search(r"\b(in|from|across|near|around|born)\s+$", text[max(0, start - 8):start]) and not re.match(
            r"['’]s\b", after):
        return True
    return bool(re.match(r"['’]s\s+[A-Z]", after) or re.match(r"\s+(" + ROLE_WORDS + r")\b", after))


def _doc_sport(text: str, ents: list[Entity], mentions: Sequence[Mention], kb: KnowledgeBase) -> str | None:
    votes: Counter[str] = Counter()
    for e in ents:
        if e.sport:
            votes[e.sport] += 1
    for m in mentions:
        e = kb.entities.get(m.entity_id)
        if e and e.sport and m.label in ("COMPETITION", "VENUE", "TEAM"):
            votes[e.sport] += 1
    low = text.lower()
    rugby = len(re.findall(r"\b(tries|try|scrum|fly-half|line-out|lineout|six nations|conversion|sin-bin|"
                           r"prop|lock|number eight|flanker|rugby)\b", low))
    football = len(re.findall(r"\b(goal|goals|striker|midfielder|goalkeeper|keeper|penalty area|premiership|"
                              r"league cup|fa cup|football)\b", low))
    cricket = len(re.findall(r"\b(wickets?|innings|overs|batsman|bowler|test match|cricket)\b", low))
    votes["rugby union"] += 2 * rugby
    votes["football"] += 2 * football
    votes["cricket"] += 2 * cricket
    if "tennis" in low or re.search(r"\b\d-\d \d-\d\b", text):
        votes["tennis"] += 3
    return votes.most_common(1)[0][0] if votes else None


# ---------------------------------------------------------------- scores and teams


def _words_before(text: str, pos: int, n: int) -> list[str]:
    return re.findall(r"[\w']+", text[max(0, pos - 80):pos].lower())[-n:]


def _words_after(text: str, pos: int, n: int) -> list[str]:
    return re.findall(r"[\w']+", text[pos:pos + 60].lower())[:n]


def _score_facts(doc: Doc, kb: KnowledgeBase) -> list[MatchFact]:
    text = doc.text
    facts = [_with_competition(doc, f, doc.sentences[0], kb) for f in [_split_headline(doc)] if f]
    for m in SCORE_RE.finditer(text):
        x, y = int(m.group(1)), int(m.group(2))
        if max(x, y) > MAX_SCORE.get(doc.sport or "", 200):
            continue
        sent = next(s for s in doc.sentences if s[0] <= m.start() < s[1])
        after = _words_after(text, m.end(), 4)
        before = _words_before(text[sent[0]:], m.start() - sent[0], 6)  # never the last sentence's words
        if after[:2] in (["on", "penalties"], ["on", "aggregate"], ["pens"]) or after[:1] == ["agg"]:
            continue
        if "penalties" in before[-3:] or "shoot" in before[-3:] or "aggregate" in before[-2:]:
            continue
        fact = _headline_fact(doc, m, sent)
        at_line = fact is not None
        word = re.search(r"(?<![\w'’])([A-Z][\w.\-]*)\s$", text[max(0, m.start() - 30):m.start()])
        if fact is None and word and fold(word.group(1)) not in CALENDAR and re.match(
                r"\s[A-Z]", text[m.end():m.end() + 2]) and not re.search(r"\b(" + "|".join(RESULT_WORDS) + r")\s+"
                                                                    r"\S+\s$", text[max(0, m.start() - 40):m.start()]):
            continue  # 'Hearts of Oak 3-2 Cotonsport' with a team we do not know: no guessing from prose
        fact = fact or _prose_fact(doc, m, sent, before, after)
        if fact is None or not _plausible(fact, kb):
            continue
        if fact.reported and not at_line and any(f.reported and pair_key(f) != pair_key(fact) for f in facts):
            fact = replace(fact, reported=False)  # a lead reports one match; the others are context
        fact = _with_competition(doc, fact, sent, kb)
        facts.append(_with_extra(doc, fact, m))
    return facts


def _split_headline(doc: Doc) -> MatchFact | None:
    """A headline 'Leeds 0 Sunderland 1': each team with its score, the home side first."""
    m = re.match(r"\s*(" + NAME + r") (\d{1,3}) (" + NAME + r") (\d{1,3})\b", doc.text)
    if not m or m.start(4) > max(doc.title_end, 80):
        return None
    a = _headline_team(doc.kb, m.group(1), m.start(1), doc.sport)
    b = _headline_team(doc.kb, m.group(3), m.start(3), doc.sport)
    if a.entity_id is None or b.entity_id is None or a.entity_id == b.entity_id:
        return None
    return MatchFact(home=a.name, away=b.name, home_entity_id=a.entity_id, away_entity_id=b.entity_id,
                     home_score=int(m.group(2)), away_score=int(m.group(4)), reported=True, sport=doc.sport,
                     start_char=m.start(2))


def _plausible(fact: MatchFact, kb: KnowledgeBase) -> bool:
    """Two national teams or two clubs, of one sport ('Ireland 83-10 Leicester' is a misread)."""
    home, away = kb.entities.get(fact.home_entity_id or ""), kb.entities.get(fact.away_entity_id or "")
    if home is None or away is None:
        return True
    national = ("national" in home.name, "national" in away.name)
    return national[0] == national[1] and (home.sport == away.sport or not home.sport or not away.sport)


def _adjacent_team(doc: Doc, pos: int, side: str) -> TeamSpan | None:
    """The team whose name ends (side='before') or starts (side='after') right at pos."""
    for t in doc.teams:
        if side == "before" and 0 <= pos - t.end <= 1:
            return t
        if side == "after" and 0 <= t.start - pos <= 1:
            return t
    return None


def _headline_fact(doc: Doc, m: re.Match, sent: tuple[int, int]) -> MatchFact | None:
    """'A 2-1 B' (a headline or a results line): the home side is named first."""
    text = doc.text
    a = _adjacent_team(doc, m.start(), "before")
    b = _adjacent_team(doc, m.end(), "after")
    at_title = m.start() < max(doc.title_end, 1) or text[:m.start()].count(" ") <= 5
    if a is None and at_title:
        name = text[:m.start()].strip()
        if name and len(name.split()) <= 4 and name[0].isupper():
            a = _headline_team(doc.kb, name, 0, doc.sport)
    if b is None and a is not None and at_title:
        rest = text[m.end():doc.title_end] if doc.title_end > m.end() else text[m.end():m.end() + 40]
        words = re.match(r"\s*((?:[A-Z][\w'’.\-]*\s?){1,2})", rest if doc.title_end > m.end() else rest)
        if words and doc.title_end > m.end():
            b = _headline_team(doc.kb, rest.strip(), m.end() + 1, doc.sport)
        elif words:
            b = TeamSpan(m.end() + 1, m.end() + 1 + len(words.group(1).strip()), words.group(1).strip(), None)
    if a is None or b is None or (a.entity_id is None and b.entity_id is None):
        return None
    if a.entity_id and a.entity_id == b.entity_id:
        return None
    reported = m.start() < doc.lead_end and (at_title or m.start() <= sent[0] + 2)
    return MatchFact(home=a.name, away=b.name, home_entity_id=a.entity_id, away_entity_id=b.entity_id,
                     home_score=int(m.group(1)), away_score=int(m.group(2)), reported=reported,
                     sport=doc.sport, start_char=m.start())


def _headline_team(kb: KnowledgeBase, name: str, start: int, sport: str | None) -> TeamSpan:
    """A name a headline puts next to a score: a nickname is enough there ('Rangers 1-2 Celtic')."""
    cands = [c for c in _team_cands(kb, name) if sport is None or c.sport == sport]
    best = cands[0] if cands else None
    return TeamSpan(start, start + len(name), best.name if best else name, best.id if best else None)


def _prose_fact(doc: Doc, m: re.Match, sent: tuple[int, int], before: list[str], after: list[str]) -> MatchFact | None:
    """'his side's 1-1 draw with Fulham', 'England were beaten 11-9 by Wales in Cardiff'."""
    text = doc.text
    near = before[-5:] + after[:3]
    # the result word nearest the score: 'The defeat, coupled with Real Madrid's 4-0 win' is a win
    near_words = [(len(before[-5:]) - i, w) for i, w in enumerate(before[-5:])] + [(i + 1, w) for i, w in
                                                                                  enumerate(after[:3])]
    result = min(((d, w) for d, w in near_words if w in RESULT_WORDS), default=(0, None))[1]
    if result is None:
        return None
    in_sent = [t for t in doc.teams if sent[0] <= t.start < sent[1]]
    b = next((t for t in in_sent if t.start >= m.end() and AFTER_GAP.match(text[m.end():t.start])), None)
    pre = [t for t in in_sent if t.end <= m.start() and (b is None or t.entity_id != b.entity_id)]
    gap_text = text[pre[-1].end:m.start()].lower() if pre else text[sent[0]:m.start()].lower()
    pronoun = bool(PRONOUN.search(gap_text))
    if not in_sent and not pronoun and m.start() >= doc.lead_end:
        return None  # a bare score far from any team: a scoreline in a quote or a tennis set
    a: TeamSpan | None = None
    if pre and not pronoun:
        a = pre[-1]
        if b is None and len({t.entity_id for t in pre}) >= 2:
            others = [t for t in pre if t.entity_id != a.entity_id]
            a, b = others[-1], a
    if b is None and _unknown_opponent(doc, m):
        return None  # 'beating Dunfermline 3-1', 'a 5-1 win over Rosenborg': a team the knowledge base lacks
    if a is None:
        a = _subject(doc, m.start(), exclude=b)
    if b is None:
        b = _venue_team(doc, m, sent, exclude=a)
    if b is None:  # the opponent the article is about: a team its headline or lead names
        b = _subject(doc, m.start(), exclude=a, before=doc.lead_end)
    if a is None or b is None or a.entity_id == b.entity_id:
        return None
    hi, lo = max(int(m.group(1)), int(m.group(2))), min(int(m.group(1)), int(m.group(2)))
    passive = "by" in after[:3]
    a_won = result in WIN and not passive
    if result in LOSS or (result in WIN and passive):
        a_won = False
    between = text[a.end:b.start].lower() if sent[0] <= a.end <= b.start else ""
    if between and re.search(r"\b(lost|lose|losing|beaten)\b", between):
        a_won = False
    a_score, b_score = (hi, lo) if a_won else (lo, hi)
    if result in DRAW:
        a_score = b_score = hi
    reported = _reported(doc, m, sent)
    home, neutral = _home(doc, a, b, sent, m, near, reported)
    first, second = (a, b) if home == "a" else (b, a)
    s1, s2 = (a_score, b_score) if home == "a" else (b_score, a_score)
    return MatchFact(home=first.name, away=second.name, home_entity_id=first.entity_id,
                     away_entity_id=second.entity_id, home_score=s1, away_score=s2,
                     reported=reported, neutral=neutral, sport=doc.sport, start_char=m.start())


def _unknown_opponent(doc: Doc, m: re.Match) -> bool:
    """A capitalised name right after 'win over', 'defeat to' ... or right before the score that is no known team."""
    text = doc.text
    starts = {t.start for t in doc.named}
    after = UNKNOWN_AFTER.match(text, m.end())
    if after and after.start(1) not in starts and fold(after.group(1)) not in CALENDAR:
        return True
    before = re.search(r"([A-Z][\w\-]+(?:\s[A-Z][\w\-]+)*)\s+$", text[max(0, m.start() - 40):m.start()])
    if before and fold(before.group(1).split()[-1]) not in CALENDAR:
        pos = m.start() - len(before.group(0))
        return not any(t.start <= pos + len(before.group(1)) - 1 and t.end > pos for t in doc.named) and \
            bool(re.search(r"\b(" + "|".join(RESULT_WORDS) + r")\s+$", text[max(0, pos - 30):pos].lower()))
    return False


def _venue_team(doc: Doc, m: re.Match, sent: tuple[int, int], exclude: TeamSpan | None) -> TeamSpan | None:
    """'Chelsea's 1-0 defeat at St James' Park': the ground's team is the opponent (and at home)."""
    kb = doc.kb
    clause = doc.text[m.end():_clause_end(doc.text, m.end(), sent[1])]
    at = re.search(r"\bat\s+(?:the\s+)?(" + NAME + ")", clause)
    if not at:
        return None
    teams = [t for v in _venues(kb, re.sub(r"['’]s?$", "", at.group(1))) for t in v.teams]
    teams = [t for t in teams if exclude is None or t != exclude.entity_id]
    if len(teams) != 1 or teams[0] not in kb.entities:
        return None
    pos = m.end() + at.start(1)
    return TeamSpan(pos, pos + len(at.group(1)), kb.entities[teams[0]].name, teams[0])


def _subject(doc: Doc, pos: int, exclude: TeamSpan | None, before: int | None = None) -> TeamSpan | None:
    """The team the article is about: the first one it names (title first)."""
    for t in doc.named:
        if before is not None and t.start >= before:
            break
        if exclude is None or t.entity_id != exclude.entity_id:
            return replace(t, country_only=False)
    return None


def _nearest_before(doc: Doc, pos: int, exclude: TeamSpan | None) -> TeamSpan | None:
    for t in reversed(doc.teams):
        if t.end <= pos and (exclude is None or t.entity_id != exclude.entity_id):
            return t
    return _subject(doc, pos, exclude)


def _reported(doc: Doc, m: re.Match, sent: tuple[int, int]) -> bool:
    """A score in the lead of an article about the match (not a past result, not an off-field story)."""
    if m.start() >= doc.lead_end:
        return False
    lead = doc.text[:doc.lead_end]
    if PAST_CUES.search(doc.text[sent[0]:sent[1]]):
        return False
    first = next((s for s in doc.sentences if s[0] >= doc.title_end), sent)
    if sent != first and FUTURE.search(doc.text[first[0]:first[1]]):
        return False
    return not OFF_FIELD.search(lead)


def _place_country(kb: KnowledgeBase, place: str) -> set[str]:
    key = fold(place)
    out = set()
    for e in kb.entities.values():
        if e.city and fold(e.city) == key and e.country:
            out.add(fold(e.country))
    return out


def _home(doc: Doc, a: TeamSpan, b: TeamSpan, sent: tuple[int, int], m: re.Match, near: list[str],
          reported: bool) -> tuple[str, bool]:
    """Which of the two is at home ('a' or 'b'), and whether the text left it open (neutral)."""
    kb = doc.kb
    text = doc.text
    sentence = text[sent[0]:_clause_end(text, m.end(), sent[1])]
    ids = {"a": a.entity_id, "b": b.entity_id}
    clause = text[m.start():sent[1]]
    # 'at Manchester City', 'at the Nou Camp', 'in Cardiff', 'the Anfield crowd', 'losing 2-0 away'
    if re.search(r"\b(away|on the road)\b", " ".join(near[-3:])) or re.match(r"\s*away\b", text[m.end():m.end() + 8]):
        return "b", False
    if re.search(r"\bat home\b", clause[:40]):
        return "a", False
    scopes = [sent] + ([(0, doc.lead_end)] if reported else [])
    for lo, hi in scopes:
        for side, tid in ids.items():
            for t in doc.teams:
                if tid and t.entity_id == tid and lo <= t.start < hi and re.search(
                        r"\b(at|visit to|trip to)\s+$", text[max(lo, t.start - 12):t.start]):
                    return side, False
    home = _venue_home(kb, sentence, ids) or _venue_home(kb, text[sent[1]:sent[1] + 200], ids, at_only=True)
    if home:
        return home, False
    if reported:
        side = _visitors(doc, ids)
        if side:
            return side, False
    if re.search(r"\b(in|tour of|visit to|trip to) Europe\b|\bEuropean tour\b", sentence):
        # a touring side's 'displays in Europe': the European team was at home
        teams = {k: kb.entities.get(tid or "") for k, tid in ids.items()}
        europe = {k for k, t in teams.items() if t and t.country in EUROPE}
        if len(europe) == 1 and all(t and "national" in t.name for t in teams.values()):
            return europe.pop(), False
    return ("a" if a.start <= b.start or a.start < sent[0] else "b"), True


def _clause_end(text: str, pos: int, end: int) -> int:
    """Where the clause holding pos ends: 'a 3-0 victory last week, and now ... in Bergamo' stops at ', and'."""
    m = re.compile(r",? and (?:now|then)\b|;|, but\b| but\b|, while\b| - ").search(text, pos, end)
    return m.start() if m else end


def _visitors(doc: Doc, ids: dict[str, str | None]) -> str | None:
    """'United went ahead ... cancelled out the visitors' lead': the team named there is the away side."""
    for s0, s1 in doc.sentences:
        sent = doc.text[s0:s1]
        cue = re.search(r"\bthe (visitors|hosts|home side)['’]s? (lead|advantage)", sent)
        if not cue:
            continue
        named = {t.entity_id for t in doc.teams if s0 <= t.start < s0 + cue.start()} & set(ids.values())
        if len(named) == 1:
            tid = named.pop()
            side = next(k for k, v in ids.items() if v == tid)
            return side if cue.group(1) != "visitors" else ("b" if side == "a" else "a")
    return None


def _venue_home(kb: KnowledgeBase, sentence: str, ids: dict[str, str | None], at_only: bool = False) -> str | None:
    pat = r"\b(?:at|in)\s+(?:the\s+)?(" + NAME + ")" if not at_only else r"\bat\s+(?:the\s+)?(" + NAME + ")"
    places = [m.group(1) for m in re.finditer(pat, sentence)]
    places += [m.group(1) for m in re.finditer(r"\bthe (" + NAME + r") (?:crowd|faithful|pitch)", sentence)]
    for place in places:
        place = re.sub(r"(['’]s?)$", "", place)
        for side, tid in ids.items():
            team = kb.entities.get(tid) if tid else None
            if team is None:
                continue
            if fold(place) in {fold(a) for a in team.aliases} and at_only:
                return side
            for venue in _venues(kb, place):
                if tid in venue.teams:
                    return side
                if "national" in team.name and venue.country and team.country == venue.country and (
                        not venue.sport or venue.sport == team.sport):
                    return side
            if not at_only and team.city and fold(team.city) == fold(place) and "national" not in team.name:
                return side
            if not at_only and "national" in team.name and team.country and fold(team.country) in _place_country(
                    kb, place):
                return side
    return None


def _venues(kb: KnowledgeBase, name: str) -> list[Entity]:
    found = [e for e in kb.candidates(name) if e.label == "VENUE"]
    if found or len(name) < 6:
        return found
    # a misspelt ground ('Landsdowne Road') is still the ground
    names = _venue_names(kb)
    close = difflib.get_close_matches(fold(name), list(names), n=1, cutoff=0.9)
    return [names[close[0]]] if close else []


def _venue_names(kb: KnowledgeBase) -> dict[str, Entity]:
    return {fold(a): e for e in kb.entities.values() if e.label == "VENUE" for a in e.aliases}


def _with_extra(doc: Doc, fact: MatchFact, m: re.Match) -> MatchFact:
    window = doc.text[max(0, m.start() - 150):m.end() + 200].lower()
    extra = bool(re.search(r"after extra[- ]time|\baet\b|\ba\.e\.t\b", window))
    pens = PENALTIES.search(window) if fact.reported else None
    pen = "-".join(g for g in pens.groups() if g) if pens else None
    return replace(fact, extra_time=extra or bool(pen), penalties=pen)


def _with_competition(doc: Doc, fact: MatchFact, sent: tuple[int, int], kb: KnowledgeBase) -> MatchFact:
    """The competition named in the sentence (or the lead of a report), else the teams' shared league."""
    spans = [doc.text[sent[0]:_clause_end(doc.text, fact.start_char, sent[1])]]
    if fact.reported:
        spans.append(doc.text[:doc.lead_end])
    both = {fact.home_entity_id, fact.away_entity_id}
    spans += [doc.text[s0:s1] for s0, s1 in doc.sentences  # 'the first leg of their quarter-final with Liverpool'
              if both <= {t.entity_id for t in doc.named if s0 <= t.start < s1}]
    for span in spans:
        for run in re.finditer(r"[A-Z][\w'’.&\-]*(?:\s+(?:of|[A-Z][\w'’.&\-]*|\d{4}))*", span):
            words = run.group().split()
            for i in range(len(words)):
                for j in range(len(words), i, -1):
                    comp = [e for e in kb.candidates(" ".join(words[i:j])) if e.label == "COMPETITION"
                            and (e.sport is None or e.sport == fact.sport)]
                    tail = span[run.start() + len(" ".join(words[:j])):][:20]
                    if comp and re.match(r"\s+(side|club|team|outfit|leaders|champions|strugglers|new boys)\b", tail):
                        comp = []  # 'the Serie A side': the team's league, not this match's competition
                    if comp:
                        return replace(fact, competition=comp[0].name, competition_entity_id=comp[0].id)
    la, lb = _league(kb, fact.home_entity_id), _league(kb, fact.away_entity_id)
    if la and la == lb:
        comp = [e for e in kb.candidates(la) if e.label == "COMPETITION"]
        if comp:
            return replace(fact, competition=comp[0].name, competition_entity_id=comp[0].id)
        return replace(fact, competition=la)
    return fact


# ---------------------------------------------------------------- scorers


def _scorers(doc: Doc, fact: MatchFact, kb: KnowledgeBase) -> tuple[MatchScorer, ...]:
    footer = _footer_scorers(doc, fact)
    if footer:
        return tuple(_full_name(doc, s) for s in footer)
    if doc.sport and doc.sport.startswith("rugby"):
        return tuple(_full_name(doc, s) for s in _rugby_footer(doc, fact)) or _rugby_prose(doc, fact)
    return _football_prose(doc, fact)


def _rugby_footer(doc: Doc, fact: MatchFact) -> list[MatchScorer]:
    """Scoring lines under each side: 'Tries: Moody, Murphy 2 Cons: Goode 3 Pens: Goode 2 DG: Goode'."""
    labels = "|".join(sorted((re.escape(k) for k in RUGBY_KINDS), key=len, reverse=True))
    item = re.compile(r"\b(" + labels + r")\s*:\s*(.+?)(?=\s*\b(?:" + labels + r")\s*:|[.;]|$)", re.I)
    out = []
    for m in item.finditer(doc.text):
        kind = RUGBY_KINDS[m.group(1).lower()]
        side = _team_before(doc, fact, m.start())
        for entry in re.split(r",\s*|\s+and\s+", m.group(2)):
            got = re.fullmatch(r"([A-Z][\w'’\-]+(?: [A-Z][\w'’\-]+){0,2})(?: \(?(\d)\)?)?", entry.strip())
            if got:
                out += [MatchScorer(player=got.group(1), team=side[0], team_entity_id=side[1], minute=None, kind=kind)
                        ] * int(got.group(2) or 1)
    return out


def _team_before(doc: Doc, fact: MatchFact, pos: int) -> tuple[str, str | None]:
    """The match team named last before pos (a footer follows its side's label), else the home side."""
    for t in reversed(doc.teams):
        if t.end <= pos and t.entity_id in (fact.home_entity_id, fact.away_entity_id):
            return t.name, t.entity_id
    return fact.home, fact.home_entity_id


def _footer_scorers(doc: Doc, fact: MatchFact) -> list[MatchScorer]:
    """Line-up footers: 'Archibald 19, Grady 29.' or 'Goals: Fowler 49 pen.' after each team's line-up."""
    text = doc.text
    lineups = [m.start() for m in re.finditer(r"(?:[A-Z][\w'’\-]*(?: [A-Z][\w'’\-]*)*(?: \([^)]*\))?[,;] ){7,}",
                                              text)]
    if not lineups:
        return []
    out = []
    start = lineups[0]
    for seg in re.split(r"(?<=\.)\s+", text[start:]):
        seg_start = text.index(seg, start)
        start = seg_start + len(seg)
        body = re.sub(r"^(Goals?|Scorers?)\s*:\s*", "", seg.strip()).rstrip(".")
        if not body or "(" in body:
            continue
        items = list(FOOTER_ITEM.finditer(body))
        if not items or "".join(i.group() for i in items).replace(" ", "").replace(",", "") != body.replace(
                " ", "").replace(",", ""):
            continue
        k = sum(1 for p in lineups if p < seg_start)
        home_side = k <= 1 and not _second_team_label(doc.kb, text, seg_start, fact)
        team = (fact.home, fact.home_entity_id) if home_side else (fact.away, fact.away_entity_id)
        for item in items:
            for mm in MINUTE_RE.finditer(item.group(2)):
                kind = {"pen": "penalty", "og": "own goal"}.get(mm.group(2) or "", "goal")
                out.append(MatchScorer(player=item.group(1), team=team[0], team_entity_id=team[1],
                                       minute=int(mm.group(1)), kind=kind))
    return out


def _second_team_label(kb: KnowledgeBase, text: str, pos: int, fact: MatchFact) -> bool:
    """True when a 'Newcastle:' line-up label of the away side comes before pos."""
    away = kb.entities.get(fact.away_entity_id or "")
    names = [fact.away] + (list(away.aliases) if away else [])
    for n in names:
        i = text.rfind(n + ":", 0, pos)
        if i >= 0:
            home = kb.entities.get(fact.home_entity_id or "")
            hn = [fact.home] + (list(home.aliases) if home else [])
            return all(text.rfind(h + ":", 0, pos) < i for h in hn)
    return False


def _full_name(doc: Doc, s: MatchScorer) -> MatchScorer:
    for person in doc.people:
        words = person.split()
        if 2 <= len(words) <= 3 and words[-1] == s.player:
            return replace(s, player=person)
    for m in re.finditer(r"\b([A-Z][\w'’\-]+ (?:(?:van|de|da|di|[A-Z][\w'’\-]+) )?)" + re.escape(s.player) + r"\b",
                         doc.text):
        words = m.group(1).split()
        while words and (_team_cands(doc.kb, words[0]) or words[0] in STOP_CAPS):
            words = words[1:]  # 'Liverpool Fernando Morientes' after a headline, 'But Morientes'
        if words:
            return replace(s, player=" ".join([*words, s.player]))
    return s


def _team_of(doc: Doc, fact: MatchFact, start: int, end: int) -> tuple[str, str | None]:
    for t in doc.teams:
        if start <= t.start < end and t.entity_id in (fact.home_entity_id, fact.away_entity_id):
            return t.name, t.entity_id
    return fact.home, fact.home_entity_id


def _football_prose(doc: Doc, fact: MatchFact) -> tuple[MatchScorer, ...]:
    """'went ahead through Alan Smith in the 33rd minute', 'Diop's strike ... in the 87th minute'."""
    out = []
    person = r"([A-Z][\w'’\-]+(?: [A-Z][\w'’\-]+){0,2})"
    who = r"(?P<who>[A-Z][\w'’\-]+(?: [A-Z][\w'’\-]+){0,2})"
    at = r"(?:in|after|on) (?:the )?(?P<min>\d{1,3})(?:st|nd|rd|th)? minutes?"
    shots = (r"(?P<kind>strike|header|shot|volley|goal|penalty|effort|finish|lob|free-kick|free kick|own goal|"
             r"winner|equaliser)")
    pats = [
        who + r"(?:'s?|’s?) (?:[\w\-]+ ){0,4}" + shots + r"(?: [\w\-']+){0,8}? " + at,
        who + r"(?:'s?|’s?) (?:[\w\-]+ )?(?P<min>\d{1,3})(?:st|nd|rd|th)?-minute " + shots,
        r"through " + who + " " + at,
        who + r" (?:scored|netted|headed|fired|struck|slotted|volleyed|curled|tapped|poked|prodded|drilled|smashed)"
        r"(?: [\w\-']+){0,8}? " + at,
        who + r" (?:then )?(?:made it|put \w+) \d{1,2}-\d{1,2}(?: [\w\-']+){0,3}? " + at,
    ]
    for s0, s1 in doc.sentences:
        sent = doc.text[s0:s1]
        for p in pats:
            for m in re.finditer(p, sent):
                name = m.group("who")
                if _team_cands_text(doc, s0 + m.start(1), s0 + m.end(1)) or name.split()[0] in STOP_CAPS:
                    continue
                kinds = {"penalty": "penalty", "own goal": "own goal"}
                kind = kinds.get(m.groupdict().get("kind") or "", "goal")
                team = _team_of(doc, fact, s0, s1)
                out.append(MatchScorer(player=name, team=team[0], team_entity_id=team[1], minute=int(m.group("min")),
                                       kind=kind))
    # 'Arjen Robben grabbed the winner after five minutes', 'Tom Ashby opened the scoring for Arsenal'
    for s0, s1 in doc.sentences:
        sent = doc.text[s0:s1]
        for m in re.finditer(person + r" (?:opened the scoring|(?:scored|grabbed|netted|hit|struck) the (?:winner|"
                             r"opener|only goal|winning goal|equaliser)|equalised|levelled)", sent):
            if _team_cands_text(doc, s0 + m.start(1), s0 + m.end(1)):
                continue
            clause = sent[m.end():_clause_end(sent, m.end(), len(sent))]
            when = re.search(r"(?:in the (\d{1,3})(?:st|nd|rd|th) minute|after (\d{1,3}|" + "|".join(NUMBERS) +
                             r") minutes)", clause)
            minute = None
            if when:
                word = when.group(1) or when.group(2)
                minute = int(word) if word.isdigit() else NUMBERS.index(word) + 1
            team = _team_of(doc, fact, s0, s1)
            out.append(MatchScorer(player=m.group(1), team=team[0], team_entity_id=team[1], minute=minute, kind="goal"))
    seen, uniq = set(), []
    for s in out:
        k = (s.player.split()[-1], s.minute)
        if k not in seen:
            seen.add(k)
            uniq.append(s)
    return tuple(uniq)


def _team_cands_text(doc: Doc, start: int, end: int) -> bool:
    return any(t.start < end and start < t.end for t in doc.teams)


def _rugby_prose(doc: Doc, fact: MatchFact) -> tuple[MatchScorer, ...]:
    """'tries from Moody, Murphy and Corry', 'a Josh Lewsey try', 'Goode ... with a penalty and a drop goal'."""
    out: list[MatchScorer] = []
    person = r"[A-Z][\w'’\-]+(?: (?:van |de )?[A-Z][\w'’\-]+){0,2}"
    people = rf"({person}(?:, {person})*(?:,? and {person})?)"
    for s0, s1 in doc.sentences:
        sent = doc.text[s0:s1]
        team = _team_of(doc, fact, s0, s1)

        def add(names: str, kind: str, team: tuple[str, str | None] = team) -> None:
            for n in re.split(r",? and |, ", names):
                n = re.sub(r"^(?:(?:" + ROLE_WORDS + r")\s+)+", "", n, flags=re.I)  # 'Fly-half Adam Wood'
                if n and not _is_team_name(doc, n):
                    out.append(MatchScorer(player=n.strip(), team=team[0], team_entity_id=team[1], minute=None,
                                           kind=kind))

        for m in re.finditer(r"\b(tries|a try|try|conversions?|penalties|drop goals?) (?:from|by|for) "
                             r"(?:[A-Z][\w'’\-]+ (?:substitute|replacement|" + ROLE_WORDS + r") )?" + people, sent):
            kind = {"tries": "try", "a try": "try", "try": "try", "penalties": "penalty goal"}.get(
                m.group(1), "drop goal" if "drop" in m.group(1) else "conversion")
            add(m.group(2), kind)
        for m in re.finditer(r"\ban? (" + person + r")(?:'s)? (try|drop goal|penalty try)\b", sent):
            if m.group(2) != "penalty try":
                add(m.group(1), m.group(2))
        for m in re.finditer(r"(" + person + r") (?:kicked|landed|slotted|added|struck)(?: [\w']+){0,5}? with "
                             r"(?:an? |two |three )?(penalty|drop goal|conversion)(?: and (?:an? )?(penalty|drop goal|"
                             r"conversion))?", sent):
            for g in (m.group(2), m.group(3)):
                if g:
                    add(m.group(1), {"penalty": "penalty goal"}.get(g, g))
        for m in re.finditer(r"(" + person + r") (?:went over|crossed|touched down|scored a try|dived over)", sent):
            add(m.group(1), "try")
    # the same try told twice ('tries for Murphy and Stringer' ... 'a sparkling try for Murphy') counts once
    seen: set[tuple[str, str]] = set()
    uniq = []
    for sc in out:
        key = (fold(sc.player).split()[-1], sc.kind)
        if key not in seen and fold(sc.player) not in {fold(fact.home), fold(fact.away)}:
            seen.add(key)
            uniq.append(sc)
    return tuple(uniq)


def _is_team_name(doc: Doc, name: str) -> bool:
    return bool(_team_cands(doc.kb, name)) or name.split()[0] in {"The", "A", "An"} or name in DEMONYMS or any(
        name == doc.text[t.start:t.end] for t in doc.named) or name.split()[-1] in STOP_CAPS


# ---------------------------------------------------------------- dates


def _dated(doc: Doc, fact: MatchFact, published: date | None) -> MatchFact:
    """The match date from the article's date and the words around the score."""
    if published is None:
        return fact
    sent = next((s for s in doc.sentences if s[0] <= fact.start_char < s[1]), (0, len(doc.text)))
    window = doc.text[sent[0]:sent[1]].lower()
    if fact.reported:
        window += " " + doc.text[:doc.lead_end].lower()
    m = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)? (" + "|".join(MONTHS) + r")\b", window) or re.search(
        r"\b(" + "|".join(MONTHS) + r") (\d{1,2})(?:st|nd|rd|th)?\b", window)
    if m:
        day, month = (m.group(1), m.group(2)) if m.group(1).isdigit() else (m.group(2), m.group(1))
        try:
            d = date(published.year, MONTHS.index(month) + 1, int(day))
        except ValueError:
            d = None
        if d:
            if d > published:
                d = d.replace(year=d.year - 1)
            return replace(fact, match_date=d, date_certain=True)
    m = re.search(r"\b(last |this )?(" + "|".join(WEEKDAYS) + r")(?:'s)?\b", window)
    if m:
        back = (published.weekday() - WEEKDAYS.index(m.group(2))) % 7
        if m.group(1) == "last " and back == 0:
            back = 7
        return replace(fact, match_date=published - timedelta(days=back), date_certain=True)
    if re.search(r"\byesterday\b|\blast night\b", window):
        return replace(fact, match_date=published - timedelta(days=1), date_certain=True)
    if re.search(r"\blast week(end)?\b|\bat the weekend\b", window):
        return replace(fact, match_date=published - timedelta(days=7), date_certain=False)
    return replace(fact, match_date=published, date_certain=False)


def match_texts(tagger: SportsTagger, texts: Sequence[str]) -> list[tuple[bool, tuple[MatchFact, ...]]]:
    """Plain texts (title and body run together) -> match facts, tagged by the flow's tagger."""
    return [read_matches(None, text, tagger.mentions(tags), tagger.kb)
            for text, tags in zip(texts, tagger.tag_texts(texts), strict=True)]


# ---------------------------------------------------------------- one match, several reports

REPORT_COLS = ["article_id", "match_id", "reported", "home_entity_id", "away_entity_id", "home_name", "away_name",
               "home_score", "away_score", "neutral", "sport", "competition_entity_id", "competition", "match_date",
               "date_certain", "extra_time", "penalties", "start_char"]
MATCH_COLS = ["match_id", "match_date", "date_certain", "sport", "home_entity_id", "away_entity_id", "home_name",
              "away_name", "home_score", "away_score", "neutral", "competition_entity_id", "competition",
              "extra_time", "penalties", "reports", "conflicting"]
SAME_MATCH_DAYS = 3  # two reports of one pairing this close together are one match (dates read from text vary)


def team_key(entity_id: str | None, name: str) -> str:
    """A team's key for matching reports: its entity id, else its folded name."""
    return entity_id or "name:" + fold(name)


def pair_key(fact: MatchFact) -> frozenset[str]:
    """The two teams of a match, in either order."""
    return frozenset([team_key(fact.home_entity_id, fact.home), team_key(fact.away_entity_id, fact.away)])


def same_match(known: Sequence[tuple[str, frozenset[str], date | None]], fact: MatchFact) -> str | None:
    """The id of a known match (id, teams, date) that this fact reports too, if any."""
    key, day = pair_key(fact), fact.match_date
    near = [(abs((d - day).days) if d and day else 0, mid) for mid, k, d in known if k == key and (
        d is None or day is None or abs((d - day).days) <= SAME_MATCH_DAYS)]
    return min(near)[1] if near else None


def majority(reports: Sequence[dict]) -> dict:
    """One match row from its reports (dicts of REPORT_COLS): the score most reports state wins."""
    def score_key(r: dict) -> frozenset:
        return frozenset([(team_key(r["home_entity_id"], r["home_name"]), r["home_score"]),
                          (team_key(r["away_entity_id"], r["away_name"]), r["away_score"])])

    votes = Counter(score_key(r) for r in reports)
    order = {id(r): i for i, r in enumerate(reports)}
    best = max(votes, key=lambda k: (votes[k], sum(r["reported"] for r in reports if score_key(r) == k),
                                     -min(order[id(r)] for r in reports if score_key(r) == k)))
    group = [r for r in reports if score_key(r) == best]
    sided = [r for r in group if not r["neutral"]] or group
    home = Counter((r["home_entity_id"], r["home_name"]) for r in sided).most_common(1)[0][0]
    row = next(r for r in sided if (r["home_entity_id"], r["home_name"]) == home)
    certain = [r["match_date"] for r in reports if r["date_certain"] and r["match_date"]]
    dates = certain or [r["match_date"] for r in reports if r["match_date"]]

    def common(col: str) -> object:
        vals = [r[col] for r in reports if r[col]]
        return Counter(vals).most_common(1)[0][0] if vals else None

    return {"match_id": reports[0]["match_id"], "match_date": Counter(dates).most_common(1)[0][0] if dates else None,
            "date_certain": bool(certain), "sport": common("sport"), "home_entity_id": row["home_entity_id"],
            "away_entity_id": row["away_entity_id"], "home_name": row["home_name"], "away_name": row["away_name"],
            "home_score": row["home_score"], "away_score": row["away_score"],
            "neutral": all(r["neutral"] for r in group), "competition_entity_id": common("competition_entity_id"),
            "competition": common("competition"), "extra_time": any(r["extra_time"] for r in group),
            "penalties": common("penalties"), "reports": len({r["article_id"] for r in reports}),
            "conflicting": len(votes) > 1}
