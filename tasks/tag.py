"""Tag: texts -> sports entity mentions, through one spaCy pipeline built in code.

The pipeline is the statistical English model (generic PERSON/ORG/GPE names) followed by an
EntityRuler holding the knowledge base's aliases, then the `sports_context` component, which
decides from the article what each name means (TEAM or PLACE, COACH or PLAYER) and links every
mention to one canonical entity.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from schemas.records import Article, Mention, TaggedArticle, local_id
from tasks.kb import SPORTS_LABELS, Entity, KnowledgeBase, default_kb, fold, slug, tagger_version
from tasks.shapes import find_shapes

GENERIC = {"PERSON": "PERSON", "ORG": "ORG", "GPE": "PLACE", "LOC": "PLACE", "FAC": "VENUE", "EVENT": "EVENT"}
PERSON_LABELS = {"PERSON", "PLAYER", "COACH"}
OUTPUT_LABELS = {*SPORTS_LABELS, "PERSON", "ORG", "PLACE"}
# Docs per nlp.pipe minibatch. The model's activations grow with the tokens of a minibatch: 16 long
# articles at once peaked near 1 GB in a worker; 4 at 535 MB, 2 at 484 MB, at the same words/second
# (6.9k on the corpus texts; 1 document at a time is 6% slower).
PIPE_BATCH = 2
# The language gate reads a text's opening (as tasks/extract.py does); shorter texts count as English.
LANGID_CHARS = 400
LANGID_MIN_CHARS = 200  # characters, not words (Japanese has no spaces); shorter names-heavy lines mislead it

# Role words around a person's name (lower-cased tokens).
COACH_WORDS = {"coach", "manager", "boss", "head-coach", "coaches", "coached", "trainer", "gaffer", "coaching",
               "manages", "managed", "selector", "skipper-coach"}
PLAYER_WORDS = {
    "captain", "striker", "midfielder", "defender", "goalkeeper", "keeper", "forward", "winger", "full-back",
    "centre-back", "center-back", "quarterback", "running", "receiver", "linebacker", "pitcher", "batsman",
    "bowler", "all-rounder", "opener", "fly-half", "scrum-half", "prop", "flanker", "hooker", "lock", "wing",
    "centre", "number", "no", "sprinter", "runner", "champion", "seed", "team-mate", "teammate", "player",
    "players", "star", "international", "guard", "rookie", "veteran", "hurdler", "jumper", "driver", "golfer",
    "boxer", "jockey", "cyclist", "swimmer", "scorer", "scored", "scores", "goal", "goals", "debut",
    "footballer", "cricketer", "athlete",
}
OTHER_ROLE_WORDS = {
    "referee", "umpire", "chairman", "owner", "president", "chief", "executive", "ceo", "director",
    "agent", "spokesman", "spokeswoman", "minister", "pundit", "commentator", "journalist", "reporter",
    "judge", "lawyer", "doctor", "secretary", "commissioner", "governor", "senator", "mayor", "official",
    "officials", "sponsor", "writer", "editor", "analyst", "prime", "king", "queen", "prince", "police",
    "founder", "physio", "physiotherapist", "vice-president", "chairwoman", "columnist", "broadcaster",
    "lawyers", "attorney", "attorneys", "solicitor", "barrister", "arbiter", "arbitrator", "expert", "insider",
    "correspondent", "professor", "scientist", "via",
}
VENUE_WORDS = {"stadium", "park", "arena", "ground", "field", "court", "circuit", "course", "racecourse", "oval",
               "stadion", "estadio", "stadio", "centre", "center", "garden", "gardens", "dome", "bowl", "speedway",
               "velodrome", "links", "lane", "road", "bridge", "cottage", "meadows", "raceway"}
BODY_WORDS = {"union", "federation", "association", "committee", "board", "council", "agency", "authority",
              "ministry", "commission", "confederation", "institute", "university", "league", "inc", "ltd",
              "company", "group", "corporation", "laboratories", "news", "times", "post", "today"}
ROLE_WORDS = COACH_WORDS | PLAYER_WORDS | OTHER_ROLE_WORDS
# Words that sports reports use and other news rarely does: with the knowledge base's unambiguous
# sports names they decide whether a text is about sport (and so whether a name may be a player).
SPORT_WORDS = {
    "match", "matches", "game", "games", "season", "seasons", "scored", "score", "scores", "scoring", "goal",
    "goals", "coach", "coaches", "manager", "league", "leagues", "championship", "championships", "tournament",
    "tournaments", "cup", "final", "finals", "semi-final", "quarter-final", "playoff", "playoffs", "play-off",
    "innings", "wicket", "wickets", "touchdown", "touchdowns", "quarterback", "striker", "midfielder", "defender",
    "goalkeeper", "keeper", "captain", "squad", "fixture", "fixtures", "kick-off", "half-time", "penalty",
    "penalties", "tries", "fly-half", "scrum-half", "batsman", "bowler", "bowled", "century", "unbeaten", "drew",
    "defeat", "defeated", "victory", "win", "wins", "won", "beat", "beaten", "seeded", "slam", "olympic",
    "olympics", "medal", "medals", "athlete", "athletes", "sprint", "marathon", "race", "races", "lap", "podium",
    "pitcher", "inning", "rebounds", "assists", "premiership", "club", "clubs", "team", "teams", "player",
    "players", "stadium", "rugby", "cricket", "football", "soccer", "tennis", "golf", "basketball", "baseball",
    "hockey", "athletics", "boxing", "title", "relegation", "promoted", "relegated", "transfer", "debut",
    "substitute", "substitutes", "referee", "umpire", "coached", "offense", "defense", "yards", "runs",
    "points", "rebound", "dunk", "homer", "pitch", "forwards", "winger", "knockout", "semi-finals",
    "overs", "bowling", "batting", "spinner", "lbw", "stumps", "odi", "one-day", "wicket-keeper", "tests",
    "seed", "atp", "wta", "doubles", "singles", "tie-break", "break-point", "quarter-finals", "squash",
}
# Words that belong to one sport: they vote for the article's sport with its unambiguous names.
SPORT_OF_WORD = {
    **dict.fromkeys(["wicket", "wickets", "innings", "overs", "batsman", "bowler", "lbw", "odi", "wicket-keeper",
                     "all-rounder", "stumps", "spinner"], "cricket"),
    **dict.fromkeys(["fly-half", "scrum-half", "scrum", "scrums", "lineout", "lineouts", "line-out", "line-outs",
                     "flanker", "prop", "hooker", "conversion", "conversions", "try-scorer"], "rugby union"),
    **dict.fromkeys(["goalkeeper", "striker", "midfielder", "centre-back", "full-back"], "football"),
    **dict.fromkeys(["touchdown", "touchdowns", "quarterback", "linebacker", "nfl"], "american football"),
    **dict.fromkeys(["rebounds", "dunk", "nba", "three-pointer"], "basketball"),
    **dict.fromkeys(["inning", "pitcher", "homer", "mlb", "rbi", "shortstop"], "baseball"),
    **dict.fromkeys(["atp", "wta", "tie-break", "seed", "seeded"], "tennis"),
}
HYPHENATED = re.compile(r"\b[A-Za-z]+(?:-[A-Za-z]+)+\b")
# School sport: results round-ups head their sections "BOYS SOCCER", "Girls basketball" (college and
# professional sport says men's and women's), or the text says "high school football".
SCHOOL_SPORT = re.compile(
    r"(?im)^\s*(?:boys|girls)'?\s+(?:[a-z&]+\s+){0,2}[a-z]+\s*:?\s*$"
    r"|\bhigh[- ]school\s+(?:boys'?\s+|girls'?\s+)?(?:basketball|football|soccer|baseball|softball|volleyball"
    r"|hockey|lacrosse|wrestling|sports|teams?|games?|results|scores|roundup|round-up)\b")
# An age-group side's mark after its country: "U21", "U-20", "Under-21s".
YOUTH = re.compile(r"(?i)\b(?:u-?|under-)(1[5-9]|2[0-3])s?$")
# Tennis competitions between nations, as Wikipedia titles each nation's team in them.
NATION_CUPS = {"davis cup": "Davis Cup", "fed cup": "Billie Jean King Cup",
               "billie jean king cup": "Billie Jean King Cup"}
NATION_CUP = re.compile(r"(?i)\b(?:davis cup|fed cup|billie jean king cup)\b")
NATION_SIDE = "side:"  # kb_id of a nation's side in a nation cup: "side:Spain Davis Cup team"
NATIONS = {"britain": "Great Britain", "great britain": "Great Britain", "gb": "Great Britain"}
# A basketball article is about the women's game when it says so more often than it names the men's.
WOMENS = re.compile(r"(?i)\b(?:women'?s|wnba|ncaaw)\b|\bLady [A-Z]")
MENS = re.compile(r"(?i)\b(?:men'?s|nba|ncaam)\b")
SCHOOL_WORDS = {"high", "school", "academy", "prep", "preparatory", "hs", "secondary", "college"}
# Words that politics and business share with sport ("won the race", "points", "defeat"): half weight.
SHARED_WORDS = {"win", "wins", "won", "beat", "beaten", "victory", "defeat", "defeated", "race", "races", "points",
                "title", "season", "seasons", "final", "club", "clubs", "team", "teams", "player", "players",
                "captain", "pitch", "transfer", "score", "scores", "scored", "game", "games", "match", "matches",
                "defense", "offense", "runs", "cup", "tournament", "championship", "champion", "medal", "medals"}
SPORTY_SCORE = 1.5  # sport words + 2 per unambiguous sports name, per 100 words, that make a text sport
TEAM_AFTER = {
    "beat", "beats", "beaten", "won", "win", "wins", "lost", "lose", "loses", "drew", "draw", "draws", "face",
    "faces", "host", "hosts", "hosted", "visit", "visits", "play", "plays", "played", "lead", "leads", "led",
    "trail", "trailed", "side", "team", "squad", "fans", "supporters", "captain", "coach", "manager", "boss",
    "striker", "midfielder", "defender", "goalkeeper", "forward", "winger", "player", "players", "xi", "v",
    "vs", "vs.", "versus", "defeated", "thrashed", "edged", "held", "clinched", "eliminated", "knocked",
    "scored", "have", "had", "are", "were", "will", "would", "must", "need", "needed", "'s", "’s", "’", "'",
    "academy", "youngster", "chairman", "debut", "first-leg", "second-leg",
}
TEAM_BEFORE = {"against", "beat", "beating", "v", "vs", "vs.", "versus", "face", "facing", "faced", "host",
               "hosting", "hosted", "joined", "join", "joining", "sign", "signed", "leave", "left", "rejoin",
               "for", "over", "with", "club", "champions", "holders", "leaders", "visitors", "hosts", "side"}
# the strong match patterns that make an unknown organisation a team
MATCH_AFTER = {"beat", "beats", "beaten", "drew", "v", "vs", "vs.", "versus", "defeated", "thrashed", "edged", "hosted"}
MATCH_BEFORE = {"against", "beat", "beating", "v", "vs", "vs.", "versus", "defeated", "thrashed"}
# sports whose sides are people: who "beat" whom is a player, not a club
INDIVIDUAL_SPORTS = {"tennis", "golf", "athletics", "boxing", "snooker", "darts", "squash", "badminton", "cycling",
                     "motor racing", "formula one", "swimming"}
PLACE_BEFORE = {"in", "born", "near", "across", "around", "city", "streets", "visit", "trip", "flight",
                "flew", "travelled", "traveled", "based", "moved", "native", "people", "capital"}


@dataclass(frozen=True)
class Tag:
    """One tagged mention as `pressbox tag` writes it and the flow stores it."""

    text: str
    label: str
    start: int
    end: int
    canonical: str
    entity_id: str
    wikidata_id: str | None = None

    def as_json(self) -> dict:
        """The form `pressbox tag` writes (and ../shared/eval/score_tags.py reads)."""
        return {"text": self.text, "label": self.label, "start": self.start, "end": self.end,
                "canonical": self.canonical, "entity_id": self.entity_id}

    def shifted(self, delta: int) -> Tag:
        """The same tag with offsets moved by `delta`."""
        return replace(self, start=self.start + delta, end=self.end + delta)


class SportsTagger:
    """A built pipeline plus the knowledge base it was built from; thread-safe to call."""

    def __init__(self, nlp: Language, kb: KnowledgeBase, model_name: str):
        self.nlp, self.kb = nlp, kb
        self.version = tagger_version(model_name, kb)
        self._lock = threading.Lock()

    def tag_texts(
        self, texts: Iterable[str], batch_size: int = PIPE_BATCH, languages: Iterable[str | None] | None = None
    ) -> Iterator[list[Tag]]:
        """Tag many texts with nlp.pipe; yields one list of tags per text, in order.

        `languages`: each text's language code if known (else detected). Texts not in English
        skip the English statistical model: only the knowledge base's names are tagged there.
        """
        texts = list(texts)
        langs = list(languages) if languages is not None else [None] * len(texts)
        english = [is_english(t, lang) for t, lang in zip(texts, langs, strict=True)]
        tags: list[list[Tag]] = [[] for _ in texts]
        # spaCy pipelines are not safe to run from two threads at once; the memory zone frees the
        # strings each batch adds to the vocabulary, which otherwise grow with every new name
        with self._lock, self.nlp.memory_zone():
            for want, disable in ((True, []), (False, ["ner"])):
                idx = [i for i, e in enumerate(english) if e is want]
                docs = self.nlp.pipe((self._make_doc(texts[i], want) for i in idx), batch_size=batch_size,
                                     disable=disable)
                for i, doc in zip(idx, docs, strict=True):
                    tags[i] = doc_tags(doc)
        yield from tags

    def _make_doc(self, text: str, english: bool) -> Doc:
        doc = self.nlp.make_doc(text)
        doc.user_data["english"] = english  # the English shapes of sports writing read English only
        return doc

    def tag(self, text: str) -> list[Tag]:
        """Tag one text."""
        return next(self.tag_texts([text]))

    def mentions(self, text_tags: list[Tag]) -> tuple[Mention, ...]:
        """Tags as warehouse mentions (with entity metadata)."""
        out = []
        for t in text_tags:
            ent = self.kb.entities.get(t.entity_id)
            out.append(
                Mention(
                    entity_id=t.entity_id,
                    canonical_name=t.canonical,
                    surface=t.text,
                    label=t.label,
                    start_char=t.start,
                    end_char=t.end,
                    wikidata_id=ent.qid if ent else None,
                    aliases=ent.aliases if ent else (),
                    source=ent.source if ent else None,
                    sport=ent.sport if ent else None,
                    league=ent.league if ent else None,
                    country=ent.country if ent else None,
                )
            )
        return tuple(out)


def tag_articles(tagger: SportsTagger, articles: list[Article]) -> list[TaggedArticle]:
    """Tag articles (title for context, then body) with one nlp.pipe; offsets are into the body."""
    texts = [f"{a.title}\n\n{a.body}" if a.title else a.body for a in articles]
    out = []
    for a, tags in zip(articles, tagger.tag_texts(texts, languages=[a.language for a in articles]), strict=True):
        off = len(a.title) + 2 if a.title else 0
        body_tags = [t.shifted(-off) for t in tags if t.start >= off]
        out.append(TaggedArticle(a, tagger.mentions(body_tags), tagger.version))
    return out


def is_english(text: str, language: str | None = None) -> bool:
    """Should the English model read this text? The declared or detected language decides."""
    if language:
        return language.lower().split("-")[0] == "en"
    if len(text.strip()) < LANGID_MIN_CHARS:
        return True  # too short to tell: the knowledge base and the model both see it
    import py3langid

    return py3langid.classify(text[:LANGID_CHARS])[0] == "en"
WEAK = "WEAK"  # the label of a pattern whose every candidate is a generated weak alias


def kb_patterns(kb: KnowledgeBase) -> list[dict]:
    """Phrase patterns: one per alias, case-sensitive as written.

    A name that only the generated layer knows, and only as a weak alias ("Iowa", a bulk list's
    "Kevin McCarthy"), carries the neutral label WEAK: until the context supports it, it must not
    make the article look like a sports article (the sports context decides its label).
    """
    patterns = []
    seen: set[tuple[str, str]] = set()
    for key, ents in kb.by_alias.items():
        label = ents[0].label
        if all(not e.source.startswith("curated") and key in e.weak_keys for e in ents):
            label = WEAK
        for ent in ents:
            for alias in (*ent.aliases, *ent.weak, *ent.strict):
                if fold(alias) != key or (alias, label) in seen:
                    continue
                seen.add((alias, label))
                patterns.append({"label": label, "pattern": alias, "id": key})
    for place in sorted(kb.places - set(kb.by_alias)):
        # cities and countries that are nobody's alias: plain places ("in Bergamo")
        patterns.append({"label": "PLACE", "pattern": place.title(), "id": place})
    return patterns


@Language.component("ner_snapshot")
def ner_snapshot(doc: Doc) -> Doc:
    """Keep the statistical model's names before the knowledge base overwrites them."""
    doc.spans["ner"] = list(doc.ents)
    return doc


