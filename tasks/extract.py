"""Extract: page HTML -> Article (the one trafilatura adapter)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import trafilatura
from trafilatura.settings import use_config
from trafilatura.utils import load_html

from schemas.records import Article, FeedEntry, FetchError, Response
from tasks.feeds import canonicalize_url

MIN_BODY_WORDS = 20  # fewer words than this is a stub (cookie wall, JS shell, paywall teaser)
MAX_TREE_SIZE = 50_000  # elements; real article pages have a few thousand. Bigger DOMs are refused
# rather than parsed for minutes (trafilatura's own MAX_TREE_SIZE does not stop every path).
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_SIZE))
_CONFIG.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")  # its SIGALRM timer only works in the main thread
DATE_PARAMS = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}


@dataclass(frozen=True)
class Extracted:
    """What a page yields on its own, before the feed entry fills the gaps."""

    title: str | None
    body: str
    author: str | None
    published_at: datetime | None
    language: str | None
    site_name: str | None
    image_url: str | None
    canonical_url: str | None
    description: str | None
    refused: str | None = None  # why the page was not extracted at all


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            when = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


def plausible_date(when: datetime | None, fetched_at: datetime) -> datetime | None:
    """Keep a publication date only if it is not in the future nor absurdly old."""
    if when is None:
        return None
    if when > fetched_at + timedelta(days=1) or when.year < 1990:
        return None
    return when


def extract_html(html: bytes | str, url: str | None = None) -> Extracted:
    """Run trafilatura on one page: main text plus metadata (no network)."""
    tree = load_html(html)
    if tree is None:
        return Extracted(None, "", None, None, None, None, None, None, None)
    lang = (tree.get("lang") or "").split("-")[0].strip().lower() or None
    size = sum(1 for _ in tree.iter())
    if size > MAX_TREE_SIZE:
        return Extracted(None, "", None, None, lang, None, None, None, None,
                         refused=f"dom_too_large: {size} elements (limit {MAX_TREE_SIZE})")
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        date_extraction_params=DATE_PARAMS,
        config=_CONFIG,
    )
    if doc is None:
        return Extracted(None, "", None, None, lang, None, None, None, None)
    return Extracted(
        title=doc.title or None,
        body=_drop_title_line((doc.text or "").strip(), doc.title),
        author=doc.author or None,
        published_at=_parse_date(doc.date),
        language=doc.language or lang,
        site_name=doc.sitename or None,
        image_url=doc.image or None,
        canonical_url=doc.url or None,
        description=doc.description or None,
    )


def _drop_title_line(body: str, title: str | None) -> str:
    """Remove the headline when the extracted text starts by repeating it."""
    if title:
        first, _, rest = body.partition("\n")
        if " ".join(first.split()).casefold() == " ".join(title.split()).casefold():
            return rest.lstrip()
    return body


def _same_site(a: str, b: str) -> bool:
    ha, hb = (urlsplit(u).hostname or "" for u in (a, b))
    return ha.removeprefix("www.") == hb.removeprefix("www.")


def article_id_for(canonical_url: str) -> str:
    """Stable article id: the canonical URL's hash."""
    return hashlib.sha1(canonical_url.encode("utf-8")).hexdigest()[:20]


def content_hash(title: str | None, body: str) -> str:
    """Hash of what an analyst reads; a change means the article was updated."""
    return hashlib.sha256(f"{title or ''}\n{body}".encode()).hexdigest()


def build_article(entry: FeedEntry, response: Response) -> Article | FetchError:
    """Turn a fetched page into an Article, falling back to the entry's summary for a stub body."""
    ex = extract_html(response.content, response.final_url)
    canonical = entry.canonical_url
    # Follow rel=canonical only within the same site: a page may not claim another site's article.
    if (
        ex.canonical_url
        and urlsplit(ex.canonical_url).scheme in ("http", "https")
        and _same_site(ex.canonical_url, response.final_url)
    ):
        canonical = canonicalize_url(ex.canonical_url)
    body, method = ex.body, "trafilatura"
    if len(body.split()) < MIN_BODY_WORDS:
        fallback = entry.summary or ex.description
        if fallback and len(fallback.split()) > len(body.split()):
            body, method = fallback, "feed_summary" if entry.summary else "meta_description"
    if not body:
        kind, _, detail = (ex.refused or "no_body: page yielded no text").partition(": ")
        return FetchError(
            url=entry.url, stage="extract", error_type=kind,
            message=f"{detail}, and the entry has no summary",
            http_status=response.status, at=datetime.now(UTC),
        )
    published, source = plausible_date(entry.published_at, response.fetched_at), "feed"
    if published is None:
        published, source = plausible_date(ex.published_at, response.fetched_at), "page"
    title = ex.title or entry.title
    return Article(
        article_id=article_id_for(canonical),
        url=entry.url,
        canonical_url=canonical,
        feed_id=entry.feed_id,
        entry_key=entry.entry_key,
        title=title,
        body=body,
        summary=entry.summary or ex.description,
        author=ex.author or entry.author,
        published_at=published,
        fetched_at=response.fetched_at,
        language=ex.language or entry.language,
        site_name=ex.site_name,
        image_url=ex.image_url,
        content_hash=content_hash(title, body),
        extraction_method=method,
        word_count=len(body.split()),
        date_source=source if published else None,
        http_status=response.status,
    )
