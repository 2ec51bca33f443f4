"""Worker processes for the CPU-bound stages (extract + tag), started early and kept light here.

This module imports nothing heavy: the flow's process never loads spaCy or trafilatura when
workers do the work. Workers fork from a multiprocessing fork server (never fork a process that
runs threads) which imports the pipeline's modules once, in the background, as soon as a run
starts (`start_fork_server`), so by the time the run knows it has pages the workers only need to
load the model.

Every run with pages uses a pool (a small run one worker), so a worker that dies (segfault,
out-of-memory kill, `os._exit`, a C-level recursion, a page over its limits) costs only the page
that killed it: `WorkerPool.run` replaces the pool and bisects the batch in a separate one-worker
pool until that page is alone, then records it (`worker_crashed` or `page_timeout`).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from multiprocessing import forkserver

from schemas.records import FeedEntry, FetchError, TaggedArticle

PRELOAD = ["tasks.lifeline", "tasks.enrich"]  # our lifeline first; then spaCy, trafilatura and our stages
PR_SET_PDEATHSIG = 1
DEATHS = {"worker_crashed", "page_timeout"}  # error types of pages whose worker died
EXIT_PAGE_TIMEOUT = 86  # a worker's own watchdog ended it: a page outran its time limit
SPLIT_TO_SINGLES = 16  # a suspect batch this small is retried page by page rather than halved
START_SECONDS = 120.0  # a fresh worker loads the model before its first page (slow on a busy machine)
Batch = tuple[list[TaggedArticle], list[tuple[FeedEntry, FetchError]]]

_in_worker = False
_page_deadline: float | None = None  # monotonic time the current page must end by (worker watchdog)


class PageTimeout(Exception):
    """A page's extraction or tagging ran past `page_seconds`."""


def start_fork_server() -> None:
    """Start the fork server now (it imports PRELOAD in its own process; this returns at once).

    Idempotent. BLAS is told not to start threads of its own: every worker is one process on one
    core, and two workers on two cores must not fight over four threads.
    """
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # inherited by the fork server and so by every worker
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()


def bind_to_parent() -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux; elsewhere a no-op)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _grace(seconds: float) -> float:
    """How long past its timer a page may run before it is killed (the timer gets the first chance)."""
    return max(2.0, seconds / 4)


def _watchdog(run_pid: int) -> None:
    """In a worker: end the process when the run is gone or a page ignores its timer (wall clock)."""
    while True:
        time.sleep(0.5)
        try:
            os.kill(run_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass
        if _page_deadline is not None and time.monotonic() > _page_deadline:
            os._exit(EXIT_PAGE_TIMEOUT)


def _init_worker(model: str, memory_mb: int, run_pid: int) -> None:
    """A worker's start: die with the fork server, watch the run, load the model, cap memory."""
    global _in_worker
    _in_worker = True
    bind_to_parent()
    threading.Thread(target=_watchdog, args=(run_pid,), name="pressbox-watchdog", daemon=True).start()
    from tasks.tag import get_tagger

    get_tagger(model)  # load the model once per worker, before the first batch arrives
    from tasks.extract import extract_html

    # the first page loads what trafilatura, htmldate and langid load lazily: do it before any time limit
    extract_html("<html><body><article><p>" + "The match ended in a draw. " * 10 + "</p></article></body></html>")
    if memory_mb > 0:
        with open("/proc/self/statm") as fh:  # first field: virtual size in pages
            used = int(fh.read().split()[0]) * resource.getpagesize()
        cap = used + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))


def _ready() -> None:
    """A worker's first task: nothing (its initializer has loaded the model)."""


def _raise_timeout(signum: int, frame: object) -> None:
    raise PageTimeout("page over its time limit")