@Language.factory("sports_context", default_config={})
def make_sports_context(nlp: Language, name: str) -> SportsContext:
    """spaCy factory for the context-and-linking component."""
    return SportsContext(nlp, default_kb())


class SportsContext:
    """Relabels entity spans by their context and links each to a canonical entity."""

    def __init__(self, nlp: Language, kb: KnowledgeBase):
        self.kb = kb
        self.matcher = Matcher(nlp.vocab)
        # "Atalanta coach Gian Piero Gasperini", "manager Gian Piero Gasperini", "Liverpool boss X"
        self.matcher.add("ROLE_COACH", [[{"LOWER": {"IN": sorted(COACH_WORDS)}}]])
        self.matcher.add("ROLE_PLAYER", [[{"LOWER": {"IN": sorted(PLAYER_WORDS)}}]])
        self.matcher.add("ROLE_OTHER", [[{"LOWER": {"IN": sorted(OTHER_ROLE_WORDS)}}]])
        self.matcher.add("ALL_OF", [[{"LOWER": "all"}, {"LOWER": "of"}]])
        self.matcher.add("SCORE", [[{"TEXT": {"REGEX": r"^\d{1,3}[-–]\d{1,3}$"}}]])

    def __call__(self, doc: Doc) -> Doc:
        cues: dict[int, set[str]] = {}
        for match_id, start, _end in self.matcher(doc):
            cues.setdefault(start, set()).add(doc.vocab.strings[match_id])
        spans = self._prefer_longer_names(doc, [_trim(s) for s in doc.ents])
        spans = [s for s in spans if s is not None and s.label_ not in {"DATE", "TIME", "CARDINAL", "ORDINAL",
                                                                          "PERCENT", "MONEY", "QUANTITY", "NORP",
                                                                          "LANGUAGE", "WORK_OF_ART", "LAW",
                                                                          "PRODUCT"}]
        sport = self._doc_sport(doc, spans)
        strong_ids = {
            e.id for s in spans for e in self.kb.by_alias.get(s.kb_id_, []) if s.kb_id_ not in e.weak_keys
        }
        sportsy = self._sports_evidence(doc, spans) >= SPORTY_SCORE
        decided: list[Span] = []
        for span in spans:
            label, ent_key = self._decide(doc, span, cues, sport, sportsy, strong_ids)
            if label:
                decided.append(Span(doc, span.start, span.end, label=label, kb_id=ent_key))
        if sportsy and doc.user_data.get("english", True):
            decided = self._read_shapes(doc, decided, sport)
            decided = self._a_sides(doc, decided)
            decided = self._nation_cup_sides(doc, decided, sport)
        doc.ents = decided
        doc.user_data["sport"] = sport if sportsy else None
        _sign_offs(doc)
        _link_people(doc, sportsy)
        return doc

    def _nation_cup_sides(self, doc: Doc, decided: list[Span], sport: str | None) -> list[Span]:
        """In a report of a tennis competition between nations ("Spain's Davis Cup victory"), a country
        is its team there: "Spain Davis Cup team", as Wikipedia titles them (`doc_tags`); its captain
        is its coach."""
        if sport != "tennis":
            return decided
        cups = Counter(NATION_CUPS[m.group(0).lower()] for m in NATION_CUP.finditer(doc.text))
        if not cups:
            return decided
        cup = cups.most_common(1)[0][0]
        country_of = {(s.start, s.end): self.country_of(s.text) for s in decided}
        people = {i for s in decided if s.label_ in PERSON_LABELS for i in range(s.start, s.end)}
        towns = {i for s in decided if s.label_ == "PLACE" and not country_of[(s.start, s.end)]
                 for i in range(s.start, s.end)}
        out = []
        for span in decided:
            country = country_of[(span.start, span.end)]
            if (country and span.label_ in ("PLACE", "TEAM", "ORG")
                    and not self._a_nationality(doc, span, people, towns)):
                span = Span(doc, span.start, span.end, label="TEAM", kb_id=f"{NATION_SIDE}{country} {cup} team")
            elif span.label_ in PERSON_LABELS and span.start and doc[span.start - 1].lower_ == "captain":
                # a nation's captain there does not play: "Great Britain captain Jeremy Bates" coaches
                span = Span(doc, span.start, span.end, label="COACH", kb_id=span.kb_id_)
            out.append(span)
        return out

    @staticmethod
    def _a_nationality(doc: Doc, span: Span, people: set[int], towns: set[int]) -> bool:
        """A country named as a place or a player's nationality, not as a side: "the tie in Israel",
        "Plaisir, France", "Australia's Lleyton Hewitt", "Raven Klaasen of South Africa"."""
        before = [t for t in doc[max(0, span.start - 3) : span.start] if t.lower_ != "the"]
        if before and before[-1].lower_ in ("in", "at"):
            return True
        if before and before[-1].text == "," and span.start >= 2 and span.start - 2 in towns:
            return True
        if before and before[-1].lower_ == "of" and before[-1].i - 1 in people:
            return True
        after = doc[span.end : span.end + 2]
        return len(after) == 2 and after[0].text in ("'s", "’s") and after[1].i in people

    def country_of(self, name: str) -> str | None:
        """The country a name is ("USA" -> "United States", "Britain" -> "Great Britain"), or None."""
        key = fold(name)
        if key in NATIONS:
            return NATIONS[key]
        if key in self.kb.countries:
            return next((e.name for e in self.kb.by_alias.get(key, []) if e.label == "PLACE"), name)
        places = [e.name for e in self.kb.by_alias.get(key, [])
                  if e.label == "PLACE" and fold(e.name) in self.kb.countries]
        return places[0] if places else None

    def _a_sides(self, doc: Doc, decided: list[Span]) -> list[Span]:
        """A country's second side: "England A beat France A 30-20" names the A teams, not the countries
        nor their first teams (`doc_tags` titles them "France A national rugby union team"); so does an
        age group: "Iceland U21" ("Iceland national under-21 football team")."""
        out = []
        for span in decided:
            nxt = doc[span.end] if span.end < len(doc) else None
            after = doc[span.end + 1] if span.end + 1 < len(doc) else None
            headline = after is not None and after.is_title and after.is_alpha  # "England A Team To..."
            if nxt is not None and span.label_ in ("TEAM", "PLACE") and fold(span.text) in self.kb.countries and (
                    nxt.text == "A" and not headline or YOUTH.fullmatch(nxt.text)):  # "Iceland U21", "Wales U-20s"
                span = Span(doc, span.start, span.end + 1, label="TEAM")
            elif len(span) >= 2 and YOUTH.fullmatch(span[-1].text) and fold(span[:-1].text) in self.kb.countries:
                span = Span(doc, span.start, span.end, label="TEAM")  # the model's own "England under-21s"
            out.append(span)
        return out

    def _read_shapes(self, doc: Doc, decided: list[Span], sport: str | None) -> list[Span]:
        """Names labelled by the shapes of sports writing (tasks.shapes) join or replace the decided ones.

        A line-up item, scorer or box-score name is a player, a side of a results line a team,
        unless the knowledge base names something else outright ("Australia 245." is the team).
        """
        found = find_shapes(doc.text)
        if not found:
            return decided
        known: dict[int, int] = {}  # a name the KB or the model found starting at a token: where it ends
        for span in [*decided, *doc.spans.get("ner", [])]:
            known.setdefault(span.start, span.end)
        sides = self._lists_of_sides(doc.text, found, decided)
        new: list[Span] = []
        for f in found:
            if f.group in sides:  # "Samoa (7), France, Italy, Georgia, Chinese Taipei": a draw, not a team sheet
                f = f._replace(label="TEAM", shape="sides")
            span = doc.char_span(f.start, f.end, alignment_mode="contract")
            if span is None or not len(span):
                continue
            if f.shape == "result" and known.get(span.start, span.end) < span.end:
                span = doc[span.start : known[span.start]]  # "Leyton Orient" of "Leyton Orient Scott's goal"
            if any(self._outright(d, span, f.label) for d in decided if d.start < span.end and span.start < d.end):
                continue
            link = self._side_link(span, sport) if f.shape == "sides" else self._shape_link(span, f.label, sport)
            new.append(Span(doc, span.start, span.end, label=f.label, kb_id=link))
            if f.label == "PLAYER":  # a name in a line-up plays, whatever the KB says they did later
                doc.user_data.setdefault("shape_players", set()).add(span.start_char)
        taken = {i for span in new for i in range(span.start, span.end)}
        kept = [d for d in decided if not taken & set(range(d.start, d.end))]
        return sorted(filter_spans(new + kept), key=lambda span: span.start)

    def _lists_of_sides(self, text: str, found: list, decided: list[Span]) -> set[int]:
        """The comma lists whose items are mostly teams or countries (pools, draws, tables: "England
        (2), Samoa (7), France, Italy, Georgia, Chinese Taipei"): every item of theirs is a side, not
        a player. A team sheet lists people; its club stands before the colon, not among the items."""
        teams = [(d.start_char, d.end_char) for d in decided if d.label_ == "TEAM" and d.kb_id_]
        items: dict[int, list[bool]] = {}
        for f in found:
            if f.shape == "lineup" and f.group >= 0:
                side = fold(text[f.start : f.end]) in self.kb.places or any(s < f.end and f.start < e for s, e in teams)
                items.setdefault(f.group, []).append(side)
        return {g for g, sides in items.items() if len(sides) >= 3 and sum(sides) * 2 > len(sides)}

    def _side_link(self, span: Span, sport: str | None) -> str:
        """A side of a list of sides: the KB team of that name in the article's sport, or none (a
        country's side in another sport is another team: "Hong Kong" at the rugby sevens)."""
        cands = [e for e in self.kb.by_alias.get(fold(span.text), []) if e.label == "TEAM"]
        if sport:
            cands = [e for e in cands if e.sport == sport]
        return self._pick(cands, "TEAM", sport).id if cands else ""

    def _outright(self, span: Span, shape: Span, label: str) -> bool:
        """Does a decided span hold against a shape's label: the same name and label, or a KB name in full?"""
        if span.label_ == label:
            return shape.start <= span.start and span.end <= shape.end  # not "K. Hupfer 1 goal"
        ent = self.kb.entities.get(span.kb_id_)
        key = fold(span.text)
        return ent is not None and key not in self.kb.places and key not in ent.weak_keys

    def _shape_link(self, span: Span, label: str, sport: str | None) -> str:
        """The KB team a results-line side names ("Rangers" of "Rangers 2-0"), the competition a
        competition shape names ("the Championship" of a football report); people link later."""
        cands = [e for e in self.kb.by_alias.get(fold(span.text), []) if e.label == label]
        if label == "TEAM":
            return self._pick(cands, "TEAM", sport).id if cands else ""
        if label == "COMPETITION":
            # a bare name many leagues share: the article's sport's one, the curated one among several
            cands = [e for e in cands if e.sport == sport] if sport else cands
            curated = [e for e in cands if e.source.startswith("curated")]
            pool = cands if len(cands) == 1 else curated
            return pool[0].id if len(pool) == 1 else ""
        return ""

    def _sports_evidence(self, doc: Doc, spans: list[Span]) -> float:
        """How much the text reads as sport: sport words and unambiguous sports names per 100 words.

        A country, a city or a surname says nothing (every nation fields teams; "Israel" and
        "Biden" fill world news): only strong aliases of sports entities count, and a team's
        nickname used as a side's name ("the Chiefs").
        """
        words = sum(t.is_alpha for t in doc) or 1
        vocab = sum((0.5 if t.lower_ in SHARED_WORDS else 1.0) for t in doc if t.lower_ in SPORT_WORDS | SHARED_WORDS)
        names: set[str] = set()  # distinct names: "Brown" ten times in a piece on a senator is one
        for span in spans:
            key = span.kb_id_
            if not key or key in self.kb.places:
                continue
            ents = self.kb.by_alias.get(key, [])
            if any(key not in e.weak_keys and e.label in SPORTS_LABELS for e in ents) or (
                    any(key in e.strict_keys and e.label == "TEAM" for e in ents) and _as_a_side(doc, span)):
                names.add(key)  # a side's nickname used as a side counts too: "the Chiefs", "Chargers coach"
        return (vocab + 2 * len(names)) * 100 / words

    def _prefer_longer_names(self, doc: Doc, spans: list[Span | None]) -> list[Span | None]:
        """A knowledge-base match inside a longer name the statistical model found gives way to it.

        "Jordan" (a national team) inside the person "Jordan Reese", "United" inside "United
        Nations": the longer name wins when it is a person, or when the match is only a weak or
        place alias. "Europa League" inside "the Europa League" stays.
        """
        ner = [t for t in (_trim(s) for s in doc.spans.get("ner", [])) if t is not None]
        if not ner:
            return spans
        kb_spans = [s for s in spans if s is not None and s.kb_id_]
        out: list[Span | None] = []
        for span in spans:
            if span is None or not span.kb_id_:
                out.append(span)
                continue
            key = span.kb_id_
            if len(span) >= 2 and any(e.label in PERSON_LABELS and key not in e.weak_keys
                                      for e in self.kb.by_alias.get(key, [])):
                out.append(span)  # "Thierry Henry" stays whole inside the model's "Thierry Henry He"
                continue
            weakish = key in self.kb.places or all(key in e.weak_keys for e in self.kb.by_alias.get(key, []))
            outer = next((n for n in ner if n.start <= span.start and span.end <= n.end and len(n) > len(span)
                          and (n.label_ == "PERSON" or weakish or _extends_name(n, span))
                          # "England England" (a headline run into the text) is two names, not one
                          and sum(n.start <= k.start and k.end <= n.end for k in kb_spans) == 1), None)
            out.append(outer if outer is not None else span)
        out = [s for s in out if s is not None]
        # a model's name that a KB match overlapped only in what trimming cut off ("Browns" of "Browns DL
        # Sheldon Richardson"): both names stand
        taken = {i for s in out for i in range(s.start, s.end)}
        out += [n for n in ner if not taken & set(range(n.start, n.end))
                and any(k.end <= n.start and k.start < n.start for k in kb_spans if k.end > n.start - 3)]
        return filter_spans(out)

    def _doc_sport(self, doc: Doc, spans: list[Span]) -> str | None:
        """The sport most named by unambiguous strong aliases and the sport's own words."""
        strong: Counter[str] = Counter()
        for span in spans:
            if span.kb_id_ in self.kb.places:
                continue  # "Russia" says nothing about the sport: every nation fields teams in many
            ents = [e for e in self.kb.by_alias.get(span.kb_id_ or "", []) if span.kb_id_ not in e.weak_keys]
            if not ents and _as_a_side(doc, span):  # a nickname used as a side's name: "the Chiefs"
                ents = [e for e in self.kb.by_alias.get(span.kb_id_ or "", [])
                        if span.kb_id_ in e.strict_keys and e.label == "TEAM"]
            # nor does a ground: Lansdowne Road, Wembley and the Millennium Stadium host several sports
            sports = {e.sport for e in ents if e.sport and e.label != "VENUE"}
            if len(sports) == 1:
                strong[sports.pop()] += 1
        # a sport's own words vote too ("wickets", "fly-half"): a line-up of unknown names has no KB name
        for token in doc:
            voted = SPORT_OF_WORD.get(token.lower_)
            if voted:
                strong[voted] += 1
        for word in HYPHENATED.findall(doc.text):  # the tokenizer splits "fly-half" into three tokens
            voted = SPORT_OF_WORD.get(word.lower())
            if voted:
                strong[voted] += 1
        # weak aliases alone never set the sport: they would vouch for themselves
        return strong.most_common(1)[0][0] if strong else None

    def _supported(self, doc: Doc, span: Span, key: str, sport: str | None, strong_ids: set[str]) -> list[Entity]:
        """Candidates of an alias that the text supports.

        A weak alias (nickname, surname, city) counts for an entity the text names outright, or
        for the one candidate of the article's sport; never inside a longer proper name
        ("United" in "United Nations").
        """
        cands = self.kb.by_alias.get(key, [])
        strong = [e for e in cands if key not in e.weak_keys]
        weak = [e for e in cands if key in e.weak_keys]
        if not weak:
            return strong
        nxt = doc[span.end] if span.end < len(doc) else None
        fixture = _in_fixture(doc, span)  # "Derby v Wigan", "Swindon/Notts Co", "Rangers 2-0": a side
        if nxt is not None and nxt.is_title and nxt.is_alpha and not nxt.is_sent_start and not fixture:
            return strong
        named = [e for e in weak if e.id in strong_ids]
        if not named and sport:
            sided = fixture or _as_a_side(doc, span)
            of_sport = [e for e in weak if e.sport == sport and (sided or key not in e.strict_keys)]
            named = of_sport if len(of_sport) == 1 else []
        return strong + named

    def _pick(self, ents: list[Entity], label: str, sport: str | None) -> Entity:
        pool = [e for e in ents if e.label == label] or ents
        if sport:
            pool = [e for e in pool if e.sport == sport] or pool
        football = [e for e in pool if e.sport == "football"]
        return (football or pool)[0]

    def _decide(
        self, doc: Doc, span: Span, cues: dict[int, set[str]], sport: str | None, sportsy: bool, strong_ids: set[str]
    ):
        before = doc[max(0, span.start - 3) : span.start]
        after = doc[span.end : span.end + 2]
        kb_key = span.kb_id_ if span.kb_id_ in self.kb.by_alias or span.kb_id_ in self.kb.places else ""
        if kb_key:
            ents = self._supported(doc, span, kb_key, sport, strong_ids)
            place = ("PLACE", f"place/{slug(span.text)}")
            if kb_key in self.kb.places and sport:
                # a place-named team counts only in its own sport: "Russia" in a tennis report
                # is a country, "England" in a cricket report is the cricket team
                ents = [e for e in ents if e.label != "TEAM" or e.sport == sport]
            if not ents or all(e.label == "PLACE" for e in ents):
                if kb_key in self.kb.places:
                    return place
                cands = self.kb.by_alias.get(kb_key, [])
                if sportsy and len(span) >= 2 and cands and all(e.label in PERSON_LABELS for e in cands):
                    # in sport, a full name the knowledge base knows only weakly is still a person's
                    # name: the context says whether a player ("South Africa's Lucas Radebe")
                    return self._person_label(doc, span, cues, sportsy, default="PLAYER"), ""
                return None, ""
            ent = self._pick([e for e in ents if e.label != "PLACE"], span.label_, sport)
            if not sportsy and ent.label in ("TEAM", "PLAYER", "COACH") and not _said_in_full(span, ent):
                # outside sport "Michigan", "Brown" or "Nixon" is a state, a university, a president
                return ("PERSON", "") if ent.label != "TEAM" else place if kb_key in self.kb.places else ("ORG", "")
            if ent.label == "TEAM" and kb_key in self.kb.places and not (
                    sportsy and self._team_not_place(doc, span, cues, sportsy)):
                return place
            if ent.label == "COACH" and ent.player_too:
                role = self._person_label(doc, span, cues, sportsy, default="PLAYER")
                return ("COACH" if role == "COACH" else "PLAYER"), ent.id
            return ent.label, ent.id
        generic = GENERIC.get(span.label_)
        if generic is None:
            return None, ""
        if generic == "ORG" and len(span) > 1 and self._after_nationality(doc, span):
            generic = "PERSON"  # "South Africa's Lucas Radebe": the model took the foreign name for an ORG
        if generic == "PERSON" and any(t.is_alpha and t.is_lower and t.lower_ not in NAME_PARTICLES for t in span):
            return None, ""  # "World Footballer of the Year": an award, not a person's name
        if generic == "PERSON":
            # a lone unknown word ("Scot", "Herald") is a player only with a role word beside it, or a
            # nationality before it ("Brazilian Marta", "American Davenport")
            named = len(span) > 1 or (span.start > 0 and doc[span.start - 1].text in DEMONYMS)
            default = "PLAYER" if named else "PERSON"
            return self._person_label(doc, span, cues, sportsy, default=default if sportsy else "PERSON"), ""
        if generic == "VENUE" and not {t.lower_ for t in span} & VENUE_WORDS:
            return None, ""  # a building, bridge or book title, not a ground
        if generic == "ORG" and sportsy and not {t.lower_ for t in span} & BODY_WORDS and (
            {t.lower_ for t in after[:1]} & MATCH_AFTER or {t.lower_ for t in before[-1:]} & MATCH_BEFORE
        ):
            if sport in INDIVIDUAL_SPORTS and 2 <= len(span) <= 3 and all(t.is_title for t in span):
                return "PLAYER", ""  # in tennis or golf the one beaten is a person: "beat Francesca Schiavone"
            return "TEAM", ""  # an unknown club in a match pattern: "Hartlepool beat Accrington"
        return generic, ""

    def _team_not_place(self, doc: Doc, span: Span, cues: dict[int, set[str]], sportsy: bool) -> bool:
        """For a name that is both a team and a place: does this mention mean the team?"""
        first = doc[span.start]
        prev = doc[span.start - 1] if span.start > 0 else None
        nxt = doc[span.end] if span.end < len(doc) else None
        # Dateline: "Milan:" or "MILAN (Reuters) -" opening a paragraph.
        line_start = prev is None or "\n" in prev.text or prev.is_space
        if line_start and nxt is not None and nxt.text in {":", "(", "—", "-"}:
            return False
        if first.is_upper and len(first) > 3 and nxt is not None and nxt.text in {"(", ",", ":"}:
            return False
        if _in_fixture(doc, span):
            return True  # "Leeds v Wigan", "Stockport/Swansea": sides, whatever follows in a run-on list
        if "ALL_OF" in cues.get(span.start - 2, set()):
            return False
        if prev is not None and prev.text == "(" and nxt is not None and nxt.text == ")":
            return False  # "Elena Bovina (Russia)": a nationality
        if nxt is not None and nxt.is_title and nxt.is_alpha and nxt.lower_ not in TEAM_AFTER:
            return False  # part of a longer name: "USA Today", "Liverpool Echo"
        if nxt is not None and nxt.text in ("'s", "’s") and self._names_person(doc, span.end + 1) \
                and self._is_nation(span):
            return False  # "Nigeria's Jay-Jay Okocha": a nationality
        of = span.start - 2 if prev is not None and prev.lower_ == "the" else span.start - 1
        if of >= 1 and doc[of].lower_ == "of" and self._is_person_token(doc[of - 1]) and self._is_nation(span):
            return False  # "Samuel Kuffour of Ghana", "Jason Damoo of the Seychelles": a nationality
        score = 0
        if nxt is not None and nxt.lower_ in TEAM_AFTER:
            score += 2
        if nxt is not None and ("SCORE" in cues.get(span.end, set())):
            score += 2
        if prev is not None and ("SCORE" in cues.get(span.start - 1, set())):
            score += 2
        if prev is not None and prev.lower_ in TEAM_BEFORE:
            score += 2
        if prev is not None and prev.lower_ in PLACE_BEFORE:
            score -= 2
        if prev is not None and prev.lower_ in {"the", "best"}:
            score += 1
        if score == 0:
            return sportsy
        return score > 0

    def _after_nationality(self, doc: Doc, span: Span) -> bool:
        """Is the span right after "<country>'s", two capitalised words the KB does not know?"""
        if span.start < 2 or doc[span.start - 1].text not in ("'s", "’s") or not self._names_person(doc, span.start):
            return False
        country = next((s for s in doc.ents if s.end == span.start - 1), None)
        return country is not None and self._is_nation(country, fold(country.text))

    def _is_person_token(self, token) -> bool:
        """Is the token part of a person's name, the model's or one the knowledge base knows?"""
        if token.ent_type_ in PERSON_LABELS:
            return True
        return any(e.label in PERSON_LABELS for e in self.kb.by_alias.get(token.ent_kb_id_, ()))

    def _names_person(self, doc: Doc, i: int) -> bool:
        """Does a person's name start at token i? A person entity (the model's or the knowledge base's),
        or two capitalised words that the knowledge base does not know (the model often calls a
        foreign name an ORG)."""
        if i >= len(doc):
            return False
        if doc[i].ent_type_ in PERSON_LABELS:
            return True
        if doc[i].ent_iob_ == "B" and self._is_person_token(doc[i]):
            return True  # "Nigeria's Jay-Jay Okocha": a player the knowledge base knows
        pair = doc[i : i + 2]
        return (len(pair) == 2 and all(t.is_title and t.is_alpha for t in pair)
                and not any(t.ent_type_ in SPORTS_LABELS or t.ent_kb_id_ for t in pair))

    def _is_nation(self, span: Span, key: str | None = None) -> bool:
        """Is this the name of a country (a national team's alias)? `key`: the span's folded name."""
        key = key or span.kb_id_
        return any(e.label == "TEAM" and e.country and fold(e.country) == key for e in self.kb.by_alias.get(key, []))

    def _person_label(
        self, doc: Doc, span: Span, cues: dict[int, set[str]], sportsy: bool, default: str = "PLAYER"
    ) -> str:
        """COACH, PLAYER or plain PERSON from the role words around a name (PERSON outside sport)."""
        if not sportsy:
            return "PERSON"  # "star", "champion", "coach" also describe singers and politicians
        window = {}
        for i in range(max(0, span.start - 3), span.start):
            for cue in cues.get(i, ()):
                window.setdefault(cue, i)
        # the appositive after: "Klopp, the Liverpool manager," / "X, 24, a midfielder"
        after_cues = set()
        for i in range(span.end, min(len(doc), span.end + 5)):
            if doc[i].text in {".", ";", "\n"} or doc[i].lower_ in ("and", "or", "but"):
                break  # "Magic Johnson and Lakers assistant coach Jason Kidd": the role is the next name's
            after_cues |= cues.get(i, set())
        nearest = max(window.items(), key=lambda kv: kv[1])[0] if window else None
        owner = doc[span.end : span.end + 2]  # "Brian Kerr's side", "Martin Allen's team": whose side it is
        if len(owner) == 2 and owner[0].text in ("'s", "’s") and owner[1].lower_ in SIDE_WORDS:
            return "COACH"
        if nearest == "ROLE_COACH" or (nearest is None and "ROLE_COACH" in after_cues):
            return "COACH"
        if nearest == "ROLE_OTHER" or (nearest is None and "ROLE_OTHER" in after_cues):
            return "PERSON"
        if nearest == "ROLE_PLAYER" or "ROLE_PLAYER" in after_cues:
            return "PLAYER"
        return default if sportsy else "PERSON"


