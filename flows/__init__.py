"""Prefect flows: orchestration only; each @flow reads top to bottom."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

from prefect import get_run_logger
from prefect.states import Cancelled, Completed, Failed, State

from pressbox.settings import Settings, get_settings
from tasks import load


def hold_warehouse(stack: contextlib.ExitStack, db: load.Target, wait: float, shard: str | None = None,
                   scope: str = "") -> State | None:
    """Take the warehouse's run lock (a shard's own, for a sharded run) for the rest of `stack`, or
    return the Cancelled state of a run that must be skipped because another run holds it (skipped,
    never failed). On a lake the lock is per shard and `scope` (load.run_lock)."""
    try:
        stack.enter_context(load.run_lock(db, wait=wait, shard=shard, scope=scope))
    except load.WarehouseBusy as exc:
        get_run_logger().warning("skipped: %s", exc)
        return Cancelled(message=f"skipped: {exc}")
    return None


# A plain-Python caller (tests, `pressbox demo`, other code) hands its whole Settings object to a
# flow through this, never as a flow parameter: parameters are what an operator varies per run and
# what Prefect shows in every deployment's form, so machine paths and allowlists stay out of them.
_SETTINGS: contextvars.ContextVar[Settings | None] = contextvars.ContextVar("pressbox_settings", default=None)


@contextlib.contextmanager
def using_settings(settings: Settings | None) -> Iterator[None]:
    """Flows called inside this block use `settings` (their own parameters then only fill gaps)."""
    token = _SETTINGS.set(settings)
    try:
        yield
    finally:
        _SETTINGS.reset(token)


def run_settings(**params: object) -> Settings:
    """The settings of the flow run being started: those handed in by `using_settings`, with the
    run's explicit parameters on top; else the layered settings with the parameters on top."""
    given = {k: v for k, v in params.items() if v is not None}
    base = _SETTINGS.get()
    if base is None:
        return get_settings(**given)
    return base.model_copy(update={k: type(getattr(base, k))(v) for k, v in given.items()}) if given else base


def outcome(feeds_total: int, counts: dict[str, int]) -> str:
    """A run's honest status: `failed` when every feed failed or nothing could be loaded, `partial`
    when some feeds failed or batches were staged, else `completed` (a 404 page is data, not a
    partial run)."""
    processed = sum(counts.get(k, 0) for k in ("articles_new", "articles_updated", "articles_unchanged",
                                                "articles_failed"))
    if (feeds_total and counts.get("feeds_failed", 0) >= feeds_total) or (
        counts.get("batches_staged", 0) and not processed
    ):
        return "failed"
    if counts.get("feeds_failed", 0) or counts.get("batches_staged", 0):
        return "partial"
    return "completed"


def final_state(status: str, summary: dict, why: str) -> State:
    """The Prefect state a run ends in: Failed, Completed named `Partial`, or Completed."""
    if status == "failed":
        return Failed(message=why, data=summary)
    if status == "partial":
        return Completed(name="Partial", message=why, data=summary)
    return Completed(data=summary)


def quiet_third_party_loggers() -> None:
    """Keep libraries' chatter (trafilatura's per-link 'empty link' warnings) out of run logs."""
    for name in ("trafilatura", "htmldate", "courlan", "justext"):
        logging.getLogger(name).setLevel(logging.ERROR)
