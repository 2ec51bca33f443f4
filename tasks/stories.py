"""Stories: articles that tell the same news (from several outlets and runs) share a story id.

Pure code. Two signals decide that an article joins an earlier one's story:
- near-duplicate text: a MinHash of the body's word shingles (datasketch), banded for LSH, catches
  syndicated, trimmed and updated copies;
- the same event told differently: the same main person in both (the subject of the headline or
  of the lead, never the speaker a headline quotes), or the same match (two teams in common, with
  the same score or both teams in a headline; the match-facts stage's match keys win when present).
Each article, in publication order, joins the story of its strongest link among articles of the
last `window` hours, or starts a story. The flow (tasks/load.py, inside each batch's transaction)
and `pressbox stories` call the same `assign_stories`; only where the earlier signatures come from
differs (the warehouse's `story_signatures`, or the input file).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from schemas.records import Article, Mention, StorySignature, TaggedArticle
from tasks.kb import fold

if TYPE_CHECKING:  # spaCy stays out of the flow's process: only `pressbox stories` tags here
    from pressbox.settings import Settings
    from tasks.tag import SportsTagger

NUM_PERM = 64  # 64 permutations: Jaccard within ~0.12, half the cost of 128
BANDS, ROWS = 16, 4  # LSH: pairs above Jaccard ~0.5 share a band with high probability
SCHEME = "affine32"  # datasketch 2's default, named: stored signatures must keep meaning the same thing
SHINGLE = 3  # word 3-grams: a reworded sentence breaks few of them, another story shares almost none
MAX_SHINGLES = 2000  # a very long live blog is signed by its first 2,000 shingles (bounded cost)
SEED = 7  # with crc32 as the base hash (C speed, the same in every process) the signature is stable
LEAD_CHARS = 400  # the lead: where a story names what it is about
NEAR_DUPLICATE = 0.5
LEAD_PERSON_SHARE = 0.375  # a person named in one headline and the other's lead links within 36 of 96 hours
TITLE_PERSON_SHARE = 0.75  # a person both headlines are about links within 72 of 96 hours (an obituary, tributes)
PROGRAMME_HOURS = 6.0  # a programme's item on one team joins a report of that team's result within 6 hours
ROUND_UP_TEAMS = 3  # an item whose headline and lead name more teams is a round-up: joins a match only by its score
LINK_WEIGHT = 2  # what shared keys must weigh for an earlier article to be read as a candidate (weighted_keys)
PERSON_LABELS = {"PLAYER", "COACH", "PERSON"}
THING_LABELS = {"TEAM", "COMPETITION", "VENUE"}  # (the tagger calls some people ORG)
# words of club names that name no club on their own
CLUB_WORDS = {"united", "city", "town", "county", "rovers", "athletic", "athletico", "albion", "wanderers", "west",
              "east", "north", "south", "real", "club", "sporting", "inter", "hove", "national", "team", "football",
              "rugby", "cricket", "union", "hotspur", "f.c", "a.f.c", "fc", "afc", "saint", "st", "borussia",
              "olympique", "racing", "dynamo", "dinamo", "deportivo", "atletico", "new", "york", "los", "angeles",
              "san", "the"}
SCORE_RE = re.compile(r"(?<![\d.,:/\-–])(\d{1,3}) ?[-–] ?(\d{1,3})(?![\d\-–/:]|[.,]\d)")
WORD_RE = re.compile(r"\w+")
# "'We were outstanding' - Arteta": the name after a closing dash is who speaks, not the subject
# "... genius who did not get the kudos he deserved | Ewan Murray": a column's byline names its writer
BYLINE_RE = re.compile(r"\s\|\s*[^|]{2,60}$")
SPEAKER_RE = re.compile(r"\s[-–—]\s*((?:[A-Z][\w'’.\-]*\s?){1,3})\s*$")
# a written name: capitalised words ("Aitana Bonmatí", "O'Neill", "Calvert-Lewin"), name particles between them
NAME_WORD_RE = re.compile(r"[^\W\d_][\w'’\-]*")
NAME_PARTICLES = {"de", "van", "der", "den", "von", "da", "di", "dos", "do", "du", "le", "la", "ten", "ter", "el", "al"}
# capitalised words that open a headline or name a thing, never a person's name
NOT_NAME_WORDS = CLUB_WORDS | {
    "a", "an", "and", "are", "as", "at", "after", "before", "but", "by", "can", "do", "does", "every", "for", "from",
    "he", "her", "his", "how", "i", "if", "in", "is", "it", "its", "my", "no", "not", "of", "on", "our", "she",
    "so", "that", "their", "these", "they", "this", "to", "was", "we", "what", "when", "where", "which", "who",
    "why", "will", "with", "you", "your", "watch", "sign", "take", "meet", "best", "top", "live", "men's", "women's",
    "men’s", "women’s", "football", "sport", "sports", "league", "cup", "premier", "premiership", "championship",
    "day", "daily", "weekly", "news", "podcast", "quiz", "year", "years", "world", "awards", "award", "honours",
    "final", "semi", "quarter", "round", "super", "grand", "prix", "open", "tour", "trophy", "series", "test",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "christmas",
    "bbc", "fifa", "uefa", "sky", "guardian", "radio", "tv", "show", "extra", "story", "analysis", "preview",
    "report", "reaction", "highlights", "opinion", "interview", "obituary", "mailbag", "newsletter",
}
PREVIEW_RE = re.compile(r"\b(preview|team news|ahead of|predicted line-?ups?|what we know|how to watch)\b", re.I)


@dataclass(frozen=True)
class StoryParams:
    """How stories are formed; from the settings (`story_window_hours`)."""

    window_hours: float = 96.0
    near_duplicate: float = NEAR_DUPLICATE


@dataclass(frozen=True)
class Assignment:
    """Which story an article joined, why, and through which earlier article."""

    article_id: str
    story_id: str
    reason: str  # new | near_duplicate | same_match | same_person | kept
    via: str | None = None
    similarity: float | None = None


# -- signatures -----------------------------------------------------------------------------------
def shingles(text: str) -> list[bytes]:
    """Word 3-grams of a text, lower-cased, as bytes (the units MinHash hashes)."""
    words = WORD_RE.findall(text.lower())  # not kb.fold: it caches every string it sees
    if len(words) < SHINGLE:
        return [" ".join(words).encode()] if words else []
    n = min(len(words) - SHINGLE + 1, MAX_SHINGLES)
    return [" ".join(words[i : i + SHINGLE]).encode() for i in range(n)]


@cache
def _permutations() -> tuple:
    """The seed's permutations, drawn once (MinHash draws them anew for every instance otherwise)."""
    from datasketch import MinHash  # here, not at import: datasketch imports scipy (seconds on a busy machine)

    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def minhash(text: str) -> bytes:
    """The text's MinHash (NUM_PERM 32-bit values) as bytes, for the warehouse."""
    from datasketch import MinHash

    m = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=zlib.crc32, permutations=_permutations(), scheme=SCHEME)
    sh = shingles(text)
    if sh:
        m.update_batch(sh)
    return m.hashvalues.astype("<u4").tobytes()