# lower-case words inside people's names ("Ruud van Nistelrooy", "Vinicius dos Santos")
NAME_PARTICLES = {"de", "da", "di", "do", "dos", "das", "du", "del", "della", "van", "von", "der", "den", "ter",
                  "le", "la", "el", "al", "bin", "ibn", "y", "e", "st"}
SIDE_WORDS = {"side", "team", "squad", "men", "charges", "troops"}
# Nationalities written before a name ("Briton Hayley Yelling"): words of the language, not names.
DEMONYMS = {
    "Briton", "Scot", "Welshman", "Welshwoman", "Englishman", "Englishwoman", "Irishman", "Irishwoman", "Kiwi",
    "Aussie", "American", "Australian", "Canadian", "Kenyan", "Ethiopian", "Nigerian", "Ghanaian", "Jamaican",
    "French", "Frenchman", "German", "Spaniard", "Italian", "Portuguese", "Dutchman", "Belgian", "Swiss", "Swede",
    "Norwegian", "Dane", "Finn", "Russian", "Ukrainian", "Pole", "Czech", "Croat", "Serb", "Greek", "Turk",
    "Brazilian", "Argentine", "Argentinian", "Uruguayan", "Colombian", "Mexican", "Chilean", "Japanese", "Chinese",
    "Korean", "Indian", "Pakistani", "Sri", "Bangladeshi", "Zimbabwean", "Moroccan", "Egyptian", "Cameroonian",
    "Senegalese", "Ivorian", "Austrian", "Hungarian", "Romanian", "Bulgarian", "Slovak", "Slovenian", "Icelander",
    "Zealander", "Israeli", "Iranian", "Samoan", "Fijian", "Tongan", "Georgian", "Venezuelan", "Peruvian",
    "Lankan", "African",
}
# position abbreviations between a team and a player's name in American sports writing
POSITIONS = {"QB", "RB", "WR", "TE", "OL", "DL", "DE", "DT", "LB", "CB", "OT", "OG", "FB", "SS", "FS", "EDGE", "PG",
             "SG", "SF", "PF", "LHP", "RHP", "SP", "RP", "1B", "2B", "3B"}
