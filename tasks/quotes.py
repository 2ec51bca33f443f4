"""Quotes: article text + its tagged mentions + the knowledge base -> direct quotes with speakers.

Pure string work over the text and the tagger's mentions (no model, no parser), so it costs a few
percent of tagging. Four steps: find the quoted spans (any mix of straight, curly and doubled
marks, unbalanced ones included), attribute each from its own sentence ("...," said X / X said /
X told Y: "..." / X has called it "..."), else carry the speaker over from the quote it continues
or the sentence before it, and finally read each speaker's role and team from the words around
their name, then from the knowledge base.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from schemas.records import Mention, Quote
from tasks.kb import Entity, KnowledgeBase, default_kb, fold, slug

PERSON_LABELS = {"PERSON", "PLAYER", "COACH"}
ORG_LABELS = {"TEAM", "ORG"}
SPEECH_VERBS = [
    "said", "say", "says", "told", "tell", "tells", "added", "adds", "insisted", "insists", "admitted", "admits",
    "explained", "explains", "stated", "states", "asked", "asks", "warned", "warns", "claimed", "claims",
    "revealed", "reveals", "continued", "continues", "stressed", "stresses", "declared", "declares", "confirmed",
    "confirms", "commented", "comments", "remarked", "replied", "replies", "responded", "responds", "agreed",
    "agrees", "argued", "argues", "noted", "notes", "suggested", "suggests", "joked", "jokes", "conceded",
    "concedes", "described", "describes", "called", "calls", "wrote", "writes", "announced", "announces", "urged",
    "urges", "maintained", "maintains", "acknowledged", "acknowledges", "recalled", "recalls", "reckoned",
    "reckons", "predicted", "predicts", "vowed", "vows", "promised", "promises", "quipped", "boasted",
    "complained", "complains", "fumed", "enthused", "beamed", "laughed", "added", "explained", "observed",
    "observes", "mused", "insisted", "summed", "reflected", "reflects", "admitted", "pointed", "countered",
    "cautioned", "read", "reads"
]
SPEECH = frozenset(SPEECH_VERBS)
# verbs of a narrative sentence that introduce the quote after it ("Bwalya warned his side ...")
STANCE = SPEECH | frozenset([
    "believes", "believed", "feels", "felt", "thinks", "thought", "hopes", "hoped", "knows", "expects",
    "expected", "wants", "wanted", "fears", "feared", "accepts", "accepted"
])
AUX = r"(?:(?:has|had|have|was|is|then|later|also|once|again|simply|just|previously|earlier|recently)\s+)*"
PRONOUNS = {"he": "m", "she": "f"}
RELATIVE = {"who", "whom"}
NOT_NAMES = frozenset(
    [
        "the", "a", "an", "he", "she", "it", "they", "we", "i", "you", "his", "her", "its", "their", "our", "but",
        "and", "however", "in", "on", "at", "for", "with", "after", "before", "when", "while", "if", "as", "this",
        "that", "these", "those", "there", "here", "then", "so", "yet", "also", "meanwhile", "although", "though",
        "since", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
        "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
        "december", "mr", "mrs", "ms", "sir", "dr"
    ]
)
# A description that stands for the person in focus: "the 36-year-old", "The United boss".
DESCRIPTION = re.compile(
    r"\b(?:the|this)\s+(?:[\w'’-]+\s+){0,3}?(?:\d+-year-old(?-i:\s+[A-Z][a-z]+(?![\w'’-]*\s+[A-Z]))?|"
    r"[a-z-]+man|boss|manager|coach|captain|"
    r"skipper|striker|midfielder|defender|goalkeeper|keeper|forward|winger|player|star|athlete|sprinter|veteran|"
    r"youngster|international|chairman|chief|champion|scot|welshman|irishman|australian|american|argentine|"
    r"brazilian|italian|spaniard|german|dutchman|frenchman|portuguese|swede|dane|norwegian|nigerian|director|"
    r"president|owner|executive|secretary)\b",
    re.I,
)
INDEFINITE = re.compile(
    r"\b(?:[Aa]n?|[Oo]ne|[Tt]he)\s+(?:[\w'’-]+\s+){0,3}?(?:spokesman|spokeswoman|spokesperson|source|insider|"
    r"friend|official|representative|statement)\b(?:\s+(?:for|from|of|at|on)\s+(?:the\s+)?[\w'’-]+)?"
)
STATEMENT = re.compile(r"\bstatement\b|\bwebsite\b|\bofficial site\b")
# Role words, in the order a person's roles are preferred when several are given.
ROLE_WORDS: list[tuple[str, str]] = [
    (r"assistant(?:\s+(?:manager|boss|coach|head\s+coach))|number\s+two|first-team\s+coach", "coach"),
    (r"technical\s+director|head\s+coach|coach|coaches|trainer|director\s+of\s+rugby|team\s+director", "coach"),
    (r"caretaker(?:\s+manager|-boss)?|player-manager|manager|boss|gaffer", "manager"),
    (r"vice-chairman|chairman|chairwoman|president", "chairman"),
    (r"chief\s+executive|ceo|managing\s+director|owner|executive|director\s+of\s+football|sporting\s+director|"
     r"general\s+manager", "executive"),
    (r"communications\s+director|director|official|secretary|commissioner|head\s+of|media\s+officer|"
     r"administrator|spokesman|spokeswoman|spokesperson", "official"),
    (r"referee|umpire|linesman|fourth\s+official", "referee"),
    (r"pundit|commentator|analyst|columnist|summariser|broadcaster", "pundit"),
    (r"captain|skipper|striker|midfielder|defender|goalkeeper|keeper|forward|winger|full-back|centre-back|"
     r"number\s+(?:eight|nine|ten|seven|six)|fly-half|scrum-half|prop|flanker|hooker|lock|batsman|bowler|spinner|"
     r"paceman|seamer|all-rounder|opener|wicketkeeper|wicket-keeper|sprinter|athlete|runner|hurdler|jumper|"
     r"thrower|swimmer|cyclist|rider|driver|golfer|boxer|jockey|player|players|star|international|champion|"
     r"medallist|quarterback|pitcher|youngster|veteran|debutant|team-mate|teammate|tennis\s+player|seed|"
     r"world\s+number\s+\w+", "player"),
    (r"lawyer|lawyers|solicitor|barrister|attorney|agent|doctor|physio|minister|father|mother|wife|husband|"
     r"brother|sister|son|daughter|promoter|sponsor", "other"),
]
ROLE_RE = [(re.compile(rf"\b(?:{pat})\b", re.I), role) for pat, role in ROLE_WORDS]
PRIORITY = ["manager", "coach", "chairman", "executive", "official", "referee", "player", "other", "pundit"]
FORMER = re.compile(r"\b(?:former|ex-|one-time|retired|then)\s*(?:[\w'’-]+\s+){0,3}$", re.I)
NOW_PLAYS = re.compile(r"\b(?:now\s+(?:playing|plays)\s+(?:for|with)|now\s+with|who\s+now\s+plays\s+for)\s+$", re.I)
BODY = frozenset([
    "fc", "club", "united", "city", "court", "courts", "press", "news", "times", "radio", "sport", "sports", "tv",
    "television", "group", "company", "stadium", "park", "cup", "trophy", "games", "olympics", "championship",
    "championships", "party"
])
GOVERNING = ("federation", "association", "council", "committee", "board", "union", "agency", "authority",
             "confederation", "commission", "league", "iaaf", "fifa", "uefa", "icc", "ioc", "wada")


SUBJECT_VERB = re.compile(r"\s+(?:(?:is|was|has|had|did|does|will|would|could|also|then)\b|[a-z]+ed\b|"
                          r"(?:says|insists|believes|admits|told|said|added|revealed|warned|claims|feels|thinks)\b)")


@dataclass
class _Span:
    start: int  # first character of the quoted words
    end: int  # one past the last
    open_at: int  # the opening mark
    close_at: int | None  # the closing mark, None when it was left off
    after: int = 0  # one past the closing mark (or the quoted words when it was left off)


@dataclass
class _Who:
    """A resolved speaker."""

    name: str | None
    entity_id: str | None
    kind: str  # person | organisation | unknown
    key: str | None = None  # person key, for role and team


@dataclass
class _Person:
    key: str
    name: str
    entity_id: str
    label: str
    spans: list[tuple[int, int]] = field(default_factory=list)  # mentions outside quotes
    descriptions: list[tuple[int, int]] = field(default_factory=list)  # "The United boss" resolved to them


def find_quote_spans(text: str) -> list[tuple[int, int, bool]]:
    """Quoted spans as (start, end, closed): the words inside the marks, stripped of spaces."""
    return [(s.start, s.end, s.close_at is not None) for s in _spans(text)]


def _spans(text: str) -> list[_Span]:
    marks = _marks(text, r"''|[\"“”„‟«»]", double=True)
    spans = _pair(text, marks)
    if not spans:  # the text quotes speech in single marks (the Guardian's style), or not at all
        spans = [s for s in _pair(text, _marks(text, r"[‘’']", double=False)) if len(s_words(text, s)) >= 3]
    return spans


def s_words(text: str, span: _Span) -> list[str]:
    """The words of a span."""
    return text[span.start : span.end].split()


def _marks(text: str, pattern: str, *, double: bool) -> list[tuple[int, int, str]]:
    """Quotation marks as (position, length, 'open'|'close'), decided by the characters around them."""
    out = []
    n = len(text)
    for m in re.finditer(pattern, text):
        s, e = m.span()
        ch = m.group()
        prev = text[s - 1] if s > 0 else " "
        nxt = text[e] if e < n else " "
        left = prev.isspace() or prev in "([{—–-/" or s == 0
        right = nxt.isspace() or nxt in ".,;:!?)]}—–-" or e == n
        if not double:
            if ch == "‘" and not prev.isalnum() or left and nxt.isalnum():
                kind = "open"
            elif not left and right and (prev in ".,!?;:—-" or nxt in ".,;:!?)" or _cue_follows(text, e)):
                kind = "close"
            else:
                continue  # an apostrophe
        elif ch in "“„‟«":
            kind = "close" if (prev.isalnum() or prev in ".,!?") and right else "open"
        elif ch in "”»":
            kind = "open" if left and not right else "close"
        elif left and not right:
            kind = "open"
        elif right and not left:
            kind = "close"
        else:
            continue  # a mark with space (or letters) on both sides says nothing
        out.append((s, e - s, kind))
    return out


def _cue_follows(text: str, pos: int) -> bool:
    m = re.match(r"\s+([A-Za-z]+)", text[pos : pos + 20])
    return bool(m) and (m.group(1).lower() in SPEECH or m.group(1).lower() in PRONOUNS)


def _pair(text: str, marks: list[tuple[int, int, str]]) -> list[_Span]:
    """Pair open and close marks; an open mark that meets another open mark (a quote running on into
    the next paragraph, its closing mark left off) or a paragraph break ends there."""
    spans: list[_Span] = []
    open_at: int | None = None
    inner = 0

    def close(end: int, close_at: int | None, close_end: int = 0) -> None:
        assert open_at is not None
        s, e = inner, end
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append(_Span(s, e, open_at, close_at, close_end if close_at is not None else e))

    for pos, length, kind in marks:
        if open_at is not None:
            brk = text.find("\n", inner, pos)
            if brk >= 0:
                close(brk, None)
                open_at = None
        if kind == "open":
            if open_at is not None:
                close(pos, None)
            open_at, inner = pos, pos + length
        elif open_at is not None:
            close(pos, pos, pos + length)
            open_at = None
    if open_at is not None:
        brk = text.find("\n", inner)
        close(brk if brk >= 0 else len(text), None)
    return spans


class _Article:
    """One text, its quotes and names, and what is known about each person."""

    def __init__(self, text: str, mentions: Sequence[Mention], kb: KnowledgeBase):
        self.text, self.kb = text, kb
        self.spans = _spans(text)
        self.inside = [(s.open_at, s.after) for s in self.spans]
        self.people: dict[str, _Person] = {}
        self.refs: list[tuple[int, int, str, str]] = []  # (start, end, kind person|org, key or entity id)
        self.orgs: dict[str, tuple[str, str, int, int]] = {}  # entity id -> (name, label, start, end)
        self.org_mentions: list[Mention] = []
        self.org_mentions_all = [m for m in mentions if m.label in ORG_LABELS]
        self.other_spans = sorted((m.start_char, m.end_char, m) for m in mentions
                                  if m.label not in PERSON_LABELS and m.label not in ORG_LABELS and m.label != "PLACE")
        self._sport: str | None = None
        self._inside_starts = [a for a, _ in self.inside]
        self._index_names(mentions)
        self.refs.sort(key=lambda r: (r[0], r[1]))
        self._ref_starts = [r[0] for r in self.refs]
        self._other_starts = [o[0] for o in self.other_spans]
        self.sentence_ends = [m.end() for m in re.finditer(r"[.!?](?=[\"'”’]?\s+[\"“‘'A-Z])|\n", text)]
        self._subjects: dict[tuple[int, int], str | None] = {}  # sentence -> the person it makes the focus

    # -- names -------------------------------------------------------------------------------
    def in_quote(self, pos: int) -> bool:
        """Is this position inside quotation marks?"""
        i = bisect_right(self._inside_starts, pos) - 1
        return i >= 0 and pos < self.inside[i][1]

    def _index_names(self, mentions: Sequence[Mention]) -> None:
        for m in sorted(mentions, key=lambda m: m.start_char):
            if self.in_quote(m.start_char):
                continue
            if m.label in PERSON_LABELS or (m.label in ORG_LABELS and (
                    self._looks_personal(m) or self._lone_surname(m))):
                key = self._person_key(m)
                self.refs.append((m.start_char, m.end_char, "person", key))
                self.people[key].spans.append((m.start_char, m.end_char))
            elif m.label in ORG_LABELS:
                self.refs.append((m.start_char, m.end_char, "org", m.entity_id))
                self.orgs.setdefault(m.entity_id, (m.canonical_name, m.label, m.start_char, m.end_char))
                self.org_mentions.append(m)
        # the surname written where the tagger missed it ("Savage's future at Birmingham")
        owners: dict[str, list[_Person]] = {}
        for p in self.people.values():
            if len(p.name.split()) > 1:
                owners.setdefault(p.name.split()[-1], []).append(p)
        for surname, ps in owners.items():
            if len(ps) == 1:
                seen = set(ps[0].spans)
                for m in re.finditer(rf"\b{re.escape(surname)}\b", self.text):
                    if not self.in_quote(m.start()) and not any(a <= m.start() < b for a, b in seen):
                        ps[0].spans.append(m.span())
                ps[0].spans.sort()

    def _lone_surname(self, m: Mention) -> bool:
        """A single word the model called an ORG that is someone's surname: written after a first name
        earlier, or right before a verb of speech ("a tearful Claxton told BBC Sport")."""
        word = m.surface
        if m.label != "ORG" or m.entity_id in self.kb.entities or " " in word or word.isupper():
            return False
        if self._by_part(word, m.start_char) is not None or self._untagged_full_name(word, m.start_char):
            return True
        if word.lower() in BODY or word.endswith("s"):
            return False
        nxt = re.match(rf"\s+{AUX}([a-z]+)", self.text[m.end_char : m.end_char + 40])
        prev = re.search(r"\b([a-z]+)\s+$", self.text[max(0, m.start_char - 12) : m.start_char])
        return bool(nxt and nxt.group(1) in SPEECH) or bool(prev and prev.group(1) in SPEECH)

    def _looks_personal(self, m: Mention) -> bool:
        """An ORG the model made of a foreign person's name ("Marion Jones", "Freddie Ljungberg")."""
        words = m.surface.split()
        return (m.entity_id not in self.kb.entities and 2 <= len(words) <= 3
                and all(w[:1].isupper() and w.replace("-", "").isalpha() for w in words)
                and not any(w.lower() in GOVERNING or w.lower() in BODY for w in words))

    def _person_key(self, m: Mention) -> str:
        ent = self.kb.entities.get(m.entity_id)
        words = _clean_name(m.canonical_name).split()
        if ent is None and len(words) == 1:
            # a surname alone: the person of that name introduced last (the tagger may not link it)
            known = self._by_part(words[0], m.start_char)
            if known is not None:
                return known
            ent = self._kb_person(words[0])
            full = None if ent else self._untagged_full_name(words[0], m.start_char)
            if full is not None:
                key = f"person/{slug(full)}"
                self.people.setdefault(key, _Person(key, full, key, m.label))
                return key
        key = ent.id if ent else m.entity_id
        if key not in self.people:
            name = _clean_name(ent.name if ent else m.canonical_name)
            self.people[key] = _Person(key, name, key, ent.label if ent else m.label)
        return key

    def _kb_person(self, surname: str) -> Entity | None:
        """The one coach or player of the knowledge base this surname can mean in this article's sport."""
        if self._sport is None:
            self._sport = _sport_of_mentions(self.kb, self.org_mentions_all) or ""
        ents = [e for e in self.kb.by_alias.get(fold(surname), []) if e.label in ("COACH", "PLAYER")]
        ents = [e for e in ents if e.sport == self._sport] if self._sport else ents
        return ents[0] if len(ents) == 1 else None

    def _untagged_full_name(self, surname: str, before: int) -> str | None:
        """'Marcel Desailly' written once (in a headline run-in the model missed), then 'Desailly'."""
        for m in re.finditer(rf"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\s+{re.escape(surname)}\b", self.text[:before]):
            first = m.group(1).split()[-1]
            if first.lower() not in NOT_NAMES and not self.in_quote(m.start()) and fold(first) not in self.kb.places:
                return f"{first} {surname}"
        return None

    def _by_part(self, word: str, before: int) -> str | None:
        w = fold(word)
        best, best_pos = None, -1
        later = None
        for key, p in self.people.items():
            parts = fold(p.name).split()
            if len(parts) > 1 and w in parts and p.spans:
                pos = max((s for s, _ in p.spans if s < before), default=-1)
                if pos < 0:
                    later = later or key  # named only further on
                elif pos > best_pos:
                    best, best_pos = key, pos
        return best or later

    def known_name(self, start: int, end: int) -> str | None:
        """The person an untagged name stands for, if known; a full name (two or three words) is a
        new person."""
        name = self.text[start:end]
        words = name.split()
        known = self._by_part(words[-1], start)
        if len(words) == 1 or known is not None:
            return known
        before = self.text[max(0, start - 4) : start].lower()
        after = re.match(r"\s+(?:has\s+|had\s+|have\s+)?([a-z]+)", self.text[end : end + 30])
        if (len(words) <= 3 and fold(name) not in self.kb.by_alias and not any(w.lower() in BODY for w in words)
                and not re.search(r"\b(?:the|a|an)\s+$", before)
                and after is not None and (after.group(1) in STANCE or after.group(1) in ("is", "was", "will"))):
            return self.name_ref(start, end).key  # "Marcel Desailly insists ...": a person the model missed
        return None

    def name_ref(self, start: int, end: int) -> _Who:
        """A capitalised name the tagger did not tag, as a person (known by surname, or as written)."""
        name = self.text[start:end]
        known = self._by_part(name.split()[-1], start) if len(name.split()) == 1 else None
        if known is None:
            for key, p in self.people.items():
                if fold(p.name) == fold(name):
                    known = key
        if known is not None:
            return self.person_who(known)
        if len(name.split()) == 1:
            ent = self._kb_person(name)
            if ent is not None:
                if ent.id not in self.people:
                    self.people[ent.id] = _Person(ent.id, _clean_name(ent.name), ent.id, ent.label, [(start, end)])
                return self.person_who(ent.id)
            name = self._untagged_full_name(name, start) or name
        key = f"person/{slug(name)}"
        if key not in self.people:
            spans = sorted({(m.start(), m.end()) for w in {name, name.split()[-1]}
                            for m in re.finditer(rf"\b{re.escape(w)}\b", self.text) if not self.in_quote(m.start())})
            self.people[key] = _Person(key, name, key, "PERSON", spans or [(start, end)])
        return self.person_who(key)

    def person_who(self, key: str) -> _Who:
        """The speaker record of a known person."""
        p = self.people[key]
        return _Who(p.name, p.entity_id, "person", key)

    def org_who(self, entity_id: str) -> _Who:
        """The speaker record of a team or body."""
        name = self.orgs[entity_id][0]
        return _Who(name, entity_id, "organisation")

    # -- sentences and focus -------------------------------------------------------------------
    def sentence_start(self, pos: int) -> int:
        """Where the sentence holding `pos` starts."""
        i = bisect_right(self.sentence_ends, pos)
        return self.sentence_ends[i - 1] if i else 0

    def sentence_end(self, pos: int) -> int:
        """Where the sentence holding `pos` ends."""
        i = bisect_right(self.sentence_ends, pos)
        return self.sentence_ends[i] if i < len(self.sentence_ends) else len(self.text)

    def candidates(self, a: int, b: int) -> list[tuple[int, int, str, object]]:
        """Every speaker-like expression in text[a:b] outside quotes, in order."""
        out: list[tuple[int, int, str, object]] = []
        taken: list[tuple[int, int]] = []
        chunk = self.text[a:b]
        indef = [(a + m.start(), a + m.end(), m.group()) for m in INDEFINITE.finditer(chunk)]
        descs = [(a + m.start(), a + m.end(), m.group()) for m in DESCRIPTION.finditer(chunk)]
        for s, e, kind, key in self.refs[bisect_left(self._ref_starts, a) : bisect_left(self._ref_starts, b)]:
            within = any(ds <= s and e <= de for ds, de, _ in [*descs, *indef])
            if e <= b and not (within and (kind == "org" or " " not in self.text[s:e])):
                out.append((s, e, kind, key))
                taken.append((s, e))
        lo = bisect_left(self._other_starts, a - 200)  # venues and competitions are never speakers
        taken.extend((ts, te) for ts, te, _ in self.other_spans[lo : bisect_left(self._other_starts, b)] if a < te)

        def free(s: int, e: int) -> bool:
            return not any(s < te and ts < e for ts, te in taken) and not self.in_quote(s)

        for s, e, phrase in indef:
            if free(s, e):
                out.append((s, e, "indefinite", phrase))
                taken.append((s, e))
        for s, e, phrase in descs:
            if free(s, e):
                out.append((s, e, "description", phrase))
                taken.append((s, e))
        for m in re.finditer(r"\b(he|she|He|She|who)\b", chunk):
            s, e = a + m.start(), a + m.end()
            if free(s, e):
                out.append((s, e, "pronoun", m.group().lower()))
        for m in re.finditer(r"\b[A-Z][\w'’-]+(?:\s+(?:de|van|der|da|di|le|von|dos|del|[A-Z][\w'’-]+))*", chunk):
            s, e = a + m.start(), a + m.end()
            words = m.group().split()
            if words[0].lower() in NOT_NAMES:
                if len(words) == 1:
                    continue
                s += len(words[0]) + 1
            while self.text[s:e].endswith(("'s", "’s")):
                e -= 2
            if e > s and free(s, e) and fold(self.text[s:e]) not in self.kb.places:
                out.append((s, e, "name", None))
        return sorted(out)

    def focus_at(self, pos: int) -> str | None:
        """The person the narrative is about just before `pos`: the subject of the latest sentence
        that names one first (a pronoun or a description subject keeps the focus)."""
        i = bisect_left(self.sentence_ends, pos)
        starts = [0, *self.sentence_ends[:i]]
        last = self._subject(starts[-1], pos)
        if last is not None:
            return last
        for k in range(len(starts) - 2, -1, -1):
            key = (starts[k], starts[k + 1])
            if key not in self._subjects:
                self._subjects[key] = self._subject(*key)
            if self._subjects[key] is not None:
                return self._subjects[key]
        return None

    def _subject(self, s: int, e: int) -> str | None:
        """The person a sentence (text[s:e]) is about when it names one as its subject."""
        cands = self.candidates(s, min(e, s + 300))  # a subject opens its sentence: a run-on one costs no more
        for j, (cs, ce, kind, key) in enumerate(cands):
            if kind == "name":
                key = self.known_name(cs, ce)
                if key is None and j == 0 and len(self.text[s:cs].split()) <= 1 and SUBJECT_VERB.match(
                        self.text[ce : ce + 40]):
                    key = self.name_ref(cs, ce).key  # "Wardle did stress ...": a person the tagger missed
                kind = "person" if key else kind
            if kind == "person":
                if self.text[ce : ce + 3].startswith(("'", "’")) and any(
                        c[2] in ("person", "name") and c[0] - ce < 30 for c in cands[j + 1 :]):
                    continue  # "Kenteris' lawyer Gregory Ioannidis": the lawyer is the subject
                return str(key)
            if kind in ("pronoun", "description") and key != "who":
                return None
        return None

    def resolve(self, cand: tuple[int, int, str, object], pos: int) -> _Who | None:
        """A candidate expression as a speaker."""
        s, e, kind, key = cand
        if kind == "person":
            return self.person_who(str(key))
        if kind == "org":
            return self.org_who(str(key))
        if kind == "name":
            return self.name_ref(s, e)
        if kind == "indefinite":
            phrase = str(key)
            if STATEMENT.search(phrase):
                named = [m for _, _, m in self.other_spans if s <= m.start_char < e]
                if named and not any(s <= m.start_char < e for m in self.org_mentions):
                    return _Who(named[-1].canonical_name, named[-1].entity_id, "organisation")
                org = self.org_near(s, e)
                return self.org_who(org) if org else None
            return _Who(phrase[0].lower() + phrase[1:] if phrase[:2] in ("A ", "An") else phrase, None, "unknown")
        if kind in ("pronoun", "description"):
            focus = self.focus_at(s)
            if focus is None:
                return None
            if kind == "description":
                self.people[focus].descriptions.append((s, e))
            return self.person_who(focus)
        return None

    def org_near(self, a: int, b: int) -> str | None:
        """The team or body named in text[a:b], else the team the article names most."""
        inside = [m.entity_id for m in self.org_mentions if a <= m.start_char < b]
        if inside:
            return inside[-1]
        teams = [m.entity_id for m in self.org_mentions if m.label == "TEAM"]
        return max(set(teams), key=teams.count) if teams else None