def jaccard(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two texts from their MinHashes."""
    if not a or not b:
        return 0.0
    return float(np.count_nonzero(np.frombuffer(a, "<u4") == np.frombuffer(b, "<u4"))) / NUM_PERM


def band_keys(mh: bytes) -> list[str]:
    """LSH band keys: two texts above ~0.5 Jaccard almost always share one."""
    if not mh:
        return []
    return [f"b{i}:{hashlib.blake2b(mh[i * ROWS * 4 : (i + 1) * ROWS * 4], digest_size=8).hexdigest()}"
            for i in range(BANDS)]


def scores_in(text: str) -> set[str]:
    """Scores stated in a text ('4-1', '1 – 4'), as 'high-low' so both sides' reports agree."""
    out = set()
    for m in SCORE_RE.finditer(text):
        a, b = int(m.group(1)), int(m.group(2))
        out.add(f"{max(a, b)}-{min(a, b)}")
    return out


def _surname(name: str) -> str:
    parts = fold(name).split()
    return parts[-1] if parts else ""


def _find(text: str, names: Iterable[str]) -> int:
    """Earliest position where any of the names occurs in text as whole words, or -1."""
    best = -1
    for name in names:
        if len(name) < 3:
            continue
        m = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text)
        if m and (best < 0 or m.start() < best):
            best = m.start()
    return best