INITIALS = re.compile(r"^(?:[A-Z]{1,3}|(?:[A-Z]\.[ ]?){1,3})[ ][A-Z]")  # "M Ntini", "AG Prince", "K. Hupfer"
FIXTURE_JOINS = {"v", "vs", "vs.", "v.", "/"}
SCORE_RE = re.compile(r"^\d{1,3}[-–]\d{1,3}$")


def _in_fixture(doc: Doc, span: Span) -> bool:
    """Is the span a side of a fixture or result: next to "v", a "/" of two sides, or a score?"""
    near = [doc[i].text.lower() for i in (span.start - 1, span.end) if 0 <= i < len(doc)]
    return any(t in FIXTURE_JOINS or SCORE_RE.match(t) for t in near)


def _as_a_side(doc: Doc, span: Span) -> bool:
    """A nickname used as a side's name: "the Chargers", "the Lions leave for New Zealand", "Chargers
    coach Anthony Lynn" (a strict alias, "Lions", "Saints", counts so in an article of its sport) -
    unless the article names another side by a longer name that ends with it ("Sheffield United
    manager" makes its "United keeper" Sheffield's, "Harambee Stars captain" is Kenya's)."""
    prev = doc[span.start - 1] if span.start else None
    nxt = doc[span.end] if span.end < len(doc) else None
    if not (prev is not None and prev.lower_ == "the" and span[0].is_title and span[-1].text.endswith("s")
            or nxt is not None and nxt.lower_ in COACH_WORDS | PLAYER_WORDS):
        return False
    seen = doc.user_data.setdefault("sides", {})  # the sport vote, the evidence and the link all ask
    if (span.start, span.end) not in seen:
        seen[(span.start, span.end)] = _no_other_side(doc, span)
    return seen[(span.start, span.end)]


