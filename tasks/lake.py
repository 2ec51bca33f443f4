"""DuckLake: the warehouse as a lakehouse that several runs (on several machines) commit to at once.

`PRESSBOX_WAREHOUSE=ducklake:sqlite:PATH` or `ducklake:postgres:CONNINFO` (DuckDB's own ATTACH
spelling) selects it; the Parquet files go to `PRESSBOX_LAKE_DATA_PATH` (a folder or an object-store
URL). tasks/load.py runs the same SQL on it as on a DuckDB file: `connect` attaches the lake and
makes it the default database. What differs is here:

- the schema comes from the same migrations, with what DuckLake lacks stripped (primary keys,
  unique constraints, indexes) and boolean defaults spelled as literals;
- DuckLake lets two transactions insert the same key into a table at once (appends never
  conflict), so every write transaction also bumps the one row of `_lake_writes`: two writes that
  overlap in time conflict at commit, and the loser is re-run whole (`retry_conflicts`) on the
  rows the winner committed. Batches are computed in parallel; their commits are serialised;
- maintenance (merge small files, expire old snapshots, delete unreferenced files) is a call of
  the nightly maintenance flow.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # duckdb is imported where used: `pressbox search` on a lake never loads it
    import duckdb

    from pressbox.settings import Settings

PREFIX = "ducklake:"
ALIAS = "lake"  # the name the lake is attached under in every connection
CATALOGS = {"sqlite": "sqlite_scanner", "postgres": "postgres_scanner"}
REMOTE_SCHEMES = ("s3://", "gs://", "gcs://", "r2://", "az://", "azure://", "abfss://", "http://", "https://")
# what a commit that lost to another writer says (DuckLake's own conflict check, a SQLite catalog's lock)
CONFLICTS = ("Transaction conflict", "Failed to commit DuckLake transaction", "database is locked",
             "could not serialize access", "violates primary key constraint", "Conflict on tuple deletion")
T = TypeVar("T")


@dataclass(frozen=True)
class Lake:
    """A DuckLake warehouse: its catalog (`spec`), where its Parquet files go, and this machine's own
    files for it (run locks, staged batches, the search index) in `local`."""

    spec: str
    data_path: str | None
    local: Path

    @property
    def catalog(self) -> str:
        """sqlite or postgres."""
        return self.spec[len(PREFIX):].split(":", 1)[0]

    def __str__(self) -> str:  # logs and messages: never a password of the connection string
        return re.sub(r"(password\s*=\s*)\S+", r"\1***", self.spec)


def is_lake(target: object) -> bool:
    """Is this warehouse a DuckLake (rather than a DuckDB file)?"""
    return isinstance(target, Lake)


def is_lake_spec(spec: object) -> bool:
    """Is this setting's value a `ducklake:` catalog?"""
    return isinstance(spec, str) and spec.startswith(PREFIX)


def parse(spec: str, data_path: str | None = None, home: Path | None = None) -> Lake:
    """A Lake from `ducklake:sqlite:PATH` / `ducklake:postgres:CONNINFO`.

    A SQLite catalog keeps its Parquet files in `PATH.files/` unless told, and this machine's files
    beside it; a Postgres catalog needs `data_path` when the lake is created (DuckLake stores it in
    the catalog), and keeps this machine's files under `home/lake/`.
    """
    kind, _, rest = spec[len(PREFIX):].partition(":")
    if kind not in CATALOGS or not rest.strip():
        raise ValueError(f"warehouse {spec!r}: expected ducklake:sqlite:PATH or ducklake:postgres:CONNINFO")
    if kind == "sqlite":
        path = Path(rest).expanduser().resolve()
        spec = f"{PREFIX}sqlite:{path}"
        return Lake(spec, data_path or f"{path}.files/", Path(f"{path}.local"))
    home = Path(home) if home else Path.cwd() / ".pressbox"
    return Lake(spec, data_path or None, home / "lake" / hashlib.sha1(spec.encode()).hexdigest()[:12])


def target(settings: Settings) -> Path | Lake:
    """The warehouse a run writes: `warehouse` when set (a file or a lake), else `db_path`."""
    spec = settings.warehouse or str(settings.db_path)
    if is_lake_spec(spec):
        return parse(spec, settings.lake_data_path or None, settings.home)
    return Path(spec)