def _names(m: Mention) -> list[str]:
    """The ways a headline may name a mentioned entity: as written, canonical, aliases, and the short
    forms headlines use (a person's surname; a club's distinctive word: 'Forest', 'Villa', 'Palace')."""
    names = [m.surface, m.canonical_name, *m.aliases]
    parts = m.canonical_name.split()
    if m.label in PERSON_LABELS and len(parts) > 1:
        names.append(parts[-1])
    elif m.label == "TEAM":
        names += [w for w in parts if len(w) >= 4 and w.lower().strip(".") not in CLUB_WORDS]
    return names


def written_names(text: str, surnames: frozenset[str] = frozenset()) -> list[tuple[int, str]]:
    """Person names as feed items write them, whether or not the tagger linked them: capitalised words
    in a row ("Aitana Bonmatí has been voted...", "Ousmane Dembélé quietly becomes..."), split at words
    that open a headline or name a thing, of which two or more make a name the knowledge base knows as
    a person's (and as nothing else), or a name it does not know whose last word is one of `surnames`
    (the folded words of the headline: "Miyazawa signs..." over "Hinata Miyazawa signs a new deal").
    (position, name) pairs, in order."""
    from tasks.kb import default_kb  # loaded once per process (the load reads it for coaching spells too)

    kb = default_kb()
    out: list[tuple[int, str]] = []
    run: list[tuple[int, str]] = []

    def flush() -> None:
        while run and run[-1][1].lower() in NAME_PARTICLES:
            run.pop()
        # the longest part of the run the knowledge base knows as a person ("Enticing Salah" -> none,
        # "Ousmane Dembélé quietly" -> "Ousmane Dembélé"); programme and series names are no one
        for size in range(min(len(run), 4), 1, -1):
            found = False
            for i in range(len(run) - size + 1):
                part = run[i : i + size]
                if not (part[0][1][:1].isupper() and part[-1][1][:1].isupper()):
                    continue
                name = " ".join(w for _, w in part)
                known = kb.candidates(name)
                if known and all(e.label in PERSON_LABELS for e in known):
                    out.append((part[0][0], name))
                    found = True
                    break
            if found:
                break
        else:  # a name the knowledge base does not know: only when the headline names that surname
            capitals = [w for _, w in run if w[:1].isupper()]
            name = " ".join(w for _, w in run)
            if (2 <= len(capitals) <= 3 and fold(capitals[-1]) in surnames and fold(name) not in kb.places
                    and not kb.candidates(name)):
                out.append((run[0][0], name))
        run.clear()

    last_end = 0
    for m in NAME_WORD_RE.finditer(text):
        raw = m.group().rstrip("-'’")
        possessive = raw.endswith(("'s", "’s"))
        word = raw[:-2] if possessive else raw
        joined = bool(run) and text[last_end : m.start()] == " "
        if len(word) > 1 and word[0].isupper() and not word.isupper() and word.lower() not in NOT_NAME_WORDS:
            if not joined:
                flush()
            run.append((m.start(), word))
        elif joined and word in NAME_PARTICLES:
            run.append((m.start(), word))
        else:
            flush()
        last_end = m.end()
        if possessive:  # "Semenyo's last game": the name ends there
            flush()
    flush()
    return out


def same_person(a: str | None, b: str | None) -> bool:
    """Two names of one person: the same surname, and the same first name when both give one."""
    if not a or not b:
        return False
    pa, pb = fold(a).split(), fold(b).split()
    if not pa or not pb or pa[-1] != pb[-1]:
        return False
    return len(pa) == 1 or len(pb) == 1 or pa[0] == pb[0]