def _no_other_side(doc: Doc, span: Span) -> bool:
    """No other side of the article goes by the nickname `span` (see `_as_a_side`)."""
    kb = default_kb()
    nickname = fold(span.text)
    mine = kb.by_alias.get(nickname, [])
    own = {fold(a) for e in mine for a in (e.name, *e.aliases, *e.weak, *e.strict)}
    for found in re.finditer(rf"\b((?:[A-Z][\w.&'-]*\s+)+){re.escape(span.text)}\b", doc.text):
        longer = fold(found.group(0)).removeprefix("the ")
        if longer != nickname and longer not in own:
            return False  # another side of that name: "Dundee United", "Harambee Stars"
    # a side the knowledge base knows by that nickname whose place the article names: "Eastern Michigan
    # rolled past Northern Illinois ... The Eagles (6-5)" are not Philadelphia's
    ids = {e.id for e in mine}
    text = doc.user_data.get("folded")
    if text is None:  # once per article, outside fold's cache (an article's text is no name to keep)
        text = doc.user_data["folded"] = fold.__wrapped__(doc.text)
    return not any(re.search(rf"\b{re.escape(head)}\b", text)
                   for head, team in _nickname_index(kb).get(nickname, ()) if team not in ids)


_NICKNAMES: dict[int, dict[str, tuple[tuple[str, str], ...]]] = {}


