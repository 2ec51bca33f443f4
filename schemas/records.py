"""Frozen records passed between stages; each carries where it came from and what made it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class FeedConfig:
    """One `[[feeds]]` entry of the feeds file."""

    feed_id: str
    url: str
    name: str
    sport: str | None = None
    league: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class FeedState:
    """What the warehouse remembers of a feed between runs (for conditional GET)."""

    feed_id: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchError:
    """One failure, as stored in `fetch_errors`: per-item failures are data."""

    url: str
    stage: str  # feed | robots | page | extract | tag | load
    error_type: str
    message: str
    http_status: int | None = None
    at: datetime | None = None
    retryable: bool = False
    fatal: bool = True  # False: a note on a page that loaded after a repair (text_repaired, body_truncated, ...)


@dataclass(frozen=True)
class Response:
    """A fetched HTTP response, bounded in size and time."""

    requested_url: str
    final_url: str
    status: int
    content: bytes
    content_type: str
    headers: dict[str, str]
    fetched_at: datetime
    elapsed: float
    redirects: int = 0
    notes: tuple[FetchError, ...] = ()  # non-fatal: what the fetch left out (a redirect's unread body)


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed, after parsing (no page fetched yet)."""

    feed_id: str
    entry_key: str  # the entry's guid, or its link when it has none
    url: str  # absolute link from the feed
    canonical_url: str  # url with tracking parameters and fragment removed
    title: str | None = None
    summary: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    language: str | None = None


@dataclass(frozen=True)
class FeedResult:
    """What fetching and parsing one feed produced."""

    feed_id: str
    url: str
    status: str  # ok | not_modified | error
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    items_seen: int = 0
    entries: tuple[FeedEntry, ...] = ()
    bozo: str | None = None  # feedparser's complaint about a feed it could still read
    error: FetchError | None = None


@dataclass(frozen=True)
class Page:
    """An article page fetched for an entry (or the error that stopped it)."""

    entry: FeedEntry
    response: Response | None
    error: FetchError | None = None


@dataclass(frozen=True)
class Article:
    """An extracted article, keyed by its canonical URL."""

    article_id: str
    url: str
    canonical_url: str
    feed_id: str
    entry_key: str
    title: str | None
    body: str
    summary: str | None
    author: str | None
    published_at: datetime | None
    fetched_at: datetime
    language: str | None
    site_name: str | None
    image_url: str | None
    content_hash: str
    extraction_method: str  # which candidate won and why: trafilatura+pruned(...) | jsonld(...) | feed_summary | ...
    word_count: int
    date_source: str | None = None  # feed | declared | htmldate
    http_status: int | None = None
    paywalled: bool = False  # declared isAccessibleForFree: false, or the page gave only a stub
    is_liveblog: bool = False
    notes: tuple[FetchError, ...] = ()  # non-fatal fetch_errors rows: what was repaired or cut to load it


LOCAL_PREFIX = "local/"  # ids of names that mean something inside one article only


def local_id(doc_key: str, name_slug: str) -> str:
    """The id of a name resolved only within one article (a lone surname nobody else explains).

    `local/<article key>/<slug>`: every "Jones" of the warehouse is not one person, so such a
    mention gets no `entities` row (tasks/load.py skips these ids) and never merges across articles.
    """
    return f"{LOCAL_PREFIX}{doc_key}/{name_slug}"


def is_local_id(entity_id: str) -> bool:
    """Is this an article-local id (see `local_id`)?"""
    return entity_id.startswith(LOCAL_PREFIX)


@dataclass(frozen=True)
class Mention:
    """One tagged span of an article, linked to one entity."""

    entity_id: str
    canonical_name: str
    surface: str
    label: str
    start_char: int
    end_char: int
    wikidata_id: str | None = None
    aliases: tuple[str, ...] = field(default=())
    # from the knowledge base entity (None for a name it does not know)
    source: str | None = None
    sport: str | None = None
    league: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Quote:
    """One direct quote of an article, with who said it (tasks/quotes.py); offsets into the body."""

    quote_no: int
    text: str
    start_char: int
    end_char: int
    speaker_name: str | None = None
    speaker_entity_id: str | None = None
    speaker_kind: str = "unknown"  # person | organisation | unknown
    role: str | None = None  # manager | coach | player | chairman | executive | official | referee | pundit | other
    team_entity_id: str | None = None
    team_name: str | None = None
    cue: str | None = None  # the attributing verb or phrase as written: said, told, according to


@dataclass(frozen=True)
class MatchScorer:
    """One score of a match as the text names it: a goal, or a rugby try, conversion, penalty or drop goal."""

    player: str
    team: str | None
    team_entity_id: str | None
    minute: int | None
    kind: str  # goal | penalty | own goal | try | conversion | penalty goal | drop goal
    player_entity_id: str | None = None


@dataclass(frozen=True)
class MatchFact:
    """A match whose final score an article states; reported when the article is about its result."""

    home: str
    away: str
    home_entity_id: str | None
    away_entity_id: str | None
    home_score: int
    away_score: int
    reported: bool
    neutral: bool = False  # the text gives no home side: the team named first is put as home
    competition: str | None = None
    competition_entity_id: str | None = None
    extra_time: bool = False
    penalties: str | None = None  # shoot-out score, "4-3"
    match_date: date | None = None
    date_certain: bool = False
    sport: str | None = None
    start_char: int = 0  # where the score is stated, in title + "\n\n" + body
    scorers: tuple[MatchScorer, ...] = ()


@dataclass(frozen=True)
class TaggedArticle:
    """An article with its mentions and the version of the tagger that made them."""

    article: Article
    mentions: tuple[Mention, ...]
    tagger_version: str
    quotes: tuple[Quote, ...] = ()
    is_match_report: bool = False
    matches: tuple[MatchFact, ...] = ()


@dataclass(frozen=True)
class StorySignature:
    """What story assignment reads of an article (tasks/stories.py); stored in `story_signatures`."""

    article_id: str
    feed_id: str
    published_at: datetime
    title: str
    minhash: bytes  # MinHash of the title and body's word shingles (NUM_PERM little-endian uint32)
    teams: tuple[str, ...] = ()  # TEAM entity ids named in the headline or the lead
    title_teams: tuple[str, ...] = ()  # those named in the headline
    subject: str | None = None  # the main person: first named in the headline (not its speaker), else the lead
    subject_in_title: bool = False
    scores: tuple[str, ...] = ()  # scores stated in the headline or lead, "4-1"
    match_keys: tuple[str, ...] = ()  # matches reported, from the match-facts stage when present
    generic: bool = False  # a programme's title that names nothing ("Match of the Day")
    preview: bool = False  # a preview headline ("... preview", "team news")
    story_id: str | None = None