def make_signature(
    article_id: str,
    feed_id: str,
    published_at: datetime,
    title: str,
    body: str,
    mentions: Sequence[Mention],
    match_keys: Sequence[str] = (),
) -> StorySignature:
    """What stories are decided on, from an article's title, body and linked mentions."""
    title = " ".join((title or "").split())
    lead = body[:LEAD_CHARS]
    speaker = None
    subject_title = title[: bm.start()] if (bm := BYLINE_RE.search(title)) else title
    if sm := SPEAKER_RE.search(subject_title):
        speaker = sm.group(1).strip()
        subject_title = subject_title[: sm.start()]
    folded_title = fold(subject_title)
    teams: dict[str, None] = {}
    title_teams: dict[str, None] = {}
    title_people: list[tuple[int, str]] = []
    lead_people: list[tuple[int, str]] = []
    things: list[tuple[int, int]] = []  # where the lead names a team, competition or venue
    seen: set[str] = set()
    for m in sorted(mentions, key=lambda m: m.start_char):
        in_lead = m.start_char < LEAD_CHARS
        if in_lead and m.label in THING_LABELS:
            things.append((m.start_char, m.end_char))
        if m.entity_id in seen:
            continue
        pos = (_find(folded_title, [fold(n) for n in _names(m)])
               if m.label == "TEAM" or m.label in PERSON_LABELS else -1)  # "Dembele" names "Dembélé"
        if pos < 0 and not in_lead:
            continue
        seen.add(m.entity_id)
        if m.label == "TEAM":
            teams[m.entity_id] = None
            if pos >= 0:
                title_teams[m.entity_id] = None
        elif m.label in PERSON_LABELS and not (speaker and same_person(speaker, m.canonical_name)):
            if pos >= 0:
                title_people.append((pos, m.canonical_name))
            elif in_lead:
                lead_people.append((m.start_char, m.canonical_name))
    # names the tagger did not link still say who an item is about ("Aitana Bonmatí has been voted...")
    for _, name in written_names(subject_title):
        if not (speaker and same_person(speaker, name)) and not any(same_person(name, n) for _, n in title_people):
            title_people.append((_find(folded_title, [fold(name)]), name))
    if not title_people:  # "Miyazawa signs long-term deal" over "Hinata Miyazawa signs...": the headline's person
        title_words = frozenset(w.removesuffix("'s") for w in folded_title.split())  # "Semenyo's last game"
        for _, name in written_names(lead, title_words):
            if fold(name).split()[-1] in title_words and not (speaker and same_person(speaker, name)):
                title_people.append((_find(folded_title, [fold(name).split()[-1]]), name))
                break
    if not title_people:
        for pos, name in written_names(lead):
            if (not (speaker and same_person(speaker, name)) and not any(a <= pos < b for a, b in things)
                    and not any(same_person(name, n) for _, n in lead_people)):
                lead_people.append((pos, name))
    # "'This year has been crazy' - Caballero" is what someone said: whom its lead names is not its subject
    people = sorted(title_people) or ([] if speaker else sorted(lead_people))
    words = title.split()
    # "Match of the Day", "Football Daily": a short Title Case name that names no one is a programme's
    # round-up, not a headline ("Maresca rues missed chances" is a headline)
    generic = (not title_teams and not title_people and not speaker and len(words) <= 4
               and all(w[0].isupper() for w in words if len(w) > 3))
    return StorySignature(
        article_id=article_id,
        feed_id=feed_id,
        published_at=published_at,
        title=title,
        minhash=minhash(f"{title}\n{body}"),
        teams=tuple(teams),
        title_teams=tuple(title_teams),
        subject=people[0][1] if people else None,
        subject_in_title=bool(title_people),
        scores=tuple(sorted(scores_in(f"{title} {lead}"))),
        match_keys=tuple(match_keys),
        generic=generic,
        preview=bool(PREVIEW_RE.search(title)),
    )


def signature_of(tagged: TaggedArticle) -> StorySignature:
    """An ingested article's signature (the match-facts stage's matches, when it ran, as match keys)."""
    a = tagged.article
    return make_signature(a.article_id, a.feed_id, a.published_at or a.fetched_at, a.title or "", a.body,
                          tagged.mentions, match_keys(tagged))


