"""The scheduled deployments `pressbox serve` runs: ingest (every 15 minutes) and nightly retag."""

from __future__ import annotations

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.client.schemas.schedules import CronSchedule

from flows.ingest import ingest_flow
from flows.retag import retag_flow
from pressbox.settings import Settings

# `prefect deploy --all` (prefect.yaml) creates `scheduled-pool` and `nightly-pool`: the two ways
# of deploying never overwrite each other's deployments on one server.
INGEST = "pressbox-ingest/scheduled"
RETAG = "pressbox-retag/nightly"

# One run at a time per deployment (so per shard): a tick that collides with a running flow is cancelled
# (skipped), never queued up behind it; the warehouse's run lock guards everything else.
ONE_AT_A_TIME = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)


def ingest_name(shard: str = "") -> str:
    """The ingest deployment's name: `scheduled`, or `scheduled-shard-I-of-N` for a shard (one
    Prefect server then holds every shard's deployment, each with its own one-at-a-time limit)."""
    from tasks.shard import parse_shard

    parsed = parse_shard(shard)
    return f"scheduled-{parsed.slug}" if parsed else "scheduled"


def build_deployments(settings: Settings) -> list:
    """RunnerDeployments for `prefect.serve`, configured by settings."""
    params = {"feeds_file": str(settings.feeds_file), "db_path": str(settings.db_path)}
    ingest_params = {**params, "shard": settings.shard or None}
    return [
        ingest_flow.to_deployment(
            name=ingest_name(settings.shard),
            schedule=CronSchedule(cron=settings.ingest_cron, timezone=settings.timezone),
            parameters=ingest_params,
            concurrency_limit=ONE_AT_A_TIME,
            description="Fetch the feeds, extract, tag and load new articles.",
            tags=["pressbox"],
        ),
        retag_flow.to_deployment(
            name="nightly",
            schedule=CronSchedule(cron=settings.maintenance_cron, timezone=settings.timezone),
            parameters={"db_path": str(settings.db_path)},
            concurrency_limit=ONE_AT_A_TIME,
            description="Re-tag articles tagged by an older tagger (newest first, within a time budget); "
                        "checkpoint, refresh views and the snapshot.",
            tags=["pressbox"],
        ),
    ]
