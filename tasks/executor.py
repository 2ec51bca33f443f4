"""Where a run's extract+tag batches run: `PRESSBOX_EXECUTOR` = `local` or `dask`.

- `local` (the default): this machine's worker pool (`tasks.pool`), or the flow's own process for
  a small run.
- `dask`: Dask tasks through Prefect's `DaskTaskRunner` (prefect-dask), on the cluster whose
  scheduler `PRESSBOX_DASK_ADDRESS` names (`tcp://host:8786`) or, when it is empty, a
  `LocalCluster` of `workers` processes that lives as long as the flow run. Each Dask worker
  loads the tagger once, when it joins (the `TaggerPreload` worker plugin), never per task.

Fetching and loading stay in the flow's process: only (entries, fetched pages) go out and
(tagged articles, failures) come back. Both executors have one method the flow calls,
`run(entries, responses) -> (tagged, failures)`, which never raises for one page: a page that kills
its Dask worker (`KilledWorker`) is isolated by bisecting its batch, as the local pool does, and
becomes a `worker_crashed` row in fetch_errors.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from schemas.records import FeedEntry, FetchError, TaggedArticle

if TYPE_CHECKING:
    from pressbox.settings import Settings

Batch = tuple[list[TaggedArticle], list[tuple[FeedEntry, FetchError]]]
BASE_WORKER_MIB = 1024  # a Dask worker with the model loaded, before any page (its memory limit adds worker_memory_mb)
log = logging.getLogger(__name__)


# -- in the flow's process ------------------------------------------------------------------------
def _crashed(entry: FeedEntry, response: object, why: str) -> FetchError:
    return FetchError(url=entry.url, stage="extract", error_type="worker_crashed",
                      message=f"the Dask worker died on this page ({why})"[:1000],
                      http_status=getattr(response, "status", None), at=datetime.now(UTC))


class DaskExecutor:
    """Extract+tag batches as Prefect tasks on a Dask cluster (a context manager; `run` is thread-safe)."""

    def __init__(self, settings: Settings, cluster: Any = None):
        self.settings = settings
        self.model, self.max_body_chars = settings.spacy_model, settings.max_body_chars
        self._cluster = cluster  # a running cluster to use (not owned), else one is made or joined
        self._stack = contextlib.ExitStack()
        self.runner: Any = None
        self.crashes = 0
        self.slots = max(1, settings.workers)

    @property
    def where(self) -> str:
        """For the log: which cluster the batches go to."""
        if self.settings.dask_address:
            return f"the Dask cluster at {self.settings.dask_address}"
        return f"a local Dask cluster of {self.settings.workers} worker processes"

    def __enter__(self) -> DaskExecutor:
        from prefect_dask import DaskTaskRunner

        from tasks.dask_worker import PLUGIN_NAME, TaggerPreload

        try:
            if self.settings.dask_address:
                runner = DaskTaskRunner(address=self.settings.dask_address)
            else:
                if self._cluster is None:
                    self._cluster = self._stack.enter_context(local_cluster(self.settings))
                runner = DaskTaskRunner(cluster=self._cluster)
            self.runner = self._stack.enter_context(runner)
            client = runner.client  # connect now, in this thread (batches submit from several threads)
            # every worker, and any that joins or restarts later, loads the tagger once; this waits for it
            client.register_plugin(TaggerPreload(self.model), name=PLUGIN_NAME)
            # batches in flight at once: two per worker thread of the cluster (more machines, more
            # batches), so a worker that finishes one finds the next already queued on the scheduler
            # instead of waiting for the flow to take a result, load it and submit again
            self.slots = 2 * max(1, sum(client.nthreads().values()))
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def run(self, entries: list[FeedEntry], responses: list) -> Batch:
        """Extract and tag one batch on the cluster; blocks until done. Never raises for one page."""
        from distributed import KilledWorker

        try:
            return self._submit(entries, responses)
        except KilledWorker as exc:
            self.crashes += 1
            return self._bisect(entries, responses, exc)

    def _submit(self, entries: list[FeedEntry], responses: list) -> Batch:
        from prefect.context import TaskRunContext

        from tasks.dask_worker import extract_tag_on_worker

        params = {"entries": entries, "responses": responses, "model": self.model,
                  "max_body_chars": self.max_body_chars}
        # Submitted from the flow's extract-tag-batch task: without its task context, which the Dask
        # task would otherwise carry along (every page a second time, and this executor); the Dask
        # task runs as a task of the flow run.
        ctx = contextvars.copy_context()
        ctx.run(TaskRunContext.__var__.set, None)
        return ctx.run(self._submit_task, extract_tag_on_worker, params).result()

    def _submit_task(self, task: Any, params: dict) -> Any:
        """`DaskTaskRunner.submit`, less its content hash: `pure=False` gives the Dask task a random
        key instead of tokenizing every page of the batch in this process (~15 ms per MB, the
        flow's busiest cost on Dask); a batch is never submitted twice, so nothing is lost."""
        from prefect_dask.task_runners import PrefectDaskFuture

        future = self.runner.client.submit(task, parameters=params, return_type="state", pure=False)
        return PrefectDaskFuture(wrapped_future=future, task_run_id=future.task_run_id)

    def _bisect(self, entries: list[FeedEntry], responses: list, exc: BaseException) -> Batch:
        """A batch whose worker died: halve it until the page at fault is alone, then record it."""
        from distributed import KilledWorker

        if len(entries) == 1:
            return [], [(entries[0], _crashed(entries[0], responses[0], type(exc).__name__))]
        mid = (len(entries) + 1) // 2
        tagged: list[TaggedArticle] = []
        failures: list[tuple[FeedEntry, FetchError]] = []
        for part_e, part_r in ((entries[:mid], responses[:mid]), (entries[mid:], responses[mid:])):
            try:
                part = self._submit(part_e, part_r)
            except KilledWorker as again:
                part = self._bisect(part_e, part_r, again)
            tagged += part[0]
            failures += part[1]
        if not tagged and all(e.error_type == "worker_crashed" for _, e in failures):
            raise RuntimeError(f"Dask workers die on every page ({failures[0][1].message}); see the workers' logs")
        return tagged, failures


@contextlib.contextmanager
def local_cluster(settings: Settings) -> Iterator[Any]:
    """A LocalCluster of `workers` single-threaded processes on this machine, stopped on exit.

    Its workers fork from pressbox's fork server (spaCy and trafilatura already imported there,
    `tasks.pool`), so a worker only has to load the model; a worker that dies fails its task at
    once (`allowed-failures` 0: the batch is bisected by `DaskExecutor`, not retried on the next
    worker it would kill).
    """
    import dask
    from distributed import LocalCluster

    from tasks.pool import start_fork_server

    start_fork_server()
    memory = f"{settings.worker_memory_mb + BASE_WORKER_MIB}MiB" if settings.worker_memory_mb > 0 else "auto"
    config = {"distributed.worker.multiprocessing-method": "forkserver",
              "distributed.scheduler.allowed-failures": 0,
              # Dask's own sampling profiler reads each worker thread's stack every 10 ms: a few per
              # cent of the tagging CPU, for a dashboard nobody reads here
              "distributed.worker.profile.enabled": False,
              "distributed.admin.system-monitor.interval": "2s",
              "distributed.admin.tick.interval": "200ms"}
    with dask.config.set(config):
        cluster = LocalCluster(n_workers=max(1, settings.workers), threads_per_worker=1, processes=True,
                               memory_limit=memory, dashboard_address=None, host="127.0.0.1",
                               silence_logs=logging.ERROR)
    try:
        yield cluster
    finally:
        cluster.close()


class _Warm:
    """A LocalCluster started in the background when a dask run starts (while feeds are fetched)."""

    def __init__(self, settings: Settings):
        self.future: Future = Future()
        self._stack = contextlib.ExitStack()
        threading.Thread(target=self._start, args=(settings,), name="pressbox-dask-start", daemon=True).start()

    def _start(self, settings: Settings) -> None:
        try:
            cluster = self._stack.enter_context(local_cluster(settings))
            preload(cluster, settings.spacy_model)
            self.future.set_result(cluster)
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the cluster
            self.future.set_exception(exc)


    def close(self) -> None:
        with contextlib.suppress(BaseException):
            self.future.exception()  # wait for the start to end either way, then stop what it made
        self._stack.close()


def preload(cluster: Any, model: str) -> None:
    """Have every worker of `cluster` load the tagger now (the `TaggerPreload` plugin; returns when
    they have). Called while the run fetches its feeds, so the first batch finds the model loaded;
    the executor registers the same plugin again (a no-op then: the tagger is cached per process)."""
    from distributed import Client

    from tasks.dask_worker import PLUGIN_NAME, TaggerPreload

    with Client(cluster, set_as_default=False) as client:
        client.register_plugin(TaggerPreload(model), name=PLUGIN_NAME)


_WARM: _Warm | None = None


@contextlib.contextmanager
def warm(settings: Settings) -> Iterator[None]:
    """For the length of a flow run: start the run's LocalCluster now, in the background, so its
    workers are up and have loaded the model by the time the first batch is fetched (a no-op for
    `local`, a Dask address, or inside a `warm` already entered: `pressbox run` enters it before
    Prefect's start-up, the flow again for deployments)."""
    global _WARM
    if settings.executor != "dask" or settings.dask_address or _WARM is not None:
        yield
        return
    _WARM = _Warm(settings)
    try:
        yield
    finally:
        started, _WARM = _WARM, None
        started.close()


def make_executor(settings: Settings, workers: int, pages: int = 1) -> contextlib.AbstractContextManager:
    """The run's executor as a context manager yielding an object with `run(entries, responses)`, or
    None when the run has no pages.

    `dask` sends every batch to the cluster; `local` starts its pool of `workers` processes (one for
    a small run: a page that crashes its process still costs only itself).
    """
    if pages <= 0:
        return contextlib.nullcontext()
    if settings.executor == "dask":
        cluster = _WARM.future.result() if _WARM is not None else None
        return DaskExecutor(settings, cluster=cluster)
    from tasks.pool import make_pool

    return make_pool(workers, settings.spacy_model, settings.worker_memory_mb, settings.page_seconds,
                     settings.max_body_chars)


def describe(settings: Settings, executor: object) -> str:
    """For the run's log line: who extracts and tags."""
    if isinstance(executor, DaskExecutor):
        return f", extracted and tagged on {executor.where}"
    if executor is not None:
        return f", extracted and tagged by {executor.workers} worker process(es)"
    return ""
