"""Ties the fork server's life to the run's: imported only in the fork server (tasks.pool PRELOAD).

A run killed with SIGKILL cannot stop its helpers, so each helper watches for itself: this module
starts a thread in the fork server that exits it once its parent (the run) is gone; workers are
children of the fork server and die with it (`tasks.pool.bind_to_parent`).
"""

from __future__ import annotations

import os
import threading
import time

POLL_SECONDS = 1.0


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os._exit(0)  # the run is gone: nothing of ours may outlive it (workers follow by PDEATHSIG)


def watch_parent() -> None:
    """Exit this process within a second of its parent's death (a daemon thread polls getppid)."""
    threading.Thread(target=_watch, args=(os.getppid(),), name="pressbox-lifeline", daemon=True).start()


# Importing is the fork server's only hook (multiprocessing's preload list): start watching now.
watch_parent()
