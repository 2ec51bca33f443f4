"""Ingest flow: feeds -> entries -> pages -> articles -> mentions -> warehouse."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.states import State

import pressbox
from flows import final_state, hold_warehouse, outcome, quiet_third_party_loggers, run_settings, using_settings
from pressbox import progress
from pressbox.settings import Settings
from schemas.records import FeedConfig, FeedEntry, FeedResult, FeedState, FetchError, TaggedArticle
from tasks import executor, lake, load
from tasks.feeds import load_feeds_file, parse_feed
from tasks.fetch import Fetcher, FetchFailure
from tasks.kb import tagger_version
from tasks.shard import parse_shard, shard_feeds
from tasks.stories import story_params

if TYPE_CHECKING:
    from tasks.executor import DaskExecutor
    from tasks.pool import WorkerPool

COUNT_KEYS = ("feeds_ok", "feeds_failed", "feeds_not_modified", "entries_new", "articles_new", "articles_updated",
              "articles_unchanged", "articles_failed", "mentions", "batches_staged")


@dataclass
class RunSummary:
    """What a run did; returned by the flow, stored in `runs`, shown as an artifact."""

    run_id: str
    status: str = "running"
    feeds: list[dict] = field(default_factory=list)
    counts: Counter = field(default_factory=lambda: Counter(dict.fromkeys(COUNT_KEYS, 0)))
    top_entities: list[tuple[str, str, int]] = field(default_factory=list)
    written: Counter = field(default_factory=Counter, repr=False)  # entity_id -> mentions this run wrote
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict:
        """JSON-friendly form."""
        d = asdict(self)
        d["counts"] = dict(self.counts)
        del d["written"]
        return d


# -- tasks (thin wrappers; the work is in tasks/*) ------------------------------------------------
@task(name="prepare-warehouse", cache_policy=NO_CACHE)
def prepare_warehouse(db_path: load.Target, feeds: list[FeedConfig]) -> dict[str, FeedState]:
    """Migrate the warehouse and read each feed's validators."""
    return load.prepare(db_path, feeds)


@task(name="fetch-feed", cache_policy=NO_CACHE)
def fetch_feed(feed: FeedConfig, state: FeedState | None, fetcher: Fetcher, max_entries: int) -> FeedResult:
    """Conditional GET of one feed, then parse it (a 304 costs no parsing)."""
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if state and state.etag:
        headers["If-None-Match"] = state.etag
    if state and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    try:
        resp = fetcher.get(feed.url, max_bytes=fetcher.settings.max_feed_bytes, headers=headers,
                           ok_statuses=(200, 304))
    except FetchFailure as exc:
        return FeedResult(feed.feed_id, feed.url, "error", exc.http_status, error=exc.to_error(feed.url, "feed"))
    if resp.status == 304:
        return FeedResult(feed.feed_id, feed.url, "not_modified", 304,
                          etag=state.etag if state else None, last_modified=state.last_modified if state else None)
    try:
        entries, seen, bozo = parse_feed(resp.content, feed=feed, base_url=resp.final_url,
                                         content_type=resp.headers.get("content-type"), max_entries=max_entries)
    except ValueError as exc:  # not a feed at all (HTML page, empty body, garbage)
        err = FetchFailure("not_a_feed", str(exc), resp.status).to_error(feed.url, "feed")
        return FeedResult(feed.feed_id, feed.url, "error", resp.status, error=err)
    except (Exception, MemoryError) as exc:  # noqa: BLE001 - whatever one feed raises is that feed's record
        err = FetchFailure("feed_error", f"{type(exc).__name__}: {exc}", resp.status).to_error(feed.url, "feed")
        return FeedResult(feed.feed_id, feed.url, "error", resp.status, error=err)
    return FeedResult(feed.feed_id, feed.url, "ok", resp.status, etag=resp.headers.get("etag"),
                      last_modified=resp.headers.get("last-modified"), items_seen=seen,
                      entries=tuple(entries), bozo=bozo)


@task(name="fetch-pages", cache_policy=NO_CACHE)
def fetch_pages(entries: list[FeedEntry], fetcher: Fetcher) -> list:
    """Fetch a batch of article pages concurrently (robots, per-host limits, caps)."""
    return fetcher.get_pages([e.url for e in entries])