# -- connections ---------------------------------------------------------------------------------
def load_extensions(con: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    """DuckLake and its catalog's scanner from the pinned PyPI packages: nothing is downloaded."""
    from duckdb_extensions import import_extension

    names = ["ducklake", CATALOGS[lake.catalog]]
    if (lake.data_path or "").startswith(REMOTE_SCHEMES):
        names.append("httpfs")  # pip install duckdb-extension-httpfs==<duckdb's version>
    for name in names:
        import_extension(name, con=con)
        con.execute(f"LOAD {name}")


# One in-memory DuckDB per lake and process, the lake attached: loading the extensions and attaching
# the catalog takes ~0.5-1 s, so each `connect` is a cursor of it (its own transactions and
# settings). A forked child never uses (nor closes) its parent's: it would share the catalog socket.
_BASES: dict[tuple[Lake, bool], duckdb.DuckDBPyConnection] = {}
_FORKED: list[duckdb.DuckDBPyConnection] = []


def _forget_bases_in_child() -> None:
    _FORKED.extend(_BASES.values())
    _BASES.clear()


os.register_at_fork(after_in_child=_forget_bases_in_child)


def connect(lake: Lake, *, read_only: bool = False, fresh: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection whose default database is the lake (unqualified table names are the lake's):
    a cursor of this process's attached lake (attached read-only for `read_only`), or with `fresh`
    a DuckDB of its own (a sandboxed analyst's). Every transaction reads the last committed snapshot."""
    if not fresh:
        base = _BASES.get((lake, read_only))
        if base is None:
            base = _BASES[lake, read_only] = _open(lake, read_only=read_only)
        cur = base.cursor()
        cur.execute(f"USE {ALIAS}")
        return cur
    return _open(lake, read_only=read_only)


def _open(lake: Lake, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    import duckdb

    lake.local.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"extension_directory": str(lake.local / ".duckdb-extensions")})
    try:
        load_extensions(con, lake)
        options = []
        if lake.data_path and not read_only:
            if not lake.data_path.startswith(REMOTE_SCHEMES):
                Path(lake.data_path).mkdir(parents=True, exist_ok=True)
            options.append(f"DATA_PATH {_literal(lake.data_path)}")
        if read_only:
            options.append("READ_ONLY")
        opts = f" ({', '.join(options)})" if options else ""
        # the first writers of a new lake create its catalog tables at once: one wins, the others retry
        retry_conflicts(lambda: con.execute(f"ATTACH {_literal(lake.spec)} AS {ALIAS}{opts}"), attempts=10,
                        markers=(*CONFLICTS, "already exists", "duplicate key"))
        con.execute(f"USE {ALIAS}")
    except BaseException:
        con.close()
        raise
    return con


def data_directory(con: duckdb.DuckDBPyConnection) -> str | None:
    """The lake's data path as its catalog records it (what a sandboxed reader may still read)."""
    rows = con.execute("SELECT value FROM ducklake_options(?) WHERE option_name = 'data_path'", [ALIAS]).fetchall()
    return rows[0][0] if rows else None


def sandbox(con: duckdb.DuckDBPyConnection) -> None:
    """Like load.sandbox, but the lake's own Parquet files stay readable."""
    if path := data_directory(con):
        con.execute("SET allowed_directories = [?]", [path])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def begin_write(con: duckdb.DuckDBPyConnection) -> None:
    """Called right after BEGIN of every write: claim the write token (see the module's doc)."""
    con.execute("UPDATE _lake_writes SET writes = writes + 1, last_write_at = ?", [datetime.now(UTC)])


def is_conflict(exc: BaseException, markers: tuple[str, ...] = CONFLICTS) -> bool:
    """Did a commit lose to a concurrent writer (so the transaction may be re-run)?"""
    import duckdb

    return isinstance(exc, duckdb.Error) and any(m in str(exc) for m in markers)


def retry_conflicts(body: Callable[[], T], attempts: int = 30, first_delay: float = 0.05,
                    max_delay: float = 2.0, markers: tuple[str, ...] = CONFLICTS) -> T:
    """Run `body` (one whole transaction); when its commit conflicts with another writer's, run it
    again from the start after a random back-off, up to `attempts` times."""
    import duckdb

    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return body()
        except duckdb.Error as exc:
            if not is_conflict(exc, markers) or attempt == attempts:
                raise
            time.sleep(random.uniform(0, delay))
            delay = min(delay * 2, max_delay)
    raise AssertionError("unreachable")


# -- schema --------------------------------------------------------------------------------------
def lake_sql(sql: str) -> str:
    """A migration's SQL as DuckLake takes it: no primary keys, unique constraints or indexes (the
    loader keeps the keys: MERGE INTO, delete-then-insert), boolean defaults as literals."""
    sql = re.sub(r"--[^\n]*", "", sql)
    sql = re.sub(r",\s*PRIMARY\s+KEY\s*\([^)]*\)", "", sql, flags=re.I)
    sql = re.sub(r",\s*UNIQUE\s*\([^)]*\)", "", sql, flags=re.I)
    sql = re.sub(r"\s+PRIMARY\s+KEY\b", "", sql, flags=re.I)
    sql = re.sub(r"\s+UNIQUE\b(?!\s*INDEX)", "", sql, flags=re.I)
    sql = re.sub(r"CREATE\s+(UNIQUE\s+)?INDEX[^;]*;", "", sql, flags=re.I)
    sql = re.sub(r"\bDEFAULT\s+(TRUE|FALSE)\b", lambda m: f"DEFAULT '{m.group(1).lower()}'", sql, flags=re.I)
    return sql


def migrate(con: duckdb.DuckDBPyConnection, directory: Path) -> list[str]:
    """Apply the numbered migrations not yet recorded, all in one transaction (one snapshot); two
    runs migrating one new lake at once conflict, and the loser finds the work done."""
    import duckdb

    def bootstrap() -> None:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR, applied_at TIMESTAMPTZ)")
            con.execute("CREATE TABLE IF NOT EXISTS _lake_writes (writes BIGINT, last_write_at TIMESTAMPTZ)")
            if not con.execute("SELECT count(*) FROM _lake_writes").fetchone()[0]:
                con.execute("INSERT INTO _lake_writes VALUES (0, NULL)")
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT has already rolled back
                con.execute("ROLLBACK")
            raise

    retry_conflicts(bootstrap)

    def apply() -> list[str]:  # all pending migrations in one transaction: one snapshot, not one each
        con.execute("BEGIN TRANSACTION")
        try:
            done = {r[0] for r in con.execute("SELECT name FROM _migrations").fetchall()}
            todo = [p for p in sorted(directory.glob("*.sql")) if p.name not in done]
            if todo:
                begin_write(con)
            for path in todo:
                con.execute(lake_sql(path.read_text(encoding="utf-8")))
                con.execute("INSERT INTO _migrations VALUES (?, ?)", [path.name, datetime.now(UTC)])
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
        return [p.name for p in todo]

    return retry_conflicts(apply)


# -- maintenance ---------------------------------------------------------------------------------
def data_files(con: duckdb.DuckDBPyConnection) -> int:
    """How many Parquet data files the lake's current snapshot reads."""
    total = 0
    for (table,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [ALIAS]).fetchall():
        total += con.execute("SELECT count(*) FROM ducklake_list_files(?, ?)", [ALIAS, table]).fetchone()[0]
    return total


def maintain(lake: Lake, keep_days: float = 7.0) -> dict[str, int]:
    """Nightly: flush rows inlined in the catalog to Parquet, rewrite files with many deleted rows,
    merge adjacent small files, expire snapshots older than `keep_days` (time travel reaches that
    far back) and delete the files no snapshot references any more. Returns the data files before
    (inlined rows flushed) and after."""
    con = connect(lake, fresh=True)
    try:
        retry_conflicts(lambda: con.execute(f"CALL ducklake_flush_inlined_data('{ALIAS}')").fetchall())
        before = data_files(con)
        older = f"older_than => now() - INTERVAL '{float(keep_days) * 24:g} hours'"
        for sql in (f"CALL ducklake_rewrite_data_files('{ALIAS}')",
                    f"CALL ducklake_merge_adjacent_files('{ALIAS}')",
                    f"CALL ducklake_expire_snapshots('{ALIAS}', {older})",
                    f"CALL ducklake_cleanup_old_files('{ALIAS}', {older})"):
            retry_conflicts(lambda sql=sql: con.execute(sql).fetchall())
        return {"files_before": before, "files_after": data_files(con)}
    finally:
        con.close()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
