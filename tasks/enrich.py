"""Enrich: the CPU-bound middle of the pipeline (pages -> articles -> mentions) for one batch.

Pure apart from the cached tagger, so it runs the same in the flow's process or in a worker
process of a pool (`tasks.pool`), which is how a run uses more than one core.
"""

from __future__ import annotations

from schemas.records import Article, FeedEntry, FetchError, Response, TaggedArticle
from tasks.extract import build_article
from tasks.fetch import FetchFailure
from tasks.matches import with_matches
from tasks.tag import SportsTagger, get_tagger, tag_articles


def enrich_articles(tagger: SportsTagger, articles: list[Article]) -> list[TaggedArticle]:
    """Tag articles, then run every enrichment that hangs off an article and its tags.

    The one place the flow (new pages) and `pressbox retag` (stored articles) compute what is
    stored per article, so a retag recomputes all of it.
    """
    tagged = tag_articles(tagger, articles)
    tagged = [with_matches(t, tagger.kb) for t in tagged]
    return tagged


def extract_and_tag(
    entries: list[FeedEntry], responses: list[Response | FetchFailure], model: str
) -> tuple[list[TaggedArticle], list[tuple[FeedEntry, FetchError]]]:
    """Fetched pages -> tagged articles; every page that yields nothing becomes a failure record."""
    articles: list[Article] = []
    failures: list[tuple[FeedEntry, FetchError]] = []
    for entry, resp in zip(entries, responses, strict=True):
        if isinstance(resp, FetchFailure):
            failures.append((entry, resp.to_error(entry.url, "page")))
            continue
        result = build_article(entry, resp)
        if isinstance(result, FetchError):
            failures.append((entry, result))
        else:
            articles.append(result)
    return enrich_articles(get_tagger(model), articles), failures