@task(name="extract-tag-batch", cache_policy=NO_CACHE)
def extract_tag_batch(
    entries: list[FeedEntry], responses: list, settings: Settings, pool: WorkerPool | DaskExecutor | None
) -> tuple[list[TaggedArticle], list[tuple[FeedEntry, FetchError]]]:
    """Extract and tag a batch in the run's executor: a worker process of its pool, or a Dask
    cluster (tasks/executor.py); never retried: a parse fails the same way twice. One page's failure,
    even its worker's death, is its own. Without an executor (a caller that brings its own processes)
    the batch runs here, where a crash of the process is not isolated."""
    if pool is None:
        from tasks.enrich import extract_and_tag  # spaCy and trafilatura: never imported by the flow's own runs

        return extract_and_tag(entries, responses, settings.spacy_model, settings.max_body_chars)
    return pool.run(entries, responses)


@task(name="load-batch", cache_policy=NO_CACHE)
def load_batch(db_path: load.Target, run_id: str, seq: int, tagged: list[TaggedArticle], failures: list,
               settings: Settings) -> load.LoadCounts | None:
    """One transaction per batch; if the warehouse stays busy, stage the batch for the next run."""
    try:
        return load.load_batch(db_path, run_id, tagged, failures, settings.max_attempts, wait=settings.load_wait,
                               count_in_run=True, story_params=story_params(settings))
    except load.WarehouseBusy as exc:
        path = load.stage_batch(db_path, run_id, seq, tagged, failures)
        get_run_logger().warning("warehouse busy (%s); batch staged in %s for the next run", exc, path)
        return None