def _clean_name(name: str) -> str:
    """A person's name for output: no Wikipedia disambiguation, no title, no repeated first word."""
    name = re.sub(r"\s*\([^)]*\)$", "", name).strip()
    name = re.sub(r"^(?:Sir|Dame|Mr|Mrs|Ms|Dr)\.?\s+", "", name)
    words = name.split()
    if len(words) >= 3 and fold(words[0]) == fold(words[1]):  # a headline run into the text: "Mushtaq Mushtaq Ahmed"
        words = words[1:]
    return " ".join(words)


def _verb_re() -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-])({AUX})({'|'.join(sorted(SPEECH, key=len, reverse=True))})\b(?!-)", re.I)


VERB_RE = _verb_re()
AFTER_VERB_FIRST = re.compile(rf"^\s*(?:[,—–-]\s*)?({'|'.join(sorted(SPEECH, key=len, reverse=True))})\b\s+", re.I)
ACCORDING = re.compile(r"\baccording\s+to\s+", re.I)


def _attribute_after(art: _Article, q: _Span, limit: int) -> tuple[_Who | None, str | None] | None:
    """'"...," said X' / '"...," X said' / '"..." according to X': the words right after the quote."""
    if q.close_at is None:
        return None
    inner = art.text[q.start : q.end].rstrip()
    if inner.endswith(".") and not inner.endswith("..."):
        return None  # a full stop closes the sentence: what follows is new narrative
    a = q.after
    b = min(limit, art.sentence_end(a))
    after = art.text[a:b]
    m = AFTER_VERB_FIRST.match(after) or ACCORDING.match(after.lstrip(" ,"))
    if m:
        start = a + m.end() + (len(after) - len(after.lstrip(" ,")) if m.re is ACCORDING else 0)
        cands = [c for c in art.candidates(start, b) if c[2] != "pronoun" or c[3] != "who"]
        named = [c for c in cands if c[2] in ("person", "name")] or [c for c in cands if c[2] != "pronoun"] or cands
        cue = "according to" if m.re is ACCORDING else m.group(1)
        return (art.resolve(named[0], start) if named else None), cue.lower()
    vm = VERB_RE.search(after)
    if vm is None or len(after[: vm.start()].split()) > 8 or not after[: vm.start()].strip(" ,—–-"):
        return None
    cands = art.candidates(a, a + vm.start())
    if not cands:
        return None
    cue = (vm.group(1) + vm.group(2)).strip().lower()
    cue = cue if cue.startswith("had ") else vm.group(2).lower()
    return art.resolve(cands[-1], a), cue


