"""Shared fixtures: offline Prefect, a local site on 127.0.0.1, settings, and the shared corpus."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

# Prefect reads its settings at import: keep it offline and away from the user's ~/.prefect.
_PREFECT_HOME = tempfile.mkdtemp(prefix="pressbox-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
for key in [k for k in os.environ if k.startswith("PRESSBOX_")]:
    del os.environ[key]  # tests state every setting they rely on
# Every process this session starts inherits this mark; at the end none may still be alive.
SESSION_MARK = f"PBX_TEST_SESSION={os.getpid()}-{os.urandom(4).hex()}"
os.environ["PBX_TEST_SESSION"] = SESSION_MARK.split("=", 1)[1]

import pytest  # noqa: E402

from pressbox.localsite import LocalSite, Route  # noqa: E402
from pressbox.settings import Settings, get_settings  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
CORPUS = SHARED / "corpus"
SITE_DIR = Path(__file__).resolve().parent / "site"


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test harness (a temporary API and database) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def postgres():
    """One real PostgreSQL server (initdb + pg_ctl on 127.0.0.1) for the whole session; each test
    creates its own database in it (`postgres.create_database(name)`). Skips without PostgreSQL."""
    from pressbox.pglocal import LocalPostgres, PostgresUnavailable

    try:
        server = LocalPostgres().start()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def site():
    """A fresh local site; add routes with site.add(path, Route(...))."""
    with LocalSite() as s:
        yield s


@pytest.fixture
def settings_for(tmp_path):
    """Build settings for a test: loopback allowed, fast politeness, a temp warehouse."""

    def make(**overrides) -> Settings:
        base = dict(
            db_path=tmp_path / "wh.duckdb",
            allow_private_hosts="127.0.0.1",
            per_host_interval=0.0,
            per_host_concurrency=4,
            connect_timeout=2.0,
            read_timeout=2.0,
            request_deadline=5.0,
        )
        base.update(overrides)
        return get_settings(**base)

    return make


def site_file(name: str) -> bytes:
    """A written fixture from tests/site."""
    return (SITE_DIR / name).read_bytes()


def corpus_dir(sub: str) -> Path:
    """A folder of ../shared/corpus, or skip the test when the corpus is absent."""
    path = CORPUS / sub
    if not path.is_dir():
        pytest.skip(f"shared corpus not available at {path}")
    return path


__all__ = ["Route", "corpus_dir", "site_file", "SHARED"]


def marked_processes(mark: str = SESSION_MARK) -> dict[int, str]:
    """Live processes (other than this one) whose environment carries `mark`: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if mark.encode() in (entry / "environ").read_bytes().split(b"\0"):
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                stat = (entry / "stat").read_text()
                if stat.rsplit(")", 1)[1].split()[0] != "Z":  # a zombie is dead, only not yet reaped
                    found[int(entry.name)] = cmd.strip()[:160]
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if a process it started outlives it (servers, workers, sites)."""
    import multiprocessing.forkserver
    import multiprocessing.resource_tracker

    # this process's own helpers end with it anyway (at exit); stop them now so they are not counted
    multiprocessing.forkserver._forkserver._stop()
    multiprocessing.resource_tracker._resource_tracker._stop()
    if "prefect.server.api.server" in sys.modules:  # an ephemeral API a flow called without a harness started
        from prefect.server.api.server import SubprocessASGIServer

        for server in list(SubprocessASGIServer._instances.values()):
            server.stop()
    deadline = time.monotonic() + 15
    while (left := marked_processes()) and time.monotonic() < deadline:
        time.sleep(0.5)
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = [f"{len(left)} process(es) started by the tests are still alive:"]
        lines += [f"  pid {pid}: {cmd}" for pid, cmd in sorted(left.items())]
        if reporter:
            reporter.write_line("\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
