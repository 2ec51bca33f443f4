"""A worker batch function for tests: pages carrying a marker crash, hog memory or spin in the worker.

Real pages that segfault a parser are rare and version-bound; these markers make each kind of
worker death reproducible. Used by monkeypatching `tasks.pool.run_batch` (workers import it by name).
"""

from __future__ import annotations

import os
import signal

CRASH, HOG, SPIN = b"POISON-CRASH", b"POISON-HOG", b"POISON-SPIN"


def _poisoned_build(real):  # noqa: ANN001, ANN202
    def build(entry, response, *args, **kwargs):  # noqa: ANN001, ANN202
        content = response.content
        if CRASH in content:
            os._exit(3)  # as a segfault or an abort in C would: no exception, no cleanup
        if HOG in content:
            hoard = []
            while True:  # until the worker's memory limit says no
                hoard.append(bytearray(64 * 1024 * 1024))
        if SPIN in content:
            signal.signal(signal.SIGALRM, signal.SIG_IGN)  # deaf to the timer, as a loop in C code is
            while True:
                pass
        return real(entry, response, *args, **kwargs)

    build.poisoned = True
    return build


def run_batch(entries: list, responses: list, model: str, max_body_chars: int, page_seconds: float) -> tuple:
    """tasks.pool.run_batch with the poisoned build_article in place."""
    import tasks.enrich

    if not getattr(tasks.enrich.build_article, "poisoned", False):
        tasks.enrich.build_article = _poisoned_build(tasks.enrich.build_article)
    return tasks.enrich.extract_and_tag(entries, responses, model, max_body_chars, page_seconds)