def _attribute_before(art: _Article, q: _Span, floor: int) -> tuple[_Who | None, str | None, bool] | None:
    """'X said: "..."' / 'X has called it "..."': the clause before the quote. The flag says whether the
    quote stands inside a sentence of narrative (a scare quote when no verb of speech is there)."""
    a = max(floor, art.sentence_start(q.open_at))
    before = art.text[a : q.open_at]
    if not before.strip():
        return None
    verbs = list(VERB_RE.finditer(before))
    acc = list(ACCORDING.finditer(before))
    if acc and (not verbs or acc[-1].start() > verbs[-1].start()):
        start = a + acc[-1].end()
        cands = art.candidates(start, q.open_at)
        return (art.resolve(cands[0], start) if cands else None), "according to", True
    if not verbs:
        if before.rstrip().endswith(":"):  # "... praised by coach Sir Alex Ferguson: "It was ...""
            cands = [c for c in art.candidates(a, q.open_at) if c[2] in ("person", "name", "org")]
            if cands and not art.text[cands[-1][1] : q.open_at].strip(" :’'s"):
                return art.resolve(cands[-1], a), None, True
        return None, None, False
    vm = verbs[-1]
    if before[: vm.start()].rstrip().endswith(",") and "," in before[: vm.start()].rstrip()[:-1]:
        # "Wenger, who brought Petit from Monaco, added:" / "LTA chief executive, John Crowther, added:"
        head = a + before.index(",")
        kinds = ("person", "name", "org", "pronoun", "description")
        cands = [c for c in art.candidates(a, head) if c[2] in kinds]
        people = [c for c in cands if c[2] in ("person", "name", "pronoun", "description")]
        appositive = [c for c in art.candidates(head + 1, a + vm.start())
                      if c[2] in ("person", "name") and not art.text[head + 1 : c[0]].strip()]
        pick = people[-1] if people else appositive[0] if appositive else cands[-1] if cands else None
        who = art.resolve(pick, a) if pick else None
        return who, vm.group(2).lower(), True
    clause_start = a
    for m in re.finditer(r"[,;]\s", before[: vm.start()]):
        if before[m.end() : vm.start()].strip():
            clause_start = a + m.end()
    cands = art.candidates(clause_start, a + vm.start())
    if cands and cands[-1][2] == "pronoun" and cands[-1][3] == "who":  # "X, who told the PTI ..."
        cands = [c for c in art.candidates(a, cands[-1][0]) if c[2] in ("person", "name")] or cands
    if not cands:
        cands = [c for c in art.candidates(a, a + vm.start())]
    who = art.resolve(cands[-1], a) if cands else None
    cue = vm.group(2).lower()
    if vm.group(1).strip().lower().startswith("had"):
        cue = "had " + cue
    return who, cue, True