def _nickname_index(kb: KnowledgeBase) -> dict[str, tuple[tuple[str, str], ...]]:
    """Teams by the last word of their name ("eagles" -> ("eastern michigan", team id), ...)."""
    if id(kb) in _NICKNAMES:
        return _NICKNAMES[id(kb)]
    index: dict[str, list[tuple[str, str]]] = {}
    for ent in kb.entities.values():
        words = fold(ent.name.removesuffix(" men's basketball").removesuffix(" women's basketball")).split()
        if ent.label == "TEAM" and len(words) >= 2:
            index.setdefault(words[-1], []).append((" ".join(words[:-1]), ent.id))
    _NICKNAMES[id(kb)] = {k: tuple(v) for k, v in index.items()}
    return _NICKNAMES[id(kb)]


def _said_in_full(span: Span, ent: Entity) -> bool:
    """Is the mention the entity's full name of two words or more ("Kansas City Chiefs", "Tiger Woods")?"""
    key = fold(span.text)
    return len(span) >= 2 and key == fold(ent.name.split(" (")[0])


def _extends_name(outer: Span, inner: Span) -> bool:
    """Does `outer` continue `inner` with more capitalised words ("USA" -> "USA Today")?"""
    tail = outer.doc[inner.end : outer.end]
    return len(tail) > 0 and all(t.is_title or t.is_upper for t in tail)


def _trim(span: Span) -> Span | None:
    """Clean a span's edges: a leading 'the', a trailing possessive or score, a role word, a line break.

    ("Klopp’s" kept whole by the tokenizer is fixed when the surface is written, in doc_tags.)
    """
    start, end = span.start, span.end
    doc = span.doc
    kept = (span.kb_id_ or span.id_) == fold(span.text)  # the alias itself ends so: "Lord's", "St John's"
    while end > start and doc[end - 1].text in {"'s", "’s", "'", "’"} and not kept:
        end -= 1
    if start < end and doc[start].lower_ == "the" and span.label_ not in {"WORK_OF_ART"}:
        start += 1
    for i in range(start, end):  # a name never runs across a line break (headline + body)
        if doc[i].is_space or "\n" in doc[i].text:
            end = i
            break
    while end > start and (doc[end - 1].like_num or doc[end - 1].is_punct) and span.label_ == "PERSON":
        end -= 1  # "Elena Bovina 6-1": the score is not part of the name
    while end - start > 1 and not kept and SCORE_RE.match(doc[end - 1].text):
        end -= 1  # "Wales 2-0": nor of a team's
    if not kept and (doc[start].is_title or doc[start].is_upper):
        # "Pascal Cygan missed", "Mark Lewis-Francis - runner": a name ends with a capitalised word
        cut = end
        while cut - start > 1 and (doc[cut - 1].is_punct or (
                doc[cut - 1].is_alpha and doc[cut - 1].is_lower and doc[cut - 1].lower_ not in FIXTURE_JOINS
                and doc[cut - 2].whitespace_)):  # "Ing-wen", "U-turn", "Fly-half" are one word
            cut -= 1
        if cut < end and not doc[cut - 1].is_punct and not doc[cut - 1].is_lower:
            end = cut
    label = span.label_
    for i in range(start, end - 2):  # "Browns DL Sheldon Richardson", "Steelers QB Mason Rudolph"
        if doc[i].text in POSITIONS and not (span.kb_id_ or span.id_):
            start, label = i + 1, "PERSON"
            break
    while label == "PERSON" and end - start >= 2 and (
            end - start >= 3 and doc[start].text in DEMONYMS  # "Briton Hayley Yelling", "Sri Lankan Muttiah ..."
            or doc[start].text in DEMONYMS and doc[start].text.endswith(("an", "ese", "ish"))):  # "American Davenport"
        start += 1  # the nationality is not the name ("Finn Russell", "Dane Coles" keep their first names)
    # "Striker Joe Pelling", "Coach Andy Reid": the role word is context, not part of the name
    if not (span.kb_id_ or span.id_) and end - start >= 2 and doc[start].lower_ in ROLE_WORDS:
        start += 1
        label = "PERSON"
    if start >= end or all(t.text in DEMONYMS for t in doc[start:end]) or doc[start].text in ("'s", "’s"):
        return None  # "Sri Lankan" is a nationality, nobody's name; "(Athlete)'s Foot" is a shop
    if end - start == 1 and doc[start].lower_ in ROLE_WORDS and not kept:
        return None  # "(African) Footballer (of the Year)": a role, nobody's name
    return Span(doc, start, end, label=label, kb_id=span.kb_id_ or span.id_)


