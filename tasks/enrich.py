"""Enrich: the CPU-bound middle of the pipeline (pages -> articles -> mentions) for one batch.

Pure apart from the cached tagger, so it runs the same in the flow's process or in a worker
process of a pool (`tasks.pool`), which is how a run uses more than one core. Every page is
guarded: whatever one page raises becomes that page's failure record, never the batch's.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from schemas.records import Article, FeedEntry, FetchError, Response, TaggedArticle
from tasks.extract import MAX_BODY_CHARS, build_article
from tasks.fetch import FetchFailure
from tasks.matches import with_matches
from tasks.pool import PageTimeout, page_time_limit
from tasks.quotes import extract_quotes
from tasks.tag import SportsTagger, get_tagger, tag_articles


def enrich_articles(tagger: SportsTagger, articles: list[Article]) -> list[TaggedArticle]:
    """Tag articles, then run every enrichment that hangs off an article and its tags.

    The one place the flow (new pages) and `pressbox retag` (stored articles) compute what is
    stored per article, so a retag recomputes all of it.
    """
    tagged = tag_articles(tagger, articles)
    tagged = [with_matches(t, tagger.kb) for t in tagged]
    return [replace(t, quotes=extract_quotes(t.article.body, t.mentions, tagger.kb)) for t in tagged]


def page_error(url: str, stage: str, exc: BaseException, http_status: int | None = None) -> FetchError:
    """What one page's unexpected exception records (stage `extract` or `tag`)."""
    kind = ("page_timeout" if isinstance(exc, PageTimeout) else "memory_limit" if isinstance(exc, MemoryError)
            else "recursion_limit" if isinstance(exc, RecursionError) else f"{stage}_error")
    return FetchError(url=url, stage=stage, error_type=kind, message=f"{type(exc).__name__}: {exc}"[:1000],
                      http_status=http_status, at=datetime.now(UTC))


def extract_and_tag(
    entries: list[FeedEntry],
    responses: list[Response | FetchFailure],
    model: str,
    max_body_chars: int = MAX_BODY_CHARS,
    page_seconds: float = 0.0,
) -> tuple[list[TaggedArticle], list[tuple[FeedEntry, FetchError]]]:
    """Fetched pages -> tagged articles; every page that yields nothing becomes a failure record.

    `page_seconds` (> 0) limits each page's extraction and tagging in time where a timer can
    interrupt it (a worker's main thread); a worker that ignores it is stopped by the pool.
    """
    articles: list[Article] = []
    failures: list[tuple[FeedEntry, FetchError]] = []
    by_key: dict[tuple[str, str], FeedEntry] = {}
    for entry, resp in zip(entries, responses, strict=True):
        if isinstance(resp, FetchFailure):
            failures.append((entry, resp.to_error(entry.url, "page")))
            continue
        try:
            with page_time_limit(page_seconds):
                result = build_article(entry, resp, max_body_chars)
        except (Exception, MemoryError) as exc:  # noqa: BLE001 - one page's failure is that page's record
            failures.append((entry, page_error(entry.url, "extract", exc, resp.status)))
            continue
        if isinstance(result, FetchError):
            failures.append((entry, result))
        else:
            articles.append(result)
            by_key[(result.feed_id, result.entry_key)] = entry
    tagger = get_tagger(model)
    try:
        with page_time_limit(page_seconds * len(articles)):
            return enrich_articles(tagger, articles), failures
    except (Exception, MemoryError):  # noqa: BLE001 - find the article at fault: tag them one by one
        pass
    tagged: list[TaggedArticle] = []
    for article in articles:
        try:
            with page_time_limit(page_seconds):
                tagged.extend(enrich_articles(tagger, [article]))
        except (Exception, MemoryError) as exc:  # noqa: BLE001 - one article's failure is its own record
            entry = by_key[(article.feed_id, article.entry_key)]
            failures.append((entry, page_error(entry.url, "tag", exc, article.http_status)))
    return tagged, failures


def retag_in_worker(articles: list[Article], model: str) -> list[TaggedArticle]:
    """enrich_articles with the worker's cached tagger (called by name in a pool worker)."""
    return enrich_articles(get_tagger(model), articles)
