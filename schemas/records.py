"""Frozen records passed between stages; each carries where it came from and what made it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
class TaggedArticle:
    """An article with its mentions and the version of the tagger that made them."""

    article: Article
    mentions: tuple[Mention, ...]
    tagger_version: str
