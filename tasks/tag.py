"""Tag: texts -> sports entity mentions, through one spaCy pipeline built in code.

The pipeline is the statistical English model (generic PERSON/ORG/GPE names) followed by an
EntityRuler holding the knowledge base's aliases, then the `sports_context` component, which
decides from the article what each name means (TEAM or PLACE, COACH or PLAYER) and links every
mention to one canonical entity.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from schemas.records import Article, Mention, TaggedArticle
from tasks.kb import SPORTS_LABELS, Entity, KnowledgeBase, default_kb, fold, slug

RULES_VERSION = "1"

GENERIC = {"PERSON": "PERSON", "ORG": "ORG", "GPE": "PLACE", "LOC": "PLACE", "FAC": "VENUE", "EVENT": "EVENT"}
PERSON_LABELS = {"PERSON", "PLAYER", "COACH"}
OUTPUT_LABELS = {*SPORTS_LABELS, "PERSON", "ORG", "PLACE"}

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
}
OTHER_ROLE_WORDS = {
    "referee", "umpire", "chairman", "owner", "president", "chief", "executive", "ceo", "director",
    "agent", "spokesman", "spokeswoman", "minister", "pundit", "commentator", "journalist", "reporter",
    "judge", "lawyer", "doctor", "secretary", "commissioner", "governor", "senator", "mayor", "official",
    "officials", "sponsor", "writer", "editor", "analyst", "prime", "king", "queen", "prince", "police",
}
ROLE_WORDS = COACH_WORDS | PLAYER_WORDS | OTHER_ROLE_WORDS
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

    def shifted(self, delta: int) -> Tag:
        """The same tag with offsets moved by `delta`."""
        return replace(self, start=self.start + delta, end=self.end + delta)


class SportsTagger:
    """A built pipeline plus the knowledge base it was built from; thread-safe to call."""

    def __init__(self, nlp: Language, kb: KnowledgeBase, model_name: str):
        self.nlp, self.kb = nlp, kb
        meta = nlp.meta
        self.version = f"r{RULES_VERSION}-kb{kb.digest}-{model_name}@{meta.get('version', '?')}"
        self._lock = threading.Lock()

    def tag_texts(self, texts: Iterable[str], batch_size: int = 32) -> Iterator[list[Tag]]:
        """Tag many texts with nlp.pipe; yields one list of tags per text, in order."""
        with self._lock:  # spaCy pipelines are not safe to run from two threads at once
            for doc in self.nlp.pipe(texts, batch_size=batch_size):
                yield doc_tags(doc)

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
                )
            )
        return tuple(out)


def tag_articles(tagger: SportsTagger, articles: list[Article]) -> list[TaggedArticle]:
    """Tag articles (title for context, then body) with one nlp.pipe; offsets are into the body."""
    texts = [f"{a.title}\n\n{a.body}" if a.title else a.body for a in articles]
    out = []
    for a, tags in zip(articles, tagger.tag_texts(texts), strict=True):
        off = len(a.title) + 2 if a.title else 0
        body_tags = [t.shifted(-off) for t in tags if t.start >= off]
        out.append(TaggedArticle(a, tagger.mentions(body_tags), tagger.version))
    return out


def kb_patterns(kb: KnowledgeBase) -> list[dict]:
    """EntityRuler patterns: one per alias (case-sensitive as written, plus an upper-case form)."""
    patterns = []
    seen: set[tuple[str, str]] = set()
    for key, ents in kb.by_alias.items():
        label = ents[0].label
        for ent in ents:
            for alias in (*ent.aliases, *ent.weak):
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
        sport = self._doc_sport(spans)
        strong_ids = {
            e.id for s in spans for e in self.kb.by_alias.get(s.kb_id_, []) if s.kb_id_ not in e.weak_keys
        }
        sportsy = any(s.label_ in SPORTS_LABELS for s in spans)
        decided: list[Span] = []
        for span in spans:
            label, ent_key = self._decide(doc, span, cues, sport, sportsy, strong_ids)
            if label:
                decided.append(Span(doc, span.start, span.end, label=label, kb_id=ent_key))
        doc.ents = decided
        _link_people(doc, sportsy)
        return doc

    def _prefer_longer_names(self, doc: Doc, spans: list[Span | None]) -> list[Span | None]:
        """A knowledge-base match inside a longer name the statistical model found gives way to it.

        "Jordan" (a national team) inside the person "Jordan Reese", "United" inside "United
        Nations": the longer name wins when it is a person, or when the match is only a weak or
        place alias. "Europa League" inside "the Europa League" stays.
        """
        ner = [t for t in (_trim(s) for s in doc.spans.get("ner", [])) if t is not None]
        if not ner:
            return spans
        out: list[Span | None] = []
        for span in spans:
            if span is None or not span.kb_id_:
                out.append(span)
                continue
            key = span.kb_id_
            weakish = key in self.kb.places or all(key in e.weak_keys for e in self.kb.by_alias.get(key, []))
            outer = next((n for n in ner if n.start <= span.start and span.end <= n.end and len(n) > len(span)
                          and (n.label_ == "PERSON" or weakish)), None)
            out.append(outer if outer is not None else span)
        return filter_spans([s for s in out if s is not None])

    def _doc_sport(self, spans: list[Span]) -> str | None:
        """The sport most named by unambiguous strong aliases."""
        strong: Counter[str] = Counter()
        for span in spans:
            ents = [e for e in self.kb.by_alias.get(span.kb_id_ or "", []) if span.kb_id_ not in e.weak_keys]
            sports = {e.sport for e in ents if e.sport}
            if len(sports) == 1:
                strong[sports.pop()] += 1
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
        if nxt is not None and nxt.is_title and nxt.is_alpha and not nxt.is_sent_start:
            return strong
        named = [e for e in weak if e.id in strong_ids]
        if not named and sport:
            of_sport = [e for e in weak if e.sport == sport]
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
            if not ents or all(e.label == "PLACE" for e in ents):
                if kb_key in self.kb.places:
                    return "PLACE", f"place/{slug(span.text)}"
                return None, ""
            ent = self._pick([e for e in ents if e.label != "PLACE"], span.label_, sport)
            if ent.label == "TEAM" and kb_key in self.kb.places and not self._team_not_place(doc, span, cues, sportsy):
                return "PLACE", f"place/{slug(span.text)}"
            return ent.label, ent.id
        generic = GENERIC.get(span.label_)
        if generic is None:
            return None, ""
        if generic == "PERSON":
            return self._person_label(doc, span, cues, sportsy), ""
        if generic == "ORG" and sportsy and (
            {t.lower_ for t in after[:1]} & TEAM_AFTER or {t.lower_ for t in before[-1:]} & TEAM_BEFORE
        ):
            return "TEAM", ""
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
        if "ALL_OF" in cues.get(span.start - 2, set()):
            return False
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

    def _person_label(self, doc: Doc, span: Span, cues: dict[int, set[str]], sportsy: bool) -> str:
        """COACH, PLAYER or plain PERSON from the role words around a name."""
        window = {}
        for i in range(max(0, span.start - 3), span.start):
            for cue in cues.get(i, ()):
                window.setdefault(cue, i)
        # the appositive after: "Klopp, the Liverpool manager," / "X, 24, a midfielder"
        after_cues = set()
        for i in range(span.end, min(len(doc), span.end + 5)):
            if doc[i].text in {".", ";", "\n"}:
                break
            after_cues |= cues.get(i, set())
        nearest = max(window.items(), key=lambda kv: kv[1])[0] if window else None
        if nearest == "ROLE_COACH" or (nearest is None and "ROLE_COACH" in after_cues):
            return "COACH"
        if nearest == "ROLE_OTHER" or (nearest is None and "ROLE_OTHER" in after_cues):
            return "PERSON"
        if nearest == "ROLE_PLAYER" or "ROLE_PLAYER" in after_cues:
            return "PLAYER"
        return "PLAYER" if sportsy else "PERSON"


def _trim(span: Span) -> Span | None:
    """Drop a leading 'the' and a trailing possessive from a span."""
    start, end = span.start, span.end
    doc = span.doc
    while end > start and doc[end - 1].text in {"'s", "’s", "'", "’"}:
        end -= 1
    while end > start and doc[end - 1].text.endswith(("’s", "'s")) and len(doc[end - 1].text) > 2:
        break  # tokeniser kept "Klopp’s" whole: keep it; the surface is fixed in doc_tags
    if start < end and doc[start].lower_ == "the" and span.label_ not in {"WORK_OF_ART"}:
        start += 1
    label = span.label_
    # "Striker Joe Pelling", "Coach Andy Reid": the role word is context, not part of the name
    if not (span.kb_id_ or span.id_) and end - start >= 2 and doc[start].lower_ in ROLE_WORDS:
        start += 1
        label = "PERSON"
    if start >= end:
        return None
    return Span(doc, start, end, label=label, kb_id=span.kb_id_ or span.id_)


def _link_people(doc: Doc, sportsy: bool) -> None:
    """Short forms take the label and identity of a full name used in the same text."""
    full: dict[str, Span] = {}
    for span in doc.ents:
        if span.label_ in PERSON_LABELS and len(span) >= 2:
            full.setdefault(fold(span.text), span)
    if not full:
        return
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
        if len(targets) == 1 and span.label_ in {"PERSON", "PLAYER", "COACH", "ORG", "PLACE"}:
            target = targets[0]
            new.append(Span(doc, span.start, span.end, label=target.label_, kb_id=f"~{fold(target.text)}"))
        else:
            new.append(span)
    doc.ents = new


def doc_tags(doc: Doc) -> list[Tag]:
    """Tags of a processed doc, each with its canonical name and entity id."""
    kb = default_kb()
    # a person's label is decided once per document: the strongest role seen wins
    person_label: dict[str, str] = {}
    rank = {"COACH": 3, "PLAYER": 2, "PERSON": 1}
    for span in doc.ents:
        if span.label_ in PERSON_LABELS:
            key = span.kb_id_[1:] if span.kb_id_.startswith("~") else fold(span.text)
            if rank[span.label_] > rank.get(person_label.get(key, "PERSON"), 0):
                person_label[key] = span.label_
            person_label.setdefault(key, span.label_)
    tags = []
    for span in doc.ents:
        if span.label_ not in OUTPUT_LABELS:
            continue
        text, end = span.text, span.end_char
        for suffix in ("’s", "'s"):
            if text.endswith(suffix) and len(text) > len(suffix):
                text, end = text[: -len(suffix)], end - len(suffix)
        label = span.label_
        kb_id = span.kb_id_
        if kb_id.startswith("~"):  # linked to a full name in this text
            full = kb_id[1:]
            label = person_label.get(full, label)
            ent = _kb_person(kb, full)
            canonical = ent.name if ent else _title_of(doc, full)
            entity_id = ent.id if ent else f"person/{slug(full)}"
        elif kb_id in kb.entities:
            ent = kb.entities[kb_id]
            canonical, entity_id = ent.name, ent.id
        elif label in PERSON_LABELS:
            ent = _kb_person(kb, fold(text))
            label = person_label.get(fold(text), label)
            canonical = ent.name if ent else text
            entity_id = ent.id if ent else f"person/{slug(text)}"
            if ent and ent.label in {"COACH", "PLAYER"}:
                label = ent.label
        else:
            canonical = text
            entity_id = kb_id or f"{label.lower()}/{slug(text)}"
        tags.append(Tag(text, label, span.start_char, end, canonical, entity_id,
                        kb.entities[entity_id].qid if entity_id in kb.entities else None))
    return tags


def _kb_person(kb: KnowledgeBase, folded: str) -> Entity | None:
    for ent in kb.by_alias.get(folded, []):
        if ent.label in PERSON_LABELS:
            return ent
    return None


def _title_of(doc: Doc, folded: str) -> str:
    for span in doc.ents:
        if fold(span.text) == folded:
            return span.text.removesuffix("’s").removesuffix("'s")
    return folded.title()


_TAGGERS: dict[str, SportsTagger] = {}
_TAGGERS_LOCK = threading.Lock()


def build_nlp(model_name: str, kb: KnowledgeBase | None = None) -> Language:
    """The statistical model (NER only) + knowledge-base EntityRuler + sports_context."""
    kb = kb or default_kb()
    nlp = spacy.load(model_name, exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"])
    nlp.add_pipe("ner_snapshot", after="ner")
    ruler = nlp.add_pipe("entity_ruler", after="ner_snapshot", config={"overwrite_ents": True})
    with nlp.select_pipes(enable=[]):  # patterns only need the tokenizer, not the models
        ruler.add_patterns(kb_patterns(kb))
    nlp.add_pipe("sports_context", last=True)
    return nlp


def get_tagger(model_name: str) -> SportsTagger:
    """The cached tagger for a model (built once per process)."""
    with _TAGGERS_LOCK:
        if model_name not in _TAGGERS:
            kb = default_kb()
            _TAGGERS[model_name] = SportsTagger(build_nlp(model_name, kb), kb, model_name)
        return _TAGGERS[model_name]


def tagger_version(model_name: str) -> str:
    """The version string stored on articles tagged by this tagger."""
    return get_tagger(model_name).version
