"""Feeds: the feeds file, and feed bytes -> FeedEntry records (feedparser never sees a URL)."""

from __future__ import annotations

import calendar
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import courlan
import feedparser

from schemas.records import FeedConfig, FeedEntry

# feedparser sanitises summaries; we keep text only, bounded.
MAX_SUMMARY_CHARS = 5000


class FeedsFileError(ValueError):
    """The feeds file is missing, not TOML, or lists an invalid feed."""


def load_feeds_file(path: Path) -> list[FeedConfig]:
    """Read `[[feeds]]` (id, url, name; optional sport, league, language) from a TOML file."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FeedsFileError(f"feeds file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise FeedsFileError(f"{path}: not valid TOML: {exc}") from exc
    feeds: list[FeedConfig] = []
    seen: set[str] = set()
    for i, item in enumerate(data.get("feeds", []), 1):
        missing = [k for k in ("id", "url", "name") if not item.get(k)]
        if missing:
            raise FeedsFileError(f"{path}: feed #{i} lacks {', '.join(missing)}")
        if item["id"] in seen:
            raise FeedsFileError(f"{path}: feed id {item['id']!r} is listed twice")
        if urlsplit(item["url"]).scheme not in ("http", "https"):
            raise FeedsFileError(f"{path}: feed {item['id']!r} url is not http(s)")
        seen.add(item["id"])
        feeds.append(
            FeedConfig(
                feed_id=str(item["id"]),
                url=str(item["url"]),
                name=str(item["name"]),
                sport=item.get("sport"),
                league=item.get("league"),
                language=item.get("language"),
            )
        )
    if not feeds:
        raise FeedsFileError(f"{path}: no [[feeds]] listed")
    return feeds


def canonicalize_url(url: str) -> str:
    """Normalise a URL for identity: lower-case host, no default port, no tracking params, no fragment."""
    url = urldefrag(url.strip()).url
    try:
        return courlan.normalize_url(url)
    except (ValueError, AttributeError):  # courlan rejects some odd URLs; keep the defragmented one
        return url


def _when(entry: dict, key: str) -> datetime | None:
    # dict.get: FeedParserDict.get("updated_parsed") silently answers with the published date
    parsed = dict.get(entry, f"{key}_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _text(value: object, limit: int) -> str | None:
    if not value:
        return None
    text = " ".join(str(value).split())
    return text[:limit] or None


def html_to_text(fragment: str | None) -> str | None:
    """Plain text of a feed's HTML summary."""
    if not fragment:
        return None
    import lxml.html

    try:
        text = lxml.html.fromstring(f"<div>{fragment}</div>").text_content()
    except (ValueError, lxml.etree.ParserError):
        text = fragment
    return _text(text, MAX_SUMMARY_CHARS)


def parse_feed(
    content: bytes,
    *,
    feed: FeedConfig,
    base_url: str,
    content_type: str | None = None,
    max_entries: int = 500,
) -> tuple[list[FeedEntry], int, str | None]:
    """Parse feed bytes into entries.

    Returns (entries, items_seen, bozo_message). Entries without a usable http(s) link are
    dropped; relative links are resolved against the feed's URL; duplicates (same key) are
    kept once. Raises ValueError when the bytes are not a feed at all.
    """
    headers = {"content-location": base_url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(content, response_headers=headers, sanitize_html=True, resolve_relative_uris=True)
    return _entries(parsed, feed, base_url, max_entries)


def _entries(
    parsed: feedparser.FeedParserDict, feed: FeedConfig, base_url: str, max_entries: int
) -> tuple[list[FeedEntry], int, str | None]:
    """Entries of a parsed feed (see parse_feed)."""
    exc = parsed.get("bozo_exception")
    # A missing or text/html Content-Type is no fault of the XML; only report real parse trouble.
    bozo = None if not parsed.bozo or isinstance(exc, feedparser.NonXMLContentType) else f"{type(exc).__name__}: {exc}"
    raw_entries = parsed.entries or []
    if not raw_entries and not parsed.get("version"):
        raise ValueError(bozo or "not a feed (no RSS/Atom/RDF root element)")
    entries: list[FeedEntry] = []
    keys: set[str] = set()
    for raw in raw_entries:
        link = raw.get("link") or next(
            (lk.get("href") for lk in raw.get("links", []) if lk.get("href")), None
        )
        if not link:
            continue
        url = urljoin(base_url, link.strip())
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        key = _text(raw.get("id"), 1000) or url
        if key in keys:
            continue
        keys.add(key)
        entries.append(
            FeedEntry(
                feed_id=feed.feed_id,
                entry_key=key,
                url=url,
                canonical_url=canonicalize_url(url),
                title=_text(raw.get("title"), 1000),
                summary=html_to_text(raw.get("summary")),
                author=_text(raw.get("author"), 300),
                published_at=_when(raw, "published") or _when(raw, "updated"),
                updated_at=_when(raw, "updated"),
                language=feed.language or _text(parsed.get("feed", {}).get("language"), 20),
            )
        )
    entries.sort(key=lambda e: e.published_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return entries[:max_entries], len(raw_entries), bozo
