"""What runs on a Dask worker for `PRESSBOX_EXECUTOR=dask` (tasks/executor.py): the worker plugin that
loads the tagger once per worker, and the Prefect task of one extract+tag batch.

Imported only by dask runs (and by the workers): `distributed` costs the flow's process ~0.4 s.
Workers of a remote cluster need pressbox installed (the same version as the flow's).
"""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin
from prefect import task
from prefect.cache_policies import NO_CACHE

from schemas.records import FeedEntry
from tasks.executor import Batch

PLUGIN_NAME = "pressbox-tagger"


class TaggerPreload(WorkerPlugin):
    """A Dask worker plugin: load the tagger (and trafilatura's lazy parts) once per worker process,
    when the plugin is registered or the worker (re)joins, so no task pays for it."""

    name = PLUGIN_NAME

    def __init__(self, model: str):
        self.model = model

    def setup(self, worker: Any) -> None:
        from tasks.extract import extract_html
        from tasks.tag import get_tagger

        get_tagger(self.model)  # cached per process: the tasks' get_tagger finds it
        extract_html("<html><body><article><p>" + "The match ended in a draw. " * 10 + "</p></article></body></html>")
        import prefect.task_engine  # noqa: F401 - what every task runs through on the worker


@task(name="extract-tag-dask", cache_policy=NO_CACHE, retries=0)
def extract_tag_on_worker(entries: list[FeedEntry], responses: list, model: str, max_body_chars: int) -> Batch:
    """One batch's extraction and tagging on a Dask worker (the tagger is already loaded there)."""
    from tasks.enrich import extract_and_tag

    return extract_and_tag(entries, responses, model, max_body_chars)