def _stance(art: _Article, q: _Span, floor: int) -> tuple[_Who, str] | None:
    """'Bwalya warned his side not to be complacent. "I don't want ..."': a person who is the
    subject of the sentence just before the quote, with a verb of speech or stance."""
    a = max(floor, art.sentence_start(max(0, q.open_at - 1)))
    sent = art.text[a : q.open_at]
    cands = [c for c in art.candidates(a, q.open_at) if c[2] in ("person", "name", "pronoun", "description")]
    if not cands or cands[0][3] == "who":
        return None
    first = cands[0]
    if len(art.text[a : first[0]].split()) > 3:
        return None  # the person is not the subject
    rest = art.text[first[1] : q.open_at].lower()
    verb = next((w for w in re.findall(r"[a-z]+", rest)[:4] if w in STANCE), None)
    if verb is None or not sent.strip():
        return None
    who = art.resolve(first, a)
    return (who, verb) if who is not None and who.kind == "person" else None


def _role_and_team(art: _Article, key: str) -> tuple[str | None, str | None, str | None]:
    """A person's role and team (entity id, name): the words around their name, then the knowledge base."""
    person = art.people[key]
    found: list[tuple[str, str | None, str | None, bool]] = []  # (role, team id, team name, former)
    text = art.text
    for s, e in [*person.spans, *person.descriptions]:
        clause = max(art.sentence_start(s), s - 80)
        before = text[clause:s]
        cut = max(before.rfind(";"), before.rfind("("))
        for m in re.finditer(r",\s", before):
            if before[m.end() :].strip():  # a comma right before the name opens an appositive: keep it
                cut = max(cut, m.start())
        if (s, e) in person.descriptions:
            before = text[s:e]
            base = s
        else:
            before, base = before[cut + 1 :], clause + cut + 1
        for role, pos, pend in _roles_in(before):
            gap = before[pend:]  # the words between the role and the name
            if (s, e) not in person.descriptions and not re.fullmatch(
                    r"(?:\s*,)?(?:\s+(?:[A-Z][\w'’.-]*|and|of|the|\w+'s))*\s*,?\s*", gap):
                continue
            team = _team_before(art, base, base + pos)
            found.append((role, *team, bool(FORMER.search(before[:pos]))))
        end = min(art.sentence_end(e), e + 120)
        after = text[e:end]
        m = re.match(r"\s*,\s*(?:who\s+(?:is|was|has\s+been|had\s+been)\s+(?:now\s+)?)?(?:the\s+|a\s+|an\s+)?"
                     r"((?:[\w'’-]+\s+){0,5}?)(?=\S)", after)
        if m and after.lstrip().startswith(","):
            window = after[: after.find(",", after.find(",") + 1) if after.count(",") > 1 else len(after)]
            for role, pos, _ in _roles_in(window)[:1]:
                found.append((role, *_team_before(art, e, e + pos), bool(FORMER.search(window[:pos]))))
        play = re.search(r"\b(?:now\s+(?:playing|plays)\s+(?:for|with)|now\s+with|who\s+now\s+plays\s+for)\s+", after)
        if play:
            tid, tname = _team_at(art, e + play.end())
            found.append(("player", tid, tname, False))
        as_role = re.search(r"\b(?:quit|stay|remain|continue|resign|serve|appointed|named|installed|over|spell|"
                            r"tenure|time|role|job)\s+as\s+((?:[\w'’-]+\s+){0,3}?)(coach|manager|captain|boss|"
                            r"chairman)\b", after)
        if as_role:
            role = next(r for rx, r in ROLE_RE if rx.fullmatch(as_role.group(2)))
            found.append((role, *_team_before(art, e + as_role.start(), e + as_role.start(2)), False))
    current = [f for f in found if not f[3]]
    ent = art.kb.entities.get(person.entity_id)
    if current:
        role = min(current, key=lambda f: PRIORITY.index(f[0]))[0]
        with_team = [f for f in current if f[0] == role and f[1]] or [f for f in current if f[1]]
        team = (with_team[0][1], with_team[0][2]) if with_team else (None, None)
    elif found:
        return "pundit", None, None  # only a former role: a voice from outside
    else:
        role, team = None, (None, None)
    if ent is not None and ent.label in ("COACH", "PLAYER"):
        kb_role = "player" if ent.label == "PLAYER" else ("manager" if ent.sport == "football" else "coach")
        role = role or kb_role
        if team[0] is None and role in ("manager", "coach", "player"):
            team = _kb_team(art, ent.teams)
    if role is None:
        role = {"COACH": "coach", "PLAYER": "player"}.get(person.label, "player")
        if role == "coach" and _sport_of(art) == "football":
            role = "manager"
    if team[0] is None and role in ("manager", "coach", "player", "chairman", "executive", "official"):
        team = _team_in_sentences(art, person, role)
    if role in ("official",) and team[0] and art.orgs.get(team[0], ("", "TEAM"))[1] == "TEAM":
        pass
    if role == "manager" and team[0] and art.orgs.get(team[0], ("", "TEAM"))[1] == "ORG":
        role = "executive"  # "Balco boss": the head of a company, not of a team
    if role == "executive" and team[0] and art.orgs.get(team[0], ("", ""))[1] == "ORG" and _plain_director(art, person):
        role = "official"
    return role, team[0], team[1]