# -- the flow -------------------------------------------------------------------------------------
def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _batches(items: list, size: int, workers: int):
    """Batches of `size`; with several workers the last `workers * size` items go in half-size
    batches, so the workers finish together instead of one idling through the last full batch."""
    if workers <= 1:
        yield from _chunks(items, size)
        return
    cut = max(0, len(items) - workers * size)
    yield from _chunks(items[:cut], size)
    yield from _chunks(items[cut:], max(1, size // 2))


def ingest(feeds_file: str | None = None, db_path: str | None = None, settings: Settings | None = None,
           return_state: bool = False, shard: str | None = None) -> dict | State:
    """Run the ingest flow from Python with a whole Settings object; returns the run summary (its
    `status` says completed, partial or failed), or the final Prefect state with `return_state`.

    A skipped run (another run holds the warehouse) raises CancelledRun; a crash raises.
    """
    if settings is not None:  # the run's parameters (shown by Prefect) name its feeds, warehouse and shard
        feeds_file, db_path = feeds_file or str(settings.feeds_file), db_path or str(settings.db_path)
        shard = shard or settings.shard or None
    with using_settings(settings):
        state = ingest_flow(feeds_file=feeds_file, db_path=db_path, shard=shard, return_state=True)
    if return_state:
        return state
    if state.is_cancelled():
        return state.result()  # raises CancelledRun with the reason
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException):
        raise result
    return result


@flow(name="pressbox-ingest", log_prints=True)
def ingest_flow(feeds_file: str | None = None, db_path: str | None = None, shard: str | None = None) -> State:
    """One ingest run over every configured feed (or, with `shard` "I/N", over the feeds of shard I
    of N: tasks/shard.py); ends Completed, Completed named Partial, or Failed, each carrying the run
    summary.

    When another run holds the warehouse, the run is skipped: its state is Cancelled with the
    reason, never Failed.
    """
    settings = run_settings(feeds_file=feeds_file, db_path=db_path, shard=shard)
    quiet_third_party_loggers()
    from tasks.pool import start_fork_server

    start_fork_server()  # workers' imports, in the background while feeds are fetched (no-op if running)
    log = get_run_logger()
    db = lake.target(settings)  # a DuckDB file or a DuckLake (PRESSBOX_WAREHOUSE)
    shard = parse_shard(settings.shard)
    feeds = shard_feeds(load_feeds_file(Path(settings.feeds_file)), shard)
    if shard:
        log.info("shard %s: %d feed(s)", shard.spec, len(feeds))
    version = tagger_version(settings.spacy_model)
    summary = RunSummary(run_id=uuid.uuid4().hex)
    with contextlib.ExitStack() as stack:
        if skipped := hold_warehouse(stack, db, settings.run_lock_wait, shard=settings.shard,
                                     scope=str(Path(settings.feeds_file).resolve())):
            return skipped
        stack.enter_context(load.held(db, wait=settings.load_wait))  # one connection for the run
        stack.enter_context(executor.warm(settings))  # a Dask LocalCluster starts while feeds are fetched
        states = prepare_warehouse(db, feeds)
        load.start_run(db, summary.run_id, str(flow_run.id or ""), pressbox.__version__, version, settings.shard)
        try:
            _run(settings, db, feeds, states, summary, log)
            summary.status = outcome(len(feeds), summary.counts)
            summary.top_entities = _top_entities(db, summary.written)
        except Exception as exc:
            summary.status, summary.error = "failed", f"{type(exc).__name__}: {exc}"
            log.error("run failed: %s", summary.error)
            raise
        finally:
            if c := summary.counts["batches_staged"]:
                summary.notes.append(f"{c} batch(es) staged in {load.staging_dir(db)}: the warehouse was busy")
            if summary.status != "completed" and not summary.error:
                summary.error = _why(summary)
            try:
                load.finish_run(db, summary.run_id, summary.status, summary.counts, summary.error)
                if settings.publish_snapshot:  # last, so analysts see the run's own row complete
                    load.publish_snapshot(db)
            except load.WarehouseBusy as exc:  # the run's own row cannot be written now; say so
                log.error("could not record the run's end: %s", exc)
            _artifact(summary)
    if summary.status != "completed":
        log.warning("run %s: %s", summary.status, summary.error)
    return final_state(summary.status, summary.as_dict(), summary.error or "")


def _why(summary: RunSummary) -> str:
    """One line on what made a run partial or failed."""
    c = summary.counts
    parts = []
    if c["feeds_failed"]:
        parts.append(f"{c['feeds_failed']} of {len(summary.feeds)} feeds failed")
    if c["batches_staged"]:
        parts.append(f"{c['batches_staged']} batch(es) staged, not loaded (the warehouse was busy)")
    return "; ".join(parts)


def _top_entities(db: Path, mentions: Counter) -> list[tuple[str, str, int]]:
    """The sports entities most mentioned in the articles this run wrote (from the run's own
    counts: the cost follows the run, not the warehouse)."""
    return load.top_entities(db, mentions, ("TEAM", "COACH", "PLAYER", "COMPETITION", "VENUE"))


def _tally(summary: RunSummary, counts: load.LoadCounts) -> None:
    """Add a load's counts to the run's (as they happen: a failed run still reports what it loaded)."""
    c = summary.counts
    for name in ("new", "updated", "unchanged", "failed"):
        c[f"articles_{name}"] += getattr(counts, name)
    c["mentions"] += counts.mentions
    summary.written.update(counts.entities)


def _run(settings: Settings, db: Path, feeds: list[FeedConfig], states: dict[str, FeedState],
         summary: RunSummary, log) -> None:
    c = summary.counts
    stop_at = time.monotonic() + settings.run_budget  # the run's wall-clock budget for its pages
    report = progress.current()
    report.feeds(len(feeds))
    with Fetcher(settings) as fetcher:
        futures = [fetch_feed.submit(f, states.get(f.feed_id), fetcher, settings.max_entries_per_feed) for f in feeds]
        results: list[FeedResult] = []
        for fut in futures:
            results.append(fut.result())
            report.feed_done(results[-1].feed_id, results[-1].status)
        for r in results:
            c["feeds_ok" if r.status == "ok" else "feeds_not_modified" if r.status == "not_modified"
              else "feeds_failed"] += 1
            msg = r.error.message if r.error else (f"bozo: {r.bozo}" if r.bozo else "")
            log.info("feed %s: %s, %d items %s", r.feed_id, r.status, r.items_seen, msg)
            summary.feeds.append({"feed_id": r.feed_id, "status": r.status, "http_status": r.http_status,
                                  "items": r.items_seen, "error": r.error.message if r.error else None})
        c["entries_new"] = load.record_feeds(db, summary.run_id, results)
        staged = load.load_staged(db, settings.max_attempts, wait=settings.load_wait,
                                  story_params=story_params(settings))
        if staged.new or staged.updated or staged.failed:
            log.info("loaded batches staged by an earlier run: %d new, %d updated", staged.new, staged.updated)
        _tally(summary, staged)
        todo = load.pending_entries(db, [f.feed_id for f in feeds], settings.max_attempts)
        # every run extracts and tags away from this process (a crash costs only its page): in a worker
        # pool (one process for a small run) or on a Dask cluster
        workers = max(1, settings.workers if len(todo) >= settings.parallel_min_articles else 1)
        report.articles(len(todo))
        done = 0
        # A pipeline: while one batch is extracted and tagged, the next is fetched; loads stay in this
        # process, one transaction per batch, in order.
        with executor.make_executor(settings, workers, pages=len(todo)) as pool:
            log.info("%d article pages to fetch in batches of %d%s", len(todo), settings.batch_size,
                     executor.describe(settings, pool))
            in_flight: deque = deque()
            batches = enumerate(_batches(todo, settings.batch_size, workers))
            while True:
                for seq, batch in batches:
                    if time.monotonic() > stop_at:  # the rest stay pending, untried: the next run takes them
                        left = len(todo) - done - sum(len(b) for _, b, _ in in_flight)
                        summary.notes.append(f"run budget of {settings.run_budget:g}s spent: {left} page(s) "
                                             "left pending for the next run")
                        log.warning(summary.notes[-1])
                        batches = iter(())
                        break
                    fetched = fetch_pages.submit(batch, fetcher)
                    in_flight.append((seq, batch, extract_tag_batch.submit(batch, fetched, settings, pool)))
                    if len(in_flight) > getattr(pool, "slots", workers):  # a Dask cluster's cores
                        break
                if not in_flight:
                    break
                seq, batch, future = in_flight.popleft()
                tagged, failures = future.result()
                counts = load_batch(db, summary.run_id, seq, tagged, failures, settings)
                done += len(batch)
                report.articles_done(len(batch))
                if counts is None:
                    c["batches_staged"] += 1
                    continue
                _tally(summary, counts)
                log.info("articles %d/%d: %d new, %d updated, %d failed", done, len(todo), counts.new,
                         counts.updated, counts.failed)
    load.refresh_views(db)
    # the articles this run loaded (or staged runs before it), not the warehouse: see tasks/search.py
    why = load.update_search_index(db, rebuild=settings.rebuild_search)
    if why:
        summary.notes.append(why)
        log.warning(why)


def _artifact(summary: RunSummary) -> None:
    c = summary.counts
    lines = [
        f"# pressbox run `{summary.run_id}`: {summary.status}",
        "",
        f"feeds ok {c['feeds_ok']}, not modified {c['feeds_not_modified']}, failed {c['feeds_failed']}; "
        f"articles new {c['articles_new']}, updated {c['articles_updated']}, failed {c['articles_failed']}; "
        f"mentions {c['mentions']}; batches staged (not loaded: the warehouse was busy) {c['batches_staged']}",
        "",
        "| feed | status | HTTP | items | error |",
        "|---|---|---|---|---|",
    ]
    for f in summary.feeds:
        lines.append(f"| {f['feed_id']} | {f['status']} | {f['http_status'] or ''} | {f['items']} | "
                     f"{(f['error'] or '').replace('|', '/')[:120]} |")
    if summary.top_entities:
        lines += ["", "| top entity in this run's articles | label | mentions |", "|---|---|---|"]
        lines += [f"| {n} | {lbl} | {k} |" for n, lbl, k in summary.top_entities]
    lines += [f"- {note}" for note in summary.notes]
    if summary.error:
        lines += ["", f"**Error:** {summary.error}"]
    try:
        create_markdown_artifact(key="pressbox-run", markdown="\n".join(lines), description="pressbox ingest run")
    except Exception as exc:  # noqa: BLE001 - the artifact is a courtesy; the runs row is the record
        get_run_logger().warning("could not write the run artifact: %s", exc)
