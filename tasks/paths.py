"""The files beside a warehouse, named without importing DuckDB (a search need not load it)."""

from __future__ import annotations

from pathlib import Path


def snapshot_path(db_path: Path | str) -> Path:
    """The read-only copy analysts open: `<db>.read.duckdb` beside the warehouse."""
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}.read{db_path.suffix or '.duckdb'}")