@contextlib.contextmanager
def page_time_limit(seconds: float) -> Iterator[None]:
    """Limit a page's work in a worker: a timer raises PageTimeout; a page deaf to it (stuck in C)
    is ended by the CPU rlimit (SIGXCPU) or the worker's watchdog, and the pool records it.

    A no-op outside a worker's main thread (signals and rlimits are per process).
    """
    global _page_deadline
    if seconds <= 0 or not _in_worker or threading.current_thread() is not threading.main_thread():
        yield
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_cap = int(usage.ru_utime + usage.ru_stime + seconds + _grace(seconds)) + 1
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    previous = signal.signal(signal.SIGALRM, _raise_timeout)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_cap, hard))
    _page_deadline = time.monotonic() + seconds + _grace(seconds)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _page_deadline = None
        resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
        signal.signal(signal.SIGALRM, previous)


def run_batch(entries: list, responses: list, model: str, max_body_chars: int = 100_000,
              page_seconds: float = 0.0) -> Batch:
    """extract_and_tag, called in a worker by name so the caller's process need not import it."""
    from tasks.enrich import extract_and_tag

    return extract_and_tag(entries, responses, model, max_body_chars, page_seconds)


def _died(entry: FeedEntry, response: object, exitcode: int | None, seconds: float) -> FetchError:
    """The record of a page whose worker died (or stalled) while it alone was being processed."""
    timed_out = exitcode in (EXIT_PAGE_TIMEOUT, -signal.SIGXCPU, None)
    how = (f"over the {seconds:g}s page time limit" if timed_out
           else f"killed by signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit code {exitcode}")
    return FetchError(url=entry.url, stage="extract", error_type="page_timeout" if timed_out else "worker_crashed",
                      message=f"the worker process died on this page ({how})",
                      http_status=getattr(response, "status", None), at=datetime.now(UTC))