def match_keys(tagged: TaggedArticle) -> list[str]:
    """Keys of the matches an article reports, from the match-facts stage when it ran (else none).

    Read by name so this stage works with or without that stage: a match is keyed by its date and
    its two teams, so two outlets' reports of it meet whatever their wording.
    """
    keys = []
    for fact in getattr(tagged, "matches", ()) or ():
        if not getattr(fact, "reported", False):
            continue
        home, away = getattr(fact, "home_entity_id", None), getattr(fact, "away_entity_id", None)
        if home and away:
            when = getattr(fact, "match_date", None)
            keys.append(f"{when.isoformat() if when else ''}|{'|'.join(sorted((home, away)))}")
    return keys


def index_keys(sig: StorySignature) -> list[str]:
    """Keys under which a signature is found again (LSH bands, teams, subject, matches)."""
    keys = band_keys(sig.minhash)
    keys += [f"t:{t}" for t in sig.teams]
    if sig.subject:
        keys.append(f"p:{_surname(sig.subject)}")
    keys += [f"m:{k}" for k in sig.match_keys]
    return keys


def weighted_keys(sig: StorySignature) -> list[tuple[str, int]]:
    """index_keys with how much each says: an earlier article is worth reading when it shares keys
    worth LINK_WEIGHT with one new article. One team in common links nothing (two teams, a person,
    a text band or a match can), except for a programme's item, which joins a result by one team."""
    return [(k, 1 if k.startswith("t:") and not sig.generic else LINK_WEIGHT) for k in index_keys(sig)]


def _lookup_keys(sig: StorySignature) -> list:
    """index_keys for the in-memory index: the LSH bands as raw slices of the MinHash (the same
    buckets without hashing each band of thousands of candidates again), the other keys as stored."""
    mh = sig.minhash
    keys: list = [(i, mh[i * ROWS * 4 : (i + 1) * ROWS * 4]) for i in range(BANDS)] if mh else []
    keys += [f"t:{t}" for t in sig.teams]
    if sig.subject:
        keys.append(f"p:{_surname(sig.subject)}")
    keys += [f"m:{k}" for k in sig.match_keys]
    return keys


# -- linking ----------------------------------------------------------------------------------------
def link(a: StorySignature, b: StorySignature, params: StoryParams) -> tuple[float, str, float] | None:
    """How strongly two articles tell the same story: (rank, reason, similarity), or None."""
    if abs((a.published_at - b.published_at).total_seconds()) > params.window_hours * 3600:
        return None
    sim = jaccard(a.minhash, b.minhash)
    if sim >= params.near_duplicate:
        return (4.0 + sim, "near_duplicate", sim)
    hours = abs((a.published_at - b.published_at).total_seconds()) / 3600
    if a.generic or b.generic:
        # a programme's item on one team ("Football Daily: Arsenal increase their lead at the top")
        # the same evening as a report of that team's result is that match's story; a round-up of
        # several games ("Highlights of six Premier League games, including...") names more teams
        show, other = (a, b) if a.generic else (b, a)
        if (not other.generic and len(show.teams) == 1 and show.teams[0] in other.teams and other.scores
                and not other.preview and hours <= PROGRAMME_HOURS):
            return (0.5, "same_match", sim)
        return None
    if a.match_keys and b.match_keys:
        if set(a.match_keys) & set(b.match_keys):
            return (3.0, "same_match", sim)
        return None  # each reports a match, not the same one
    if a.scores and b.scores and not set(a.scores) & set(b.scores):
        return None  # each states a result, not the same one: two matches, even of one team or player
    shared_teams = set(a.teams) & set(b.teams)
    # a person both headlines are about is one story over days (an obituary and its tributes);
    # named only in one lead, the same person is often other news soon after
    both_titles = a.subject_in_title and b.subject_in_title
    if same_person(a.subject, b.subject) and hours <= params.window_hours * (
            TITLE_PERSON_SHARE if both_titles else LEAD_PERSON_SHARE):
        return (2.0 + 0.1 * len(shared_teams), "same_person", sim)
    if len(shared_teams) >= 2 and a.preview == b.preview:
        same_score = bool(set(a.scores) & set(b.scores))
        if not same_score and max(len(a.teams), len(b.teams)) > ROUND_UP_TEAMS:
            return None  # a round-up of many clubs ("what every Premier League club needs") is no match's story
        # both teams in a headline make a match only when a result is stated: two nations or
        # clubs are named together in squad and injury news all week before they meet
        in_title = any(shared_teams <= set(s.title_teams) for s in (a, b)) and bool(a.scores or b.scores)
        if same_score or in_title:
            return (1.0 + 0.2 * same_score + 0.1 * in_title + 0.01 * len(shared_teams), "same_match", sim)
    return None