def _plain_director(art: _Article, person: _Person) -> bool:
    for s, _e in person.spans:
        if re.search(r"\b(?:communications\s+)?director\s*,?\s*$", art.text[max(0, s - 40) : s], re.I) and not \
                re.search(r"(?:managing|sporting|executive)\s+director\s*,?\s*$", art.text[max(0, s - 40) : s], re.I):
            return True
    return False


def _roles_in(window: str) -> list[tuple[str, int, int]]:
    """Role words in a window of text, with their spans, nearest to its end first."""
    out = []
    for rx, role in ROLE_RE:
        for m in rx.finditer(window):
            if not any(m.start() >= s and m.end() <= e for _, s, e in out):
                out.append((role, m.start(), m.end()))
    out.sort(key=lambda r: -r[1])
    return out


def _team_before(art: _Article, a: int, b: int) -> tuple[str | None, str | None]:
    """The team or body named just before a role word ("Birmingham manager", "ICC chief executive")."""
    best = None
    for m in art.org_mentions:
        if a <= m.start_char and m.end_char <= b and b - m.end_char <= 30:
            best = m
    if best is None:
        return None, None
    return best.entity_id, best.canonical_name


def _team_at(art: _Article, pos: int) -> tuple[str | None, str | None]:
    for m in art.org_mentions:
        if pos <= m.start_char <= pos + 2:
            return m.entity_id, m.canonical_name
    name = re.match(r"[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*", art.text[pos:])
    if name:
        return f"team/{slug(name.group())}", name.group()
    return None, None