class WorkerPool:
    """`workers` processes that extract and tag batches; a crash costs only the page that caused it."""

    def __init__(self, workers: int, model: str, memory_mb: int, page_seconds: float, max_body_chars: int,
                 fn: Callable[..., Batch] | None = None):
        self.workers, self.model, self.memory_mb = workers, model, memory_mb
        self.page_seconds, self.max_body_chars = page_seconds, max_body_chars
        self.fn = fn or run_batch
        self._lock = threading.Lock()
        self._solo_lock = threading.Lock()  # suspects are bisected one at a time: a crash then names its page
        self._generation = 0
        self._solo: ProcessPoolExecutor | None = None  # where suspects are bisected, made on the first crash
        self.crashes = 0
        start_fork_server()
        self._main = self._executor(workers, warm=True)

    def _executor(self, n: int, warm: bool = False) -> ProcessPoolExecutor:
        """A pool of `n` workers; `warm`: start them now (they load the model while the first batch is
        fetched) rather than at the first batch."""
        executor = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("forkserver"),
                                       initializer=_init_worker, initargs=(self.model, self.memory_mb, os.getpid()))
        for _ in range(n if warm else 0):  # each submit finding no idle worker starts one
            executor.submit(_ready)
        return executor

    def _patience(self, pages: int, queued: int = 1) -> float:
        """How long the parent waits for a batch before it stops the workers itself (a last resort:
        workers end a stuck page on their own)."""
        per_page = self.page_seconds + _grace(self.page_seconds) if self.page_seconds > 0 else 600.0
        return (queued + 1) * (per_page * pages + START_SECONDS)

    def run(self, entries: list[FeedEntry], responses: list) -> Batch:
        """Extract and tag one batch in the pool; blocks until done. Never raises for one page."""
        with self._lock:
            executor, generation = self._main, self._generation
        procs = []
        try:
            future = executor.submit(self.fn, entries, responses, self.model, self.max_body_chars, self.page_seconds)
            procs = _workers(executor)
            return future.result(timeout=self._patience(len(entries), queued=self.workers))
        except (BrokenProcessPool, FutureTimeout):
            _kill(procs + _workers(executor))
        except RuntimeError:  # another batch's crash shut this pool down before we could submit: bisect in solo
            pass
        self._replace(generation)
        with self._solo_lock:
            return self._bisect(entries, responses)

    def submit(self, fn: Callable[..., object], *args: object) -> Future:
        """Run any picklable function in the main pool (no crash isolation: that is `run`'s)."""
        return self._main.submit(fn, *args)

    def _replace(self, generation: int) -> None:
        """A fresh main pool, once per break (two batches in flight both see the same break)."""
        with self._lock:
            if self._generation != generation:
                return
            self.crashes += 1
            old, self._main = self._main, self._executor(self.workers, warm=True)
            self._generation += 1
        old.shutdown(wait=False, cancel_futures=True)

    def _bisect(self, entries: list[FeedEntry], responses: list) -> Batch:
        """Run a suspect batch in a one-worker pool, halving it on every death until the page is alone."""
        if self._solo is None:
            self._solo = self._executor(1)
        solo, procs = self._solo, []
        try:
            future = solo.submit(self.fn, entries, responses, self.model, self.max_body_chars, self.page_seconds)
            procs = _workers(solo)  # the exit code says why it died
            return future.result(timeout=self._patience(len(entries), queued=0))
        except (BrokenProcessPool, FutureTimeout) as exc:
            stalled = isinstance(exc, FutureTimeout)
            self._solo = None
            if stalled:
                _kill(procs)
                solo.shutdown(wait=False, cancel_futures=True)
            else:
                # the worker is dead: let the executor's own thread reap it first. Reading its exit
                # status alongside that thread races on the fork server's status pipe, and the loser
                # records 255 over the real code (multiprocessing.popen_forkserver)
                solo.shutdown(wait=True, cancel_futures=True)
                _kill(procs)
        if len(entries) == 1:
            code = None if stalled else next((p.exitcode for p in procs if p.exitcode not in (None, 0)), 1)
            return [], [(entries[0], _died(entries[0], responses[0], code, self.page_seconds))]
        # halves while the batch is large; a small one page by page (each death then costs one restart)
        step = (len(entries) + 1) // 2 if len(entries) > SPLIT_TO_SINGLES else 1
        tagged: list[TaggedArticle] = []
        failures: list[tuple[FeedEntry, FetchError]] = []
        for i in range(0, len(entries), step):
            part = self._bisect(entries[i : i + step], responses[i : i + step])
            tagged += part[0]
            failures += part[1]
        if not tagged and all(e.error_type in DEATHS for _, e in failures) and not self._alive_without_pages():
            # every page killed its worker, and so does no page at all: the workers cannot run (a broken
            # install, no memory). Raised rather than spending an attempt of every page of the run.
            raise RuntimeError(f"worker processes die on every page ({failures[0][1].message}); see the log")
        return tagged, failures

    def _alive_without_pages(self) -> bool:
        """Whether a fresh worker can start and run an empty batch (after every page of a batch killed one)."""
        if self._solo is None:
            self._solo = self._executor(1)
        solo = self._solo
        try:
            solo.submit(self.fn, [], [], self.model, self.max_body_chars, self.page_seconds).result(
                timeout=self._patience(1, queued=0))
            return True
        except (BrokenProcessPool, FutureTimeout):
            _kill(_workers(solo))
            self._solo = None
            solo.shutdown(wait=False, cancel_futures=True)
            return False

    def close(self) -> None:
        """Stop the workers (they also stop on their own if this process dies)."""
        self._main.shutdown(wait=True, cancel_futures=True)
        if self._solo is not None:
            self._solo.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _workers(executor: ProcessPoolExecutor) -> list:
    """The executor's worker processes (none once it is shut down)."""
    return list((executor._processes or {}).values())  # noqa: SLF001 - to stop them, and read exit codes


def _kill(procs: list) -> None:
    for proc in procs:
        with contextlib.suppress(Exception):
            if proc.is_alive():
                proc.kill()
            proc.join(5)


def make_pool(workers: int, model: str, memory_mb: int = 0, page_seconds: float = 0.0,
              max_body_chars: int = 100_000) -> WorkerPool:
    """`workers` processes, each with the tagger loaded, forked from the (early) fork server."""
    return WorkerPool(workers, model, memory_mb, page_seconds, max_body_chars)
