"""Retag flow (the nightly maintenance): stored articles tagged by an older tagger -> new mentions,
without refetching; newest first, in bounded chunks within a time budget; then the whole-warehouse
work runs never do (checkpoint, search index rebuild when asked, a full snapshot)."""

from __future__ import annotations

import contextlib
import time

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import State

from flows import hold_warehouse, run_settings, using_settings
from pressbox.settings import Settings
from schemas.records import Article, TaggedArticle
from tasks import lake, load
from tasks.kb import tagger_version
from tasks.stories import story_params

CHUNK_LOCK_WAIT = 300.0  # seconds a chunk's write waits for an ingest run to finish
STORY_BACKFILL_PER_RUN = 20_000  # articles given a story per retag run until none is left


@task(name="retag-batch", cache_policy=NO_CACHE)
def retag_batch(articles: list[Article], model: str, pool) -> list[TaggedArticle]:
    """Tag one batch of stored articles (in a worker process when there is a pool)."""
    from tasks.enrich import retag_in_worker

    if pool is None:
        return retag_in_worker(articles, model)
    return pool.submit(retag_in_worker, articles, model).result()


@task(name="backfill-stories", cache_policy=NO_CACHE)
def backfill_stories(db_path: load.Target, settings: Settings) -> int:
    """Stories for articles stored before the stories stage: in batches, bounded per run, once (a marker)."""
    return load.backfill_story_ids(db_path, settings.batch_size, STORY_BACKFILL_PER_RUN, story_params(settings))


def retag(db_path: str | None = None, settings: Settings | None = None, return_state: bool = False) -> dict | State:
    """Run the retag flow from Python with a whole Settings object; returns its result (or state)."""
    if settings is not None:  # the run's parameter (shown by Prefect) names its warehouse
        db_path = db_path or str(settings.db_path)
    with using_settings(settings):
        return retag_flow(db_path=db_path, return_state=return_state)


@flow(name="pressbox-retag", log_prints=True)
def retag_flow(db_path: str | None = None) -> dict | State:
    """Re-tag stored articles whose tagger_version is not the current one, newest first, chunk by
    chunk until none is left or the night's budget (`retag_budget`) is spent; each chunk's articles
    are replaced in one transaction. The run lock is held only to read a chunk and to write it
    (tagging happens outside it), so ingest runs go on between chunks. Then the maintenance:
    checkpoint, search rebuild (`rebuild_search`), views and a full snapshot."""
    settings = run_settings(db_path=db_path)
    log = get_run_logger()
    db = lake.target(settings)  # a DuckDB file or a DuckLake (PRESSBOX_WAREHOUSE)
    version = tagger_version(settings.spacy_model)
    stop_at = time.monotonic() + settings.retag_budget
    done = mentions = 0
    with contextlib.ExitStack() as stack:  # the first chunk's lock: a run already on it skips the night
        if skipped := hold_warehouse(stack, db, settings.run_lock_wait):
            return skipped
        stack.enter_context(load.held(db))
        left = load.count_stale(db, version)
    log.info("%d articles tagged by another tagger version than %s", left, version)
    pool_cm = contextlib.nullcontext()
    if settings.workers > 1 and left >= settings.parallel_min_articles:
        from tasks.pool import make_pool

        pool_cm = make_pool(settings.workers, settings.spacy_model, settings.worker_memory_mb)
    with pool_cm as pool:
        while left:  # at least one chunk a night, however small the budget
            with load.run_lock(db, wait=CHUNK_LOCK_WAIT), load.held(db):  # held: no checkpoint at close
                articles = load.stored_articles(db, load.stale_article_ids(db, version, settings.retag_chunk))
            if not articles:
                break
            size = settings.batch_size
            futures = [retag_batch.submit(articles[i : i + size], settings.spacy_model, pool)
                       for i in range(0, len(articles), size)]
            tagged = [t for f in futures for t in f.result()]
            with load.run_lock(db, wait=CHUNK_LOCK_WAIT), load.held(db):
                current = load.unchanged_since(db, tagged)  # an article a run updated meanwhile: next chunk
                mentions += load.replace_tags(db, current, story_params(settings))
                left = load.count_stale(db, version)
            done += len(current)
            log.info("retagged %d (%d left)", done, left)
            if time.monotonic() >= stop_at:
                break
    if left:
        log.warning("retag budget of %gs spent: %d articles left for the next night", settings.retag_budget, left)
    with load.run_lock(db, wait=CHUNK_LOCK_WAIT), load.held(db):
        backfilled = backfill_stories(db, settings)
        files = maintain(db, settings, log)
    return {"retagged": done, "mentions": mentions, "tagger_version": version, "left": left,
            "stories_backfilled": backfilled, **files}


def maintain(db: load.Target, settings: Settings, log) -> dict[str, int]:
    """The whole-warehouse work ingest runs leave to the night: the WAL checkpointed into the main
    file, the search index rebuilt when asked, views, and the snapshot copied whole; on a lake,
    its small files merged and old snapshots expired (returns its data files before and after)."""
    load.refresh_views(db)
    load.checkpoint(db)
    if files := load.maintain(db, settings.lake_keep_days):
        log.info("lake maintenance: %d data files before, %d after", files["files_before"], files["files_after"])
    if settings.rebuild_search and (why := load.build_search_index(db)):
        log.warning(why)
    if settings.publish_snapshot:
        load.publish_snapshot(db)
    return files
