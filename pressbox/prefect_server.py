"""The Prefect API a pressbox process talks to: PREFECT_API_URL when set, else a server of its own.

Prefect's in-process ephemeral API runs no scheduler (so `serve` never fired), shares one SQLite
home between every process on the machine, and outlives a SIGKILLed parent. Instead each pressbox
process that runs flows starts its own API server as a child on a free port, tied to it by a
parent-death signal (so it dies even when pressbox is SIGKILLed), and stops it on the way out.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

# Runs in the child between fork and exec: PR_SET_PDEATHSIG survives exec, so the server it
# becomes is killed with its parent. If the parent died before prctl took effect, exit at once.
_EXEC_WITH_PARENT_DEATH_SIGNAL = """
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    os._exit(1)
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


DB_FILES = ("prefect.db", "prefect.db-wal")  # Prefect's SQLite database in its home


class ApiUnavailable(RuntimeError):
    """No Prefect API to run flows against; the message is one line saying what to do."""


@dataclass
class LocalServer:
    """A Prefect API server this process started (and will stop)."""

    process: subprocess.Popen
    port: int
    home: Path
    log: Path

    @property
    def api_url(self) -> str:
        """What PREFECT_API_URL must be for clients of this server."""
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        """Where the Prefect UI is served (when the server serves it)."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it has not gone within `timeout`; always reaped."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configured_api_url() -> str | None:
    """The API the user pointed Prefect at (environment, profile, or settings already in force)."""
    if url := os.environ.get("PREFECT_API_URL"):
        return url
    if "prefect.settings" in sys.modules:
        from prefect.settings import get_current_settings

        return get_current_settings().api.url
    return None


def check_reachable(api_url: str, timeout: float = 5.0) -> None:
    """Raise ApiUnavailable unless `api_url` answers Prefect's health check."""
    try:
        ok = httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError as exc:
        raise ApiUnavailable(
            f"PREFECT_API_URL={api_url} is not reachable ({type(exc).__name__}); start that Prefect server, "
            "or unset PREFECT_API_URL to let pressbox start its own"
        ) from None
    if not ok:
        raise ApiUnavailable(f"PREFECT_API_URL={api_url} does not answer Prefect's /health; is it a Prefect API?")


def start_server(home: Path, *, scheduler: bool, timeout: float,
                 while_starting: Callable[[], object] | None = None) -> LocalServer:
    """Start a Prefect API server on a free port with its database in `home`; wait until healthy.

    `scheduler` starts Prefect's services and UI too (`prefect server start`, what `serve` needs);
    without it the server is the same bare API Prefect's ephemeral mode runs. `while_starting`
    runs while the server boots (imports that would otherwise wait for it). Raises ApiUnavailable
    (server stopped) if it is not healthy within `timeout` seconds.
    """
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    if scheduler:
        args = ["-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        extra = {"PREFECT_SERVER_LOGGING_LEVEL": "WARNING"}
    else:
        import prefect  # only to find its package directory

        args = ["-m", "uvicorn", "--app-dir", str(Path(prefect.__file__).parent.parent), "--factory",
                "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "error", "--lifespan", "on"]
        extra = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(extra, PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    log = home / "server.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", _EXEC_WITH_PARENT_DEATH_SIGNAL, str(os.getpid()), *args],
            env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )
    server = LocalServer(proc, port, home, log)
    deadline = time.monotonic() + timeout
    if while_starting is not None:
        try:
            while_starting()
        except BaseException:
            server.stop()
            raise
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
            raise ApiUnavailable(f"the local Prefect server exited at start ({tail[0][:200]}); see {log}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.api_url}/health", timeout=2.0).status_code == 200:
                return server
        time.sleep(0.25)
    server.stop()
    raise ApiUnavailable(f"the local Prefect server did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def prefect_api(home: Path | None, *, scheduler: bool, timeout: float, retries: int = 1,
                while_starting: Callable[[], object] | None = None,
                template: Path | None = None) -> Iterator[str | None]:
    """Make a Prefect API available for the block; yields the URL of a server this process
    started, or None when PREFECT_API_URL already names one (checked reachable first).

    `home` keeps the server's SQLite database across runs (`serve`, so the UI has history); None
    means a temporary one removed afterwards (one-off runs: nothing shared with other processes),
    started from a copy of `template` (a database already migrated: a third of the start-up),
    which the first such run leaves behind.
    """
    if configured := configured_api_url():
        check_reachable(configured)
        yield None
        return
    with contextlib.ExitStack() as stack:
        if home is None:
            home = Path(tempfile.mkdtemp(prefix="pressbox-prefect-"))
            stack.callback(shutil.rmtree, home, ignore_errors=True)
            if template is not None and template.is_dir():
                for name in DB_FILES:
                    if (template / name).exists():
                        shutil.copyfile(template / name, home / name)
            elif template is not None:
                stack.callback(_keep_as_template, home, template)  # after the server has stopped
        server = None
        for attempt in range(retries + 1):
            try:
                server = start_server(home, scheduler=scheduler, timeout=timeout,
                                      while_starting=while_starting if attempt == 0 else None)
                break
            except ApiUnavailable as exc:
                if attempt == retries:
                    raise ApiUnavailable(
                        f"{exc} ({retries + 1} tries); on a busy machine raise PRESSBOX_PREFECT_STARTUP_TIMEOUT, "
                        "or set PREFECT_API_URL to a running Prefect server (`prefect server start`)"
                    ) from None
        assert server is not None
        stack.callback(server.stop)
        stack.callback(_drain_prefect_workers)  # runs first: logs and events reach the server before it stops
        with _api_url_set(server.api_url):
            yield server.api_url


def _keep_as_template(home: Path, template: Path) -> None:
    """Keep a stopped server's database (with its write-ahead log: the process is gone, so the
    pair is consistent and SQLite recovers it on open) as the template of later temporary servers."""
    files = [home / name for name in DB_FILES if (home / name).exists()]
    if not files or template.exists():
        return
    tmp = template.with_name(f".{template.name}.{os.getpid()}.tmp")
    try:
        tmp.mkdir(parents=True)
        for f in files:
            shutil.copyfile(f, tmp / f.name)
        os.rename(tmp, template)  # atomic; fails if another process made one meanwhile
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def _drain_prefect_workers(timeout: float = 10.0) -> None:
    """Send Prefect's queued logs and events now, while the server is still up."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with contextlib.suppress(Exception):  # a courtesy: the runs table is the record
            worker.drain_all(timeout=timeout)


@contextlib.contextmanager
def _api_url_set(url: str) -> Iterator[None]:
    """PREFECT_API_URL for this process (and for the flow-run processes `serve` starts)."""
    old = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    try:
        if "prefect" in sys.modules:  # Prefect already read its settings: override them in place too
            from prefect.settings import PREFECT_API_URL, temporary_settings

            with temporary_settings({PREFECT_API_URL: url}):
                yield
        else:
            yield
    finally:
        if old is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = old


def stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt, so `with` blocks unwind and the server is stopped."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