def new_story_id(article_id: str) -> str:
    """A story's id: derived from its first article, so a replayed load gives the same id."""
    return "s" + hashlib.sha1(article_id.encode()).hexdigest()[:15]


def assign_stories(
    new: Sequence[StorySignature], known: Sequence[StorySignature], params: StoryParams
) -> list[Assignment]:
    """Give each new signature a story: the story of its strongest link among the known ones and
    the new ones before it (publication order), or a story of its own.

    A signature that already carries a story id (an updated article) keeps it.
    """
    index: dict[object, list[StorySignature]] = defaultdict(list)
    story_of: dict[str, str] = {}
    for s in known:
        if s.story_id:
            story_of[s.article_id] = s.story_id
            for k in _lookup_keys(s):
                index[k].append(s)
    out: list[Assignment] = []
    for sig in sorted(new, key=lambda s: (s.published_at, s.article_id)):
        if sig.story_id:
            chosen = Assignment(sig.article_id, sig.story_id, "kept")
        else:
            best: tuple[float, float, StorySignature, str, float] | None = None
            candidates = {c.article_id: c for k in _lookup_keys(sig) for c in index.get(k, ())}
            for c in candidates.values():
                if c.article_id == sig.article_id:
                    continue
                got = link(sig, c, params)
                if got is None:
                    continue
                rank, reason, sim = got
                closeness = -abs((sig.published_at - c.published_at).total_seconds())
                if best is None or (rank, closeness) > best[:2]:
                    best = (rank, closeness, c, reason, sim)
            if best is None:
                chosen = Assignment(sig.article_id, new_story_id(sig.article_id), "new")
            else:
                _, _, c, reason, sim = best
                chosen = Assignment(sig.article_id, story_of[c.article_id], reason, c.article_id, round(sim, 3))
        out.append(chosen)
        story_of[sig.article_id] = chosen.story_id
        stored = replace(sig, story_id=chosen.story_id)
        for k in _lookup_keys(stored):
            index[k].append(stored)
    return out


def window(new: Sequence[StorySignature], params: StoryParams) -> tuple[datetime, datetime]:
    """The publication times earlier signatures must fall in to matter for these new ones."""
    pad = timedelta(hours=params.window_hours)
    return min(s.published_at for s in new) - pad, max(s.published_at for s in new) + pad


def parse_published(value: str | None) -> datetime | None:
    """A feed item's date (RFC 822 as feeds write it, or ISO 8601), timezone-aware; None if unreadable."""
    from email.utils import parsedate_to_datetime

    from tasks.declared import parse_when

    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        when = parse_when(value)
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when


def cluster_items(items: Sequence[dict], tagger: SportsTagger, params: StoryParams) -> list[Assignment]:
    """`pressbox stories`: {"id","title","text" or "summary","published"} items -> one story each.

    Each item is tagged and enriched as the flow does an article (title for context, then the text; match
    facts give match keys), signed and assigned with the same functions the load runs.
    """
    from tasks.enrich import enrich_articles

    now = datetime.now(UTC)
    articles = []
    for d in items:
        body = d.get("text") or d.get("summary") or ""
        articles.append(Article(
            article_id=str(d["id"]), url="", canonical_url="", feed_id=str(d.get("feed") or ""), entry_key="",
            title=d.get("title"), body=body, summary=d.get("summary"), author=None,
            published_at=parse_published(d.get("published")) or now, fetched_at=now, language=None,
            site_name=None, image_url=None, content_hash="", extraction_method="input", word_count=len(body.split()),
        ))
    sigs = [signature_of(t) for t in enrich_articles(tagger, articles)]
    return assign_stories(sigs, [], params)


def story_params(settings: Settings) -> StoryParams:
    """Story parameters from the settings."""
    return StoryParams(window_hours=settings.story_window_hours)