def _kb_team(art: _Article, team_ids: tuple[str, ...]) -> tuple[str | None, str | None]:
    """Of a person's teams in the knowledge base, the one the article names (not as a former club),
    else the first listed (the current or latest)."""
    named = {}
    for m in art.org_mentions:
        if m.entity_id in team_ids and not FORMER.search(art.text[max(0, m.start_char - 40) : m.start_char]):
            named.setdefault(m.entity_id, m.canonical_name)
    for tid in team_ids:
        if tid in named:
            return tid, named[tid]
    if team_ids and team_ids[0] in art.kb.entities:
        return team_ids[0], art.kb.entities[team_ids[0]].name
    return None, None


def _team_in_sentences(art: _Article, person: _Person, role: str) -> tuple[str | None, str | None]:
    """A team named beside the person in their own sentences ("Savage's future at Birmingham")."""
    labels = {"TEAM"} if role in ("manager", "coach", "player") else {"TEAM", "ORG"}
    for s, _e in person.spans:
        a, b = art.sentence_start(s), art.sentence_end(s)
        base = a
        for m in re.finditer(r"\s[-–—]\s|;|\bbut\b", art.text[base:b]):
            if base + m.end() <= s:
                a = base + m.end()
            elif base + m.start() >= s:
                b = base + m.start()
                break
        near = [m for m in art.org_mentions if a <= m.start_char < b and m.label in labels
                and (m.label == "TEAM" or m.entity_id in art.kb.entities)  # a governing body, not "The Sun"
                and not art.in_quote(m.start_char)
                and (role != "player" or re.search(r"\b(?:at|for|with|of)\s+(?:the\s+)?$",
                                                   art.text[max(0, m.start_char - 12) : m.start_char]))]
        if near:
            m = min(near, key=lambda m: abs(m.start_char - s))
            return m.entity_id, m.canonical_name
    return None, None


