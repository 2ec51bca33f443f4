"""Enrich: the CPU-bound middle of the pipeline (pages -> articles -> mentions) for one batch.

Pure apart from the cached tagger, so it runs the same in the flow's process or in a worker
process of a pool (`make_pool`), which is how a run uses more than one core.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from schemas.records import Article, FeedEntry, FetchError, Response, TaggedArticle
from tasks.extract import build_article
from tasks.fetch import FetchFailure
from tasks.tag import get_tagger, tag_articles


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
    return tag_articles(get_tagger(model), articles), failures


def _warm(model: str) -> None:
    get_tagger(model)  # load the model once per worker, before the first batch arrives


def make_pool(workers: int, model: str) -> ProcessPoolExecutor:
    """Worker processes for extract_and_tag (forkserver: never fork a process running threads).

    Each worker is one process on one core: BLAS is told not to start threads of its own, so two
    workers on two cores do not fight over four threads.
    """
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # inherited by the forkserver, started on first use
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("forkserver"),
        initializer=_warm, initargs=(model,),
    )
