"""Feeds: the feeds file, and feed bytes -> FeedEntry records (feedparser never sees a URL)."""

from __future__ import annotations

import calendar
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import courlan
import feedparser

from schemas.records import FeedConfig, FeedEntry

# feedparser sanitises summaries; we keep text only, bounded.
MAX_SUMMARY_CHARS = 5000
MAX_ENTITY_EXPANSION = 1_000_000  # bytes the DTD's own entities may add to a feed when expanded
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_ENTITY_DECL = re.compile(rb"""<!ENTITY\s+(%\s*)?([\w.:-]+)\s+(?:"([^"]*)"|'([^']*)')?[^>]*>""")
_UNSAFE = re.compile(r"[\ud800-\udfff\x00\uffff]")
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")
BAD_CHAR_REF = b"&#xFFFF;"  # a noncharacter every parser decodes; _text drops the field holding it


def _bad_char_ref(match: re.Match[bytes]) -> bytes:
    code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
    return BAD_CHAR_REF if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else match.group()


class FeedsFileError(ValueError):
    """The feeds file is missing, not TOML, or lists an invalid feed."""


FEED_KEYS = {"id": True, "url": True, "name": True, "sport": False, "league": False, "language": False}  # key: required


def load_feeds_file(path: Path) -> list[FeedConfig]:
    """Read `[[feeds]]` (id, url, name; optional sport, league, language) from a TOML file.

    Every mistake is one FeedsFileError line naming the file, the feed and the key: a missing,
    unknown or non-string key, a URL that is not http(s) or has no host, a duplicate id.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FeedsFileError(f"feeds file not found: {path}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FeedsFileError(f"{path}: not valid TOML: {exc}") from exc
    if unknown := sorted(set(data) - {"feeds"}):
        raise FeedsFileError(f"{path}: unknown top-level key(s) {', '.join(unknown)} (only [[feeds]] tables)")
    items = data.get("feeds", [])
    if not isinstance(items, list):
        raise FeedsFileError(f"{path}: feeds must be [[feeds]] tables, got {type(items).__name__}")
    feeds: list[FeedConfig] = []
    seen: set[str] = set()
    for i, item in enumerate(items, 1):
        feed = _feed_config(path, i, item)
        if feed.feed_id in seen:
            raise FeedsFileError(f"{path}: feed id {feed.feed_id!r} is listed twice")
        seen.add(feed.feed_id)
        feeds.append(feed)
    if not feeds:
        raise FeedsFileError(f"{path}: no [[feeds]] listed")
    return feeds


def _feed_config(path: Path, i: int, item: object) -> FeedConfig:
    """One validated [[feeds]] table."""
    if not isinstance(item, dict):
        raise FeedsFileError(f"{path}: feed #{i} must be a table, got {type(item).__name__}")
    where = f"{path}: feed #{i}" + (f" ({item['id']!r})" if isinstance(item.get("id"), str) else "")
    if unknown := sorted(set(item) - set(FEED_KEYS)):
        raise FeedsFileError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(FEED_KEYS)})")
    for key, value in item.items():
        if not isinstance(value, str):
            raise FeedsFileError(f"{where}: {key} must be a string, got {type(value).__name__} {value!r}")
    if missing := [k for k, required in FEED_KEYS.items() if required and not item.get(k, "").strip()]:
        raise FeedsFileError(f"{where} lacks {', '.join(missing)}")
    try:
        parts = urlsplit(item["url"].strip())
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise FeedsFileError(f"{where}: url is not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise FeedsFileError(f"{where}: url is not http(s): {item['url']!r}")
    if not parts.hostname:
        raise FeedsFileError(f"{where}: url has no host: {item['url']!r}")
    return FeedConfig(feed_id=item["id"].strip(), url=item["url"].strip(), name=item["name"],
                      sport=item.get("sport"), league=item.get("league"), language=item.get("language"))


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
    """Whitespace-normalised text; a value with a character no store can hold (a lone surrogate from
    `&#xD800;`, a NUL) is lost, not the item or the feed."""
    if not value:
        return None
    text = " ".join(str(value).split())
    if _UNSAFE.search(text):
        return None
    return text[:limit] or None


def bound_entities(content: bytes) -> bytes:
    """Remove the feed's own entity declarations when expanding them would exceed
    MAX_ENTITY_EXPANSION (or when they nest): no parser, strict or lenient, then expands them.

    feedparser's lenient parser expands "safe" plain entities without any cap, so one 1 MiB entity
    referenced 600 times costs gigabytes; this estimate (value length x references) is exact for
    plain entities, and nested ones are refused outright.
    """
    first = _FIRST_ELEMENT.search(content)
    cut = first.start() if first else len(content)
    head, body = content[:cut], content[cut:]
    if b"<!ENTITY" not in head:
        return content
    total = 0
    for param, name, dq, sq in _ENTITY_DECL.findall(head):
        value = dq or sq
        if param or b"&" in value or b"%" in value:
            total = MAX_ENTITY_EXPANSION + 1
            break
        total += len(value) * body.count(b"&" + name + b";")
    if total <= MAX_ENTITY_EXPANSION:
        return content
    return _ENTITY_DECL.sub(b"", head) + body


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
    # a reference to a character that cannot exist (&#xD800;) crashes feedparser's lenient parser
    content = _CHAR_REF.sub(_bad_char_ref, bound_entities(content))
    parsed = feedparser.parse(content, response_headers=headers, sanitize_html=True,
                              resolve_relative_uris=True)
    return _entries(parsed, feed, base_url, max_entries)


def _entry(raw: dict, parsed: feedparser.FeedParserDict, feed: FeedConfig, base_url: str) -> FeedEntry | None:
    """One item as a FeedEntry, or None when it has no usable http(s) link."""
    link = _text(raw.get("link"), 10_000) or next(
        (h for lk in raw.get("links", []) if (h := _text(lk.get("href"), 10_000))), None
    )
    if not link:
        return None
    try:
        url = urljoin(base_url, link)
    except ValueError:  # an unparseable link (bad IPv6 literal, ...) loses its item only
        return None
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    return FeedEntry(
        feed_id=feed.feed_id,
        entry_key=_text(raw.get("id"), 1000) or url,
        url=url,
        canonical_url=canonicalize_url(url),
        title=_text(raw.get("title"), 1000),
        summary=html_to_text(raw.get("summary")),
        author=_text(raw.get("author"), 300),
        published_at=_when(raw, "published") or _when(raw, "updated"),
        updated_at=_when(raw, "updated"),
        language=feed.language or _text(parsed.get("feed", {}).get("language"), 20),
    )


def _entries(
    parsed: feedparser.FeedParserDict, feed: FeedConfig, base_url: str, max_entries: int
) -> tuple[list[FeedEntry], int, str | None]:
    """Entries of a parsed feed (see parse_feed)."""
    exc = parsed.get("bozo_exception")
    # A missing or text/html Content-Type is no fault of the XML; only report real parse trouble.
    bozo = (None if not parsed.bozo or isinstance(exc, feedparser.NonXMLContentType)
            else _UNSAFE.sub("?", f"{type(exc).__name__}: {exc}"))
    raw_entries = parsed.entries or []
    if not raw_entries and not parsed.get("version"):
        raise ValueError(bozo or "not a feed (no RSS/Atom/RDF root element)")
    entries: list[FeedEntry] = []
    keys: set[str] = set()
    for raw in raw_entries:
        entry = _entry(raw, parsed, feed, base_url)
        if entry is None or entry.entry_key in keys:
            continue
        keys.add(entry.entry_key)
        entries.append(entry)
    entries.sort(key=lambda e: e.published_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return entries[:max_entries], len(raw_entries), bozo
