"""Prefect flows: orchestration only; each @flow reads top to bottom."""

from __future__ import annotations

import contextlib
from pathlib import Path

from prefect import get_run_logger
from prefect.states import Cancelled, State

from tasks import load


def hold_warehouse(stack: contextlib.ExitStack, db: Path, wait: float) -> State | None:
    """Take the warehouse's run lock for the rest of `stack`, or return the Cancelled state of a run
    that must be skipped because another run holds it (skipped, never failed)."""
    try:
        stack.enter_context(load.run_lock(db, wait=wait))
    except load.WarehouseBusy as exc:
        get_run_logger().warning("skipped: %s", exc)
        return Cancelled(message=f"skipped: {exc}")
    return None