def _sign_offs(doc: Doc) -> None:
    """A name alone on its line, or after "By", signs a letter or an article: a person, not a player.

    ("Gary Bolen" over "Monterey" under a reader's letter, "By Helene Elliott" over a column.)
    """
    text, new = doc.text, []
    for span in doc.ents:
        if span.label_ in PERSON_LABELS:
            start = text.rfind("\n", 0, span.start_char) + 1
            end = text.find("\n", span.end_char)
            line = text[start : end if end >= 0 else len(text)].strip()
            if "\n" in text and (line == span.text or re.fullmatch(rf"[Bb]y {re.escape(span.text)},?", line)):
                span = Span(doc, span.start, span.end, label="PERSON", kb_id=span.kb_id_)
        new.append(span)
    doc.ents = new


def _link_people(doc: Doc, sportsy: bool) -> None:
    """Short forms take the label and identity of a full name used in the same text.

    A two- or three-word name the model called an organisation or a place is a person when the text
    uses its surname for a person elsewhere ("Makhaya Ntini" and the scorecard's "M Ntini").
    """
    surnames = Counter(fold(s.text).split()[-1] for s in doc.ents if s.label_ in PERSON_LABELS)
    relabelled = []
    for span in doc.ents:
        words = fold(span.text).split()
        if (span.label_ in ("ORG", "PLACE") and not span.kb_id_ and 2 <= len(words) <= 3
                and all(t.is_title for t in span)
                and not set(words) & BODY_WORDS and surnames[words[-1]] >= 1 and sportsy):
            span = Span(doc, span.start, span.end, label="PLAYER")
        relabelled.append(span)
    doc.ents = relabelled
    full: dict[str, Span] = {}
    for span in doc.ents:
        if span.label_ in PERSON_LABELS and len(span) >= 2 and not INITIALS.match(span.text):
            full.setdefault(fold(span.text), span)
    by_part: dict[str, list[Span]] = {}
    for span in full.values():
        words = fold(span.text).split()
        for k in range(1, len(words)):
            by_part.setdefault(" ".join(words[k:]), []).append(span)  # surname(s)
        by_part.setdefault(words[0], []).append(span)  # first name ("LeBron", "Serena")
    new = []
    for span in doc.ents:
        key = fold(span.text)
        targets = by_part.get(key, []) if key not in full else []
        if INITIALS.match(span.text):  # a scorecard's "M Ntini", "AG Prince": the full name with that initial
            first, _, rest = key.partition(" ")
            targets = [t for t in by_part.get(rest, []) if fold(t.text)[0] == first[0]]
        if len(targets) == 1 and span.label_ in {"PERSON", "PLAYER", "COACH", "ORG", "PLACE"}:
            target = targets[0]
            new.append(Span(doc, span.start, span.end, label=target.label_, kb_id=f"~{fold(target.text)}"))
        else:
            new.append(span)
    new = _link_squad_surnames(doc, new)
    new = _link_surnames_of_one_era(doc, new)
    # one name, one reading: "Hallworth" of the line-up is the "Hallworth" the model called an ORG
    role = {fold(s.text): s.label_ for s in new if s.label_ in ("PLAYER", "COACH")}
    doc.ents = [Span(doc, s.start, s.end, label=role[fold(s.text)], kb_id=s.kb_id_)
                if s.label_ in ("ORG", "PERSON") and not s.kb_id_ and fold(s.text) in role else s for s in new]


def _link_squad_surnames(doc: Doc, spans: list[Span]) -> list[Span]:
    """A lone surname no full name of the text explains ("Bridge" of a line-up) is the KB player of
    that surname who played for a team the text names, when there is exactly one such player in the
    article's sport (squad membership from the knowledge base's sources)."""
    kb = default_kb()
    named = {s.kb_id_ for s in spans if s.label_ == "TEAM" and s.kb_id_ in kb.entities}
    if not named:
        return spans
    sport = doc.user_data.get("sport")
    index = _surname_index(kb, squads=True)
    out = []
    for span in spans:
        key = fold(span.text)
        words = key.split()
        if span.label_ == "PLAYER" and not span.kb_id_ and (len(words) == 1 or words[0] in NAME_PARTICLES):
            hits = [e for e in index.get(key, ()) if named & set(e.teams) and (sport is None or e.sport == sport)]
            if len(hits) == 1:
                span = Span(doc, span.start, span.end, label=span.label_, kb_id=hits[0].id)
        out.append(span)
    return out


ERA_YEARS = 4  # players named in one report are contemporaries: their active years lie this close


def _link_surnames_of_one_era(doc: Doc, spans: list[Span]) -> list[Span]:
    """Lone surnames of a report's players ("Makelele, Gallas, Bridge") that the knowledge base gives
    to exactly one person, a player of the article's sport, are those players when at least one other
    such surname of the article names a player of the same era, and that is the era of most of them.

    A rare surname alone is weak evidence (the KB's only "Dimech" plays for Malta in 2020, not for
    Mansfield); two or more of them pointing at contemporaries say the text is about those players.
    A surname the KB gives to several people ("Terry", "Lloyd") is common: never linked this way.
    """
    sport = doc.user_data.get("sport")
    if sport is None:
        return spans
    index = _surname_index(default_kb())
    candidates: dict[int, Entity] = {}
    for i, span in enumerate(spans):
        key = fold(span.text)
        words = key.split()
        if span.label_ == "PLAYER" and not span.kb_id_ and (len(words) == 1 or words[0] in NAME_PARTICLES):
            hits = index.get(key, ())
            if len(hits) == 1 and hits[0].sport == sport and _years(hits[0]) is not None:
                candidates[i] = hits[0]
    if len(candidates) < 2:
        return spans
    people = {ent.id: _years(ent) for ent in candidates.values()}
    out = list(spans)
    for i, ent in candidates.items():
        first, last = people[ent.id]
        agree = sum(other_first - ERA_YEARS <= last and first <= other_last + ERA_YEARS
                    for other_first, other_last in people.values())
        if agree >= 2 and agree >= len(people) - agree:  # a contemporary, and the era of most of them
            span = spans[i]
            out[i] = Span(doc, span.start, span.end, label=span.label_, kb_id=ent.id)
    return out


def _years(ent: Entity) -> tuple[int, int] | None:
    """First and last year of an entity's `years` ("2002-2006", "2010"; open-ended "2019-" is now)."""
    found = re.fullmatch(r"(\d{4})(?:-(\d{4})?)?", ent.years or "")
    if not found:
        return None
    first = int(found.group(1))
    last = int(found.group(2)) if found.group(2) else (9999 if ent.years.endswith("-") else first)
    return first, last


_SURNAMES: dict[tuple[int, bool], dict[str, tuple[Entity, ...]]] = {}


def _surname_index(kb: KnowledgeBase, squads: bool = False) -> dict[str, tuple[Entity, ...]]:
    """Every player and coach of the knowledge base by folded surname ("makelele", "de zeeuw"); with
    `squads`, only the players it knows the teams of."""
    key = (id(kb), squads)
    if key not in _SURNAMES:
        index: dict[str, list[Entity]] = {}
        for ent in kb.entities.values():
            if (ent.label == "PLAYER" and ent.teams) if squads else ent.label in ("PLAYER", "COACH"):
                words = fold(ent.name.split(" (")[0]).split()
                for k in range(1, len(words)):
                    index.setdefault(" ".join(words[k:]), []).append(ent)
        _SURNAMES[key] = {k: tuple(v) for k, v in index.items()}
    return _SURNAMES[key]