def _sport_of(art: _Article) -> str | None:
    return _sport_of_mentions(art.kb, art.org_mentions)


def _sport_of_mentions(kb: KnowledgeBase, mentions: Sequence[Mention]) -> str | None:
    sports = [kb.entities[m.entity_id].sport for m in mentions if m.entity_id in kb.entities]
    sports = [s for s in sports if s]
    return max(set(sports), key=sports.count) if sports else None


def extract_quotes(text: str, mentions: Sequence[Mention], kb: KnowledgeBase | None = None) -> tuple[Quote, ...]:
    """Every direct quote of a text with its speaker, role and team; never raises on odd marks."""
    art = _Article(text, mentions, kb or default_kb())
    results: list[tuple[_Span, _Who | None, str | None]] = []
    last: tuple[_Who | None, str | None] | None = None  # the speaker of the previous quote
    prev_end = 0
    prev_closed_at: int | None = None
    for i, q in enumerate(art.spans):
        limit = art.spans[i + 1].open_at if i + 1 < len(art.spans) else len(text)
        words = len(text[q.start : q.end].split())
        if words < 3 and not _cued_after(art, q, limit) and not VERB_RE.search(text[max(prev_end, q.open_at - 150) :
                                                                                   q.open_at]):
            prev_end = q.after
            continue  # a scare quote or a title ("doosra"), not speech: no verb of speech beside it
        between = text[prev_end : q.open_at]
        got: tuple[_Who | None, str | None] | None = _attribute_after(art, q, limit)
        embedded = False
        if got is None or got[0] is None:
            before = _attribute_before(art, q, prev_end)
            if before is not None:
                who, cue, embedded = before
                if who is not None or cue is not None:
                    got = (who, cue) if who is not None or got is None else got
        own_cue = got[1] if got is not None else None
        if (got is None or got[0] is None) and last is not None and _continues(art, between, prev_closed_at):
            got = (last[0], own_cue or last[1])
        if got is None or got[0] is None:
            stance = _stance(art, q, prev_end)
            if stance is not None:
                got = (stance[0], own_cue or stance[1])
            elif last is not None and last[0] is not None:
                got = (last[0], own_cue)
            else:
                focus = art.focus_at(q.open_at)
                got = (art.person_who(focus) if focus else None, own_cue)
        if words < 3 and not (embedded and got[1] is not None) and not _cued_after(art, q, limit):
            prev_end = q.after
            continue  # a scare quote or a title, not speech
        if embedded and got[1] is None and words < 6:
            prev_end = q.after
            continue
        results.append((q, got[0], got[1]))
        last = got
        prev_end = q.after
        prev_closed_at = q.close_at
    quotes = []
    profiles: dict[str, tuple[str | None, str | None, str | None]] = {}
    for n, (q, who, cue) in enumerate(results, 1):
        role = team_id = team_name = None
        if who is not None and who.kind == "person" and who.key:
            if who.key not in profiles:
                profiles[who.key] = _role_and_team(art, who.key)
            role, team_id, team_name = profiles[who.key]
        elif who is not None and who.kind == "organisation":
            team_id, team_name = who.entity_id, who.name
        quotes.append(Quote(
            quote_no=n, text=text[q.start : q.end], start_char=q.start, end_char=q.end,
            speaker_name=who.name if who else None, speaker_entity_id=who.entity_id if who else None,
            speaker_kind=who.kind if who else "unknown", role=role, team_entity_id=team_id,
            team_name=team_name, cue=cue,
        ))
    return tuple(quotes)


def _continues(art: _Article, between: str, prev_closed_at: int | None) -> bool:
    """Does a quote continue the previous one: nothing but space between them, or only the previous
    quote's own attribution ('"...," he said. "And ..."')?"""
    if not between.strip():
        return True
    return prev_closed_at is not None and bool(
        re.fullmatch(r"\s*[,—–-]?\s*(?:[\w'’.-]+\s+){0,8}?[\w'’.-]+[.,:]?\s*", between)
    ) and bool(VERB_RE.search(between) or ACCORDING.search(between))


def _cued_after(art: _Article, q: _Span, limit: int) -> bool:
    if q.close_at is None:
        return False
    return bool(AFTER_VERB_FIRST.match(art.text[q.after : limit]))


def quote_json(q: Quote) -> dict:
    """The form `pressbox quotes` writes (and ../shared/eval/score_quotes.py reads)."""
    return {"text": q.text, "start": q.start_char, "end": q.end_char, "speaker": q.speaker_name,
            "speaker_kind": q.speaker_kind, "role": q.role, "team": q.team_name, "cue": q.cue,
            "speaker_entity_id": q.speaker_entity_id, "team_entity_id": q.team_entity_id}
