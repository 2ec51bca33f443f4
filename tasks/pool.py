"""Worker processes for the CPU-bound stages (extract + tag), started early and kept light here.

This module imports nothing heavy: the flow's process never loads spaCy or trafilatura when
workers do the work. Workers fork from a multiprocessing fork server (never fork a process that
runs threads) which imports the pipeline's modules once, in the background, as soon as a run
starts (`start_fork_server`), so by the time the run knows it has pages the workers only need to
load the model.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver

PRELOAD = ["tasks.enrich"]  # spaCy, trafilatura and our stages: what every worker needs


def start_fork_server() -> None:
    """Start the fork server now (it imports PRELOAD in its own process; this returns at once).

    Idempotent. BLAS is told not to start threads of its own: every worker is one process on one
    core, and two workers on two cores must not fight over four threads.
    """
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # inherited by the fork server and so by every worker
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()


def _warm(model: str) -> None:
    from tasks.tag import get_tagger

    get_tagger(model)  # load the model once per worker, before the first batch arrives


def make_pool(workers: int, model: str) -> ProcessPoolExecutor:
    """`workers` processes, each with the tagger loaded, forked from the (early) fork server."""
    start_fork_server()
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"),
                               initializer=_warm, initargs=(model,))


def run_batch(entries: list, responses: list, model: str) -> tuple[list, list]:
    """extract_and_tag, called in a worker by name so the caller's process need not import it."""
    from tasks.enrich import extract_and_tag

    return extract_and_tag(entries, responses, model)
