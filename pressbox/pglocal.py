"""A throwaway PostgreSQL server for tests and benchmarks: `initdb` + `pg_ctl` in a temporary
directory, listening on 127.0.0.1 at a free port, removed when stopped.

It uses the server binaries of Debian's `postgresql` package (`make install` installs it when
missing). PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user
(or `nobody`) through `runuser`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def server_bin_dir() -> Path:
    """The folder of `initdb` and `pg_ctl`: Debian keeps them in /usr/lib/postgresql/<major>/bin."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    if initdb := shutil.which("initdb"):
        return Path(initdb).resolve().parent
    raise PostgresUnavailable("PostgreSQL is not installed (Debian: apt-get install postgresql; `make install` "
                              "does it as root)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalPostgres:
    """`with LocalPostgres() as pg:` a running server; `pg.conninfo(db)` for libpq, `pg.create_database(name)`."""

    def __init__(self, user: str = "pressbox") -> None:
        self.bin = server_bin_dir()
        self.user = user  # the database superuser (trust authentication: local tests only)
        self.port = free_port()
        self.dir: Path | None = None
        self._run_as: list[str] = []

    # -- lifecycle
    def start(self) -> LocalPostgres:
        self.dir = Path(tempfile.mkdtemp(prefix="pressbox-pg-"))
        if os.geteuid() == 0:  # initdb and postgres refuse root: run them as an unprivileged user
            owner = _unprivileged_user()
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self._run_as = ["runuser", "-u", owner.pw_name, "--"]
        data = self.dir / "data"
        self._pg("initdb", "-D", str(data), "-U", self.user, "--auth=trust", "--no-sync", "-E", "UTF8",
                 "--locale=C")
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.dir} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        try:
            self._pg("pg_ctl", "-D", str(data), "-o", opts, "-l", str(self.dir / "server.log"), "-w", "-t", "60",
                     "start")
        except subprocess.CalledProcessError:
            log = (self.dir / "server.log").read_text(errors="replace")[-2000:] if (self.dir / "server.log").exists() \
                else ""
            self.stop()
            raise RuntimeError(f"PostgreSQL did not start: {log}") from None
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its directory."""
        if self.dir is None:
            return
        data = self.dir / "data"
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._pg("pg_ctl", "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- use
    def conninfo(self, dbname: str = "postgres") -> str:
        """A libpq connection string (what DuckDB's postgres extension and DuckLake take)."""
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={dbname}"

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its connection string."""
        self._pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        return self.conninfo(name)

    def _pg(self, program: str, *args: str) -> None:
        subprocess.run([*self._run_as, str(self.bin / program), *args], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.dir, timeout=120)


def _unprivileged_user() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PostgresUnavailable("running as root and neither a `postgres` nor a `nobody` user exists")
