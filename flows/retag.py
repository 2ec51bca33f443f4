"""Retag flow: stored articles tagged by an older tagger -> new mentions, without refetching."""

from __future__ import annotations

import contextlib
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import State

from flows import hold_warehouse, run_settings, using_settings
from pressbox.settings import Settings
from tasks import load
from tasks.enrich import enrich_articles
from tasks.stories import StoryParams, story_params
from tasks.tag import SportsTagger, get_tagger

STORY_BACKFILL_PER_RUN = 20_000  # articles given a story per retag run until none is left


@task(name="retag-batch", cache_policy=NO_CACHE)
def retag_batch(db_path: Path, article_ids: list[str], tagger: SportsTagger,
                story_params: StoryParams | None = None) -> int:
    """Tag one batch of stored articles and replace their mentions (and story signatures) in one transaction."""
    return load.replace_tags(db_path, enrich_articles(tagger, load.stored_articles(db_path, article_ids)),
                             story_params)


@task(name="backfill-stories", cache_policy=NO_CACHE)
def backfill_stories(db_path: Path, settings: Settings) -> int:
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
    """Re-tag every stored article whose tagger_version is not the current one; rebuild the outputs."""
    settings = run_settings(db_path=db_path)
    log = get_run_logger()
    db = Path(settings.db_path)
    tagger = get_tagger(settings.spacy_model)
    done = mentions = 0
    with contextlib.ExitStack() as stack:
        if skipped := hold_warehouse(stack, db, settings.run_lock_wait):
            return skipped
        stale = load.stale_article_ids(db, tagger.version)
        log.info("%d articles tagged by another tagger version than %s", len(stale), tagger.version)
        for i in range(0, len(stale), settings.batch_size):
            batch = stale[i : i + settings.batch_size]
            mentions += retag_batch(db, batch, tagger, story_params(settings))
            done += len(batch)
            log.info("retagged %d/%d", done, len(stale))
        backfilled = backfill_stories(db, settings)
        if done or backfilled:
            load.refresh_views(db)
            if settings.publish_snapshot:
                load.publish_snapshot(db)
    return {"retagged": done, "mentions": mentions, "tagger_version": tagger.version, "stories_backfilled": backfilled}