def doc_tags(doc: Doc) -> list[Tag]:
    """Tags of a processed doc, each with its canonical name and entity id.

    A person's label is decided once per document: a known coach stays a coach (unless the
    knowledge base says they also played, when the context decides), and otherwise the strongest
    role seen in any mention wins (COACH > PLAYER > PERSON). Ids never depend on the label (see
    `unknown_id` for names the knowledge base does not know).
    """
    kb = default_kb()
    sport = doc.user_data.get("sport")
    school_sport = SCHOOL_SPORT.search(doc.text) is not None
    side = "women's" if len(WOMENS.findall(doc.text)) > len(MENS.findall(doc.text)) else "men's"
    rows = []
    for span in doc.ents:
        if span.label_ not in OUTPUT_LABELS:
            continue
        text, end = span.text, span.end_char
        for suffix in ("’s", "'s"):
            if text.endswith(suffix) and len(text) > len(suffix) and not _is_alias_of(kb, text, span.kb_id_):
                text, end = text[: -len(suffix)], end - len(suffix)
        kb_id, label = span.kb_id_, span.label_
        written = html.unescape(text) if "&" in text else text  # a name the KB lacks is titled as written
        ent: Entity | None = None
        if kb_id.startswith(NATION_SIDE):  # a nation's side in a nation cup (`SportsContext._nation_cup_sides`)
            canonical = kb_id.removeprefix(NATION_SIDE)
        elif kb_id.startswith("~"):  # linked to a full name in this text
            ent = _kb_person(kb, kb_id[1:])
            canonical = ent.name if ent else _title_of(doc, kb_id[1:])
        elif kb_id in kb.entities:
            ent = kb.entities[kb_id]
            canonical = ent.name
        elif label in PERSON_LABELS:
            ent = _kb_person(kb, fold(text), sport)
            canonical = ent.name if ent else written
        else:
            # a name the context labelled but did not link ("FA Cup" of a shape): the one KB entity of
            # that label (and the article's sport) it names, so one name keeps one identity
            named = [e for e in kb.by_alias.get(fold(text), []) if e.label == label
                     and (e.sport in (sport, None) if sport else fold(text) not in e.weak_keys)]
            ent = named[0] if len(named) == 1 else None
            canonical = ent.name if ent else written
            if ent is None and label == "TEAM" and sport and fold(text) in kb.countries:
                # a country's side the knowledge base lacks in this sport ("Kenya" at the rugby sevens):
                # its title, as Wikipedia names national sides, so it is never the country's own name
                canonical = f"{written} national {sport} team"
            elif (ent is None and label == "TEAM" and sport and (youth := YOUTH.search(text))
                  and fold(text[:youth.start()]) in kb.countries):
                # a country's age-group side: its own team, titled as Wikipedia titles them
                canonical = f"{written[:youth.start()].strip()} national under-{youth.group(1)} {sport} team"
            elif ent is None and label == "TEAM" and sport and text.endswith(" A") and fold(text[:-2]) in kb.countries:
                # a country's A side (`SportsContext._a_sides`): its own team, titled as Wikipedia titles them
                canonical = (f"{written[:-2]} A cricket team" if sport == "cricket"
                             else f"{written} national {sport} team")
            elif ent is None and label == "TEAM" and school_sport and not set(fold(text).split()) & SCHOOL_WORDS:
                # a side of a school-sport round-up the KB does not know ("Rockledge", "Palm Bay Magnet"):
                # a high school, titled as Wikipedia titles them, never the town it is named after
                canonical = f"{written} High School"
        if ent is not None and ent.label == "TEAM" and sport == "basketball" and (
                "cbbpy" in ent.source.split("+") or ent.name.endswith("'s basketball")):
            # a college programme in a basketball article is its men's or its women's team
            school = ent.name.removesuffix(" men's basketball").removesuffix(" women's basketball")
            team = kb.entities.get(f"team/{slug(f'{school} {side} basketball')}")
            if team is not None:
                ent, canonical = team, team.name
        if ent is not None:
            identity = ent.id
        elif kb_id.startswith("place/"):
            identity = kb_id
        else:
            identity = ""  # decided below, once the document's label of the name is known
        rows.append([text, label, span.start_char, end, canonical, identity, ent])
    rank = {"COACH": 3, "PLAYER": 2, "PERSON": 1}
    best: dict[str, str] = {}
    for _, label, _, _, canonical, identity, _ent in rows:
        key = identity or fold(canonical)
        if label in rank and rank[label] > rank.get(best.get(key, ""), 0):
            best[key] = label
    played = {row[5] or fold(row[4]) for row in rows if row[2] in doc.user_data.get("shape_players", ())}
    doc_key = hashlib.sha1(doc.text.encode("utf-8")).hexdigest()[:8]
    tags = []
    for row in rows:
        text, label, start, end, canonical, identity, ent = row
        key = identity or fold(canonical)
        if label in rank:
            label = best[key]
            if ent is not None and ent.label in ("COACH", "PLAYER") and not (ent.player_too and label != "PERSON"):
                label = ent.label
            if key in played:
                label = "PLAYER"
        if not identity:
            identity = unknown_id(canonical, sport, doc_key if key in best else None)
        tags.append(Tag(text, label, start, end, canonical, identity, ent.qid if ent else None))
    return tags


def unknown_id(name: str, sport: str | None, doc_key: str | None = None) -> str:
    """The id of a name the knowledge base does not know: one per full name and sport.

    Never the label ("AB de Villiers" tagged ORG once and PLAYER once is one entity). A lone
    unresolved surname of a person (`doc_key` given) is an entity of its own article only
    (`schemas.records.local_id`, no `entities` row): every "Jones" in the warehouse is not one person.
    """
    if doc_key and len(fold(name).split()) == 1:
        return local_id(doc_key, slug(name))
    return f"name/{slug(sport) if sport else 'any'}/{slug(name)}"


def _is_alias_of(kb: KnowledgeBase, text: str, entity_id: str) -> bool:
    """Is `text` itself a name of the entity ("Lord's" of the ground, not "Klopp's" of the coach)?"""
    return any(e.id == entity_id for e in kb.by_alias.get(fold(text), []))


NAME_SUFFIXES = {"jr", "sr", "fils", "ii", "iii", "iv"}  # "Samuel Eto'o Fils", "Odell Beckham Jr." is the man


def _kb_person(kb: KnowledgeBase, folded: str, sport: str | None = None) -> Entity | None:
    """The KB person a name is. A lone surname must be of the article's sport ("Warne" in a
    football line-up is not the cricketer)."""
    words = folded.split()
    keys = [folded, " ".join(words[:-1])] if len(words) >= 3 and words[-1] in NAME_SUFFIXES else [folded]
    for key in keys:
        for ent in kb.by_alias.get(key, []):
            if ent.label in PERSON_LABELS and (len(words) > 1 or sport is None or ent.sport in (sport, None)):
                return ent
    return None


def _title_of(doc: Doc, folded: str) -> str:
    for span in doc.ents:
        if fold(span.text) == folded:
            return span.text.removesuffix("’s").removesuffix("'s")
    return folded.title()


# Only the NER (and its tok2vec) is needed: the tagger, parser and lemmatizer would double the cost.
EXCLUDED_COMPONENTS = ["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
_TAGGERS: dict[str, SportsTagger] = {}
_TAGGERS_LOCK = threading.Lock()


class AliasMatcher:
    """The knowledge base's names found in a doc: an exact lookup of token runs in a dict of aliases.

    Does what an EntityRuler of phrase patterns does (the longest match wins, and it overwrites the
    statistical model's overlapping names) without tokenizing tens of thousands of patterns at start-up:
    a name matches where its exact text starts and ends on token boundaries.
    """

    def __init__(self) -> None:
        self.table: dict[str, tuple[str, str]] = {}  # alias as written -> (label, folded key)
        # every alias cut where a token may end ("St. James' Park" -> "St", "St.", "St. James", ...): a
        # run of tokens that is no alias's beginning stops the search after one look-up
        self.prefixes: set[str] = set()

    def add_patterns(self, patterns: Iterable[dict]) -> None:
        """Add EntityRuler-style {"label", "pattern", "id"} phrase patterns (the first one of a text wins)."""
        for p in patterns:
            for text in dict.fromkeys([p["pattern"], _house_style(p["pattern"])]):
                if not text or text in self.table:
                    continue
                self.table[text] = (p["label"], p["id"])
                for i in range(1, len(text)):
                    if not (text[i].isalnum() and text[i - 1].isalnum()):
                        self.prefixes.add(text[:i].rstrip())
                self.prefixes.add(text)

    def __call__(self, doc: Doc) -> Doc:
        text, table, prefixes = doc.text, self.table, self.prefixes
        bounds = [(t.idx, t.idx + len(t.text)) for t in doc]
        found = []
        n = len(bounds)
        for i in range(n):
            start = bounds[i][0]
            for j in range(i, n):
                piece = text[start : bounds[j][1]]
                if piece not in prefixes:
                    break
                hit = table.get(piece)
                if hit is not None:
                    found.append(Span(doc, i, j + 1, label=hit[0], kb_id=hit[1]))
        if found:
            new = filter_spans(found)
            kept = [e for e in doc.ents if not any(e.start < s.end and s.start < e.end for s in new)]
            doc.ents = sorted(kept + new, key=lambda s: s.start)
        return doc


ACRONYM = re.compile(r"\b([A-Z])([A-Z]{3,})\b")


def _house_style(name: str) -> str:
    """A name as British house style writes its acronyms read as words: "UEFA Cup" is "Uefa Cup",
    "FIFA Club World Cup" "Fifa Club World Cup"."""
    return ACRONYM.sub(lambda m: m.group(1) + m.group(2).lower(), name)


@Language.factory("kb_aliases", default_config={})
def make_kb_aliases(nlp: Language, name: str) -> AliasMatcher:
    """spaCy factory for the alias matcher (patterns are added after it is created)."""
    return AliasMatcher()


def build_nlp(model_name: str, kb: KnowledgeBase | None = None) -> Language:
    """The statistical model (NER only) + the knowledge base's alias matcher + sports_context."""
    kb = kb or default_kb()
    nlp = spacy.load(model_name, exclude=EXCLUDED_COMPONENTS)
    nlp.add_pipe("ner_snapshot", after="ner")
    matcher = nlp.add_pipe("kb_aliases", after="ner_snapshot")
    matcher.add_patterns(kb_patterns(kb))
    nlp.add_pipe("sports_context", last=True)
    return nlp


def get_tagger(model_name: str) -> SportsTagger:
    """The cached tagger for a model (built once per process)."""
    with _TAGGERS_LOCK:
        if model_name not in _TAGGERS:
            kb = default_kb()
            _TAGGERS[model_name] = SportsTagger(build_nlp(model_name, kb), kb, model_name)
        return _TAGGERS[model_name]
