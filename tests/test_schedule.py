"""Scheduled, observable operation: retag, status, progress, and `pressbox serve` against a real
Prefect server (an integration test that starts `prefect server start` on 127.0.0.1)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
import yaml
from conftest import Route
from typer.testing import CliRunner

from flows.ingest import ingest
from flows.retag import retag
from pressbox import progress, sample_site
from pressbox.cli import app
from pressbox.localsite import LocalSite
from pressbox.settings import ROOT
from tasks import load

BIN = ROOT / ".venv" / "bin"


@pytest.fixture
def demo(tmp_path):
    with LocalSite(sample_site.routes()) as site:
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(sample_site.feeds_toml(site.base_url))
        yield site, feeds


@pytest.mark.usefixtures("prefect_harness")
def test_retag_replaces_stale_mentions_only(demo, settings_for):
    _, feeds = demo
    s = settings_for(feeds_file=feeds)
    ingest(settings=s)
    before = load.query(s.db_path, "SELECT count(*) FROM mentions")[1][0][0]
    assert retag(settings=s)["retagged"] == 0  # all current
    with load.transaction(s.db_path) as con:
        con.execute("UPDATE articles SET tagger_version = 'r0-old' WHERE feed_id = 'demo-rugby'")
    result = retag(settings=s)
    assert result["retagged"] == 4
    assert load.query(s.db_path, "SELECT count(*) FROM mentions")[1][0][0] == before  # replaced, not added
    assert load.query(s.db_path, "SELECT count(DISTINCT tagger_version) FROM articles")[1] == [(1,)]


@pytest.mark.usefixtures("prefect_harness")
def test_nightly_retag_goes_newest_first_in_chunks_within_its_budget(demo, settings_for):
    _, feeds = demo
    s = settings_for(feeds_file=feeds, retag_chunk=2, workers=1)
    ingest(settings=s)
    with load.transaction(s.db_path) as con:
        con.execute("UPDATE articles SET tagger_version = 'r0-old'")
    stale = load.query(s.db_path, "SELECT count(*) FROM articles")[1][0][0]
    newest = load.query(s.db_path, "SELECT article_id FROM articles ORDER BY published_at DESC NULLS LAST, "
                                   "article_id LIMIT 2")[1]
    first = retag(settings=s.model_copy(update={"retag_budget": 0.001}))  # one chunk, then the budget is spent
    assert (first["retagged"], first["left"]) == (2, stale - 2)
    done = load.query(s.db_path, "SELECT article_id FROM articles WHERE tagger_version <> 'r0-old' "
                                 "ORDER BY published_at DESC NULLS LAST, article_id")[1]
    assert done == newest
    out = CliRunner().invoke(app, ["status", "--db", str(s.db_path)])
    assert f"{stale - 2} articles carry an older tagger version" in " ".join(out.output.split())
    rest = retag(settings=s)  # resumes where the last night stopped
    assert (rest["retagged"], rest["left"]) == (stale - 2, 0)
    wal = s.db_path.with_name(s.db_path.name + ".wal")
    assert not wal.exists() or wal.stat().st_size == 0  # the maintenance checkpointed


@pytest.mark.usefixtures("prefect_harness")
def test_status_shows_runs_and_feed_health(demo, settings_for):
    _, feeds = demo
    s = settings_for(feeds_file=feeds)
    ingest(settings=s)
    out = CliRunner().invoke(app, ["status", "--db", str(s.db_path), "--runs", "3"])
    assert out.exit_code == 0, out.output
    assert "completed" in out.output and "demo-football" in out.output


@pytest.mark.usefixtures("prefect_harness")
def test_progress_reporter_sees_every_feed_and_article(demo, settings_for):
    _, feeds = demo

    class Recorder(progress.Reporter):
        def __init__(self):
            self.events = []

        def feeds(self, total):
            self.events.append(("feeds", total))

        def feed_done(self, feed_id, status):
            self.events.append(("feed", status))

        def articles(self, total):
            self.events.append(("articles", total))

        def articles_done(self, n):
            self.events.append(("done", n))

    s = settings_for(feeds_file=feeds)
    with progress.reporting(Recorder()) as rec:
        ingest(settings=s)
    n = len(sample_site.MATCHES)
    assert rec.events[0] == ("feeds", 4) and rec.events.count(("feed", "ok")) == 4
    assert ("articles", n) in rec.events and sum(k for e, k in rec.events if e == "done") == n


def test_prefect_yaml_entrypoints_exist():
    from flows.deployments import build_deployments
    from pressbox.settings import get_settings

    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    names = set()
    for dep in spec["deployments"]:
        path, func = dep["entrypoint"].split(":")
        assert f"def {func}(" in (ROOT / path).read_text()
        assert dep["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
        names.add(dep["name"])
    served = {d.name for d in build_deployments(get_settings())}
    assert served == {"scheduled", "nightly"} and not names & served  # never overwrite
    assert names == {"scheduled-pool", "nightly-pool", "scheduled-pool-shard-1-of-2", "scheduled-pool-shard-2-of-2"}
    shards = {dep["parameters"].get("shard") for dep in spec["deployments"] if "shard" in dep["name"]}
    assert shards == {"1/2", "2/2"}  # the work-pool example of issue 18: one deployment per shard
    sharded = {d.name: d.parameters.get("shard") for d in build_deployments(get_settings(shard="2/3"))}
    assert sharded == {"scheduled-shard-2-of-3": "2/3", "nightly": None}  # `pressbox serve --shard 2/3`
    steps = [next(iter(step)) for step in spec["pull"]]
    assert "prefect.deployments.steps.git_clone" in steps  # the code comes to the worker's machine
    assert "$PWD" not in (ROOT / "prefect.yaml").read_text().split("deployments:")[0].split("pull:")[1]


def test_flow_parameters_are_what_a_run_varies():
    from flows.deployments import build_deployments
    from flows.ingest import ingest_flow
    from flows.retag import retag_flow
    from pressbox.settings import get_settings

    assert set(ingest_flow.parameters.properties) == {"feeds_file", "db_path", "shard"}
    assert set(retag_flow.parameters.properties) == {"db_path"}
    for dep in build_deployments(get_settings(allow_private_hosts="10.0.0.0/8")):
        assert set(dep.parameters) <= {"feeds_file", "db_path", "shard"}
        schema = dep._parameter_openapi_schema.model_dump()  # what the deployment form shows
        assert set(schema["properties"]) == set(dep.parameters) and "allow_private_hosts" not in json.dumps(schema)


def _feeds_with_a_broken_one(site, tmp_path, good: bool = True):
    text = sample_site.feeds_toml(site.base_url) if good else ""
    text += f'\n[[feeds]]\nid = "broken"\nurl = "{site.base_url}/no-such-feed.xml"\nname = "Broken"\n'
    feeds = tmp_path / ("feeds.toml" if good else "broken.toml")
    feeds.write_text(text)
    return feeds


@pytest.mark.usefixtures("prefect_harness")
def test_run_outcomes_are_honest(tmp_path, settings_for, monkeypatch):
    import logging

    with LocalSite(sample_site.routes()) as site:
        mixed, broken = _feeds_with_a_broken_one(site, tmp_path), _feeds_with_a_broken_one(site, tmp_path, False)
        s = settings_for(feeds_file=mixed, workers=1)
        state = ingest(settings=s, return_state=True)
        summary = state.result()
        assert summary["status"] == "partial" and state.is_completed() and state.name == "Partial"
        assert "1 of 5 feeds failed" in state.message and summary["top_entities"]
        assert load.query(s.db_path, "SELECT status, error FROM runs")[1] == [("partial", "1 of 5 feeds failed")]
        assert logging.getLogger("trafilatura").level >= logging.ERROR  # no 'empty link' chatter in run logs
        again = ingest(settings=s)  # nothing new: this run's own top entities are none
        assert again["counts"]["articles_new"] == 0 and again["top_entities"] == []
        down = settings_for(feeds_file=broken, workers=1, db_path=tmp_path / "down.duckdb")
        failed = ingest(settings=down, return_state=True)
        assert failed.is_failed() and failed.result(raise_on_failure=False)["status"] == "failed"
        assert load.query(down.db_path, "SELECT status FROM runs")[1] == [("failed",)]
        # the CLI's exit codes: 4 partial, 1 failed (README "Exit codes")
        for key, value in {"ALLOW_PRIVATE_HOSTS": "127.0.0.1", "PER_HOST_INTERVAL": "0", "WORKERS": "1"}.items():
            monkeypatch.setenv(f"PRESSBOX_{key}", value)
        partial = CliRunner().invoke(app, ["run", "--feeds", str(mixed), "--db", str(s.db_path)])
        assert partial.exit_code == 4, partial.output
        assert "partial" in partial.output and "batches staged 0" in partial.output
        down_cli = CliRunner().invoke(app, ["run", "--feeds", str(broken), "--db", str(down.db_path)])
        assert down_cli.exit_code == 1, down_cli.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.integration
def test_serve_against_a_real_prefect_server(demo, tmp_path):
    _, feeds = demo
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    client_env = dict(env, PREFECT_API_URL=api, PRESSBOX_ALLOW_PRIVATE_HOSTS="127.0.0.1",
                      PRESSBOX_PER_HOST_INTERVAL="0")
    db = tmp_path / "wh.duckdb"
    logs = tmp_path / "server.log"
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=logs.open("w"), stderr=subprocess.STDOUT, cwd=tmp_path)
    serve = None
    try:
        def healthy():
            try:
                return httpx.get(f"{api}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return server.poll() is not None and pytest.fail(logs.read_text()[-2000:])

        _wait(healthy, 120, "the Prefect server")
        serve_log = tmp_path / "serve.log"
        serve = subprocess.Popen([str(BIN / "pressbox"), "serve", "--feeds", str(feeds), "--db", str(db)],
                                 env=client_env, stdout=serve_log.open("w"), stderr=subprocess.STDOUT, cwd=ROOT)

        def deployed():
            r = httpx.post(f"{api}/deployments/filter", json={}, timeout=5)
            names = {d["name"] for d in r.json()}
            assert serve.poll() is None, serve_log.read_text()[-3000:]
            return {"scheduled", "nightly"} <= names

        _wait(deployed, 120, "the deployments")
        run = subprocess.run([str(BIN / "prefect"), "deployment", "run", "pressbox-ingest/scheduled", "--watch",
                              "--watch-timeout", "300"], env=client_env, capture_output=True, text=True, timeout=400)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:] + serve_log.read_text()[-3000:]
        n = len(sample_site.MATCHES)
        assert load.query(db, "SELECT count(*) FROM articles")[1] == [(n,)]
        assert load.query(db, "SELECT status FROM runs")[1] == [("completed",)]
    finally:
        for proc in (serve, server):  # serve first, while its server is still up
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def test_rich_reporter_draws_bars():
    rep = progress.RichReporter()
    rep.feeds(2)
    rep.feed_done("a", "ok")
    rep.articles(10)
    rep.articles_done(10)
    tasks = {t.description: (t.completed, t.total) for t in rep._progress.tasks}
    rep.close()
    assert tasks == {"feeds": (1, 2), "articles": (10, 10)}


# -- the process lifecycle: pressbox's own Prefect API server ------------------------------------------
def _own_env(tmp_path, case: str) -> dict[str, str]:
    """A child environment with no Prefect API: pressbox must start its own. `case` marks its processes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PRESSBOX_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-client"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               DO_NOT_TRACK="1", PREFECT_LOGGING_LEVEL="WARNING", PRESSBOX_ALLOW_PRIVATE_HOSTS="127.0.0.1",
               PRESSBOX_PER_HOST_INTERVAL="0", PRESSBOX_WORKERS="1", PRESSBOX_HOME=str(tmp_path / "home"),
               PBX_TEST_CASE=case)
    return env


def _case_processes(case: str) -> dict[int, str]:
    from conftest import marked_processes

    return marked_processes(f"PBX_TEST_CASE={case}")


def _stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.integration
def test_serve_without_a_server_fires_its_schedule_and_runs_alongside(demo, tmp_path):
    """No PREFECT_API_URL: `serve` starts its own server and the every-minute schedule creates a
    runs row within 2.5 minutes; meanwhile two `pressbox run`s on two other warehouses complete;
    SIGTERM stops serve and leaves no process behind."""
    _, feeds = demo
    case = f"serve-{os.getpid()}-{time.monotonic_ns()}"
    env = _own_env(tmp_path, case)
    db = tmp_path / "served.duckdb"
    log = tmp_path / "serve.log"
    start = time.monotonic()
    serve = subprocess.Popen([str(BIN / "pressbox"), "serve", "--feeds", str(feeds), "--db", str(db),
                              "--ingest-cron", "* * * * *"], env=env, stdout=log.open("w"),
                             stderr=subprocess.STDOUT, cwd=tmp_path)
    runs = []
    try:
        _wait(lambda: "Prefect UI: http://127.0.0.1:" in log.read_text() or serve.poll() is not None
              and pytest.fail(log.read_text()[-3000:]), 150, "serve's own Prefect server")

        def row():
            if not db.exists():
                return None
            try:
                return load.query(db, "SELECT status FROM runs", wait=1)[1]
            except load.WarehouseBusy:
                return None

        _wait(row, 150 - (time.monotonic() - start), "a scheduled run's row")
        # two ad-hoc runs on two other warehouses while serve (and its scheduled run) goes on
        runs = [subprocess.Popen([str(BIN / "pressbox"), "run", "--feeds", str(feeds), "--db",
                                  str(tmp_path / f"adhoc{i}.duckdb")], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, cwd=tmp_path) for i in (1, 2)]
        for proc in runs:
            out, _ = proc.communicate(timeout=600)
            assert proc.returncode == 0, out[-3000:]
        n = len(sample_site.MATCHES)
        for i in (1, 2):
            assert load.query(tmp_path / f"adhoc{i}.duckdb", "SELECT count(*) FROM articles")[1] == [(n,)]

        def finished():
            rows = row()
            return rows and any(status == "completed" for (status,) in rows)

        _wait(finished, 300, "the scheduled run to complete")
        assert load.query(db, "SELECT count(*) FROM articles")[1] == [(n,)]
    finally:
        for proc in runs:
            _stop(proc, signal.SIGKILL)
        _stop(serve)
    assert serve.returncode is not None
    _wait(lambda: not _case_processes(case), 15, "every process serve started to end")


@pytest.mark.integration
def test_sigkill_of_a_run_leaves_no_process(site, tmp_path):
    """`kill -9` of `pressbox run` mid-run: within 10 s nothing it started is left."""
    def slow(handler):
        time.sleep(8)

    site.add("/slow.xml", Route(handler=slow))
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feeds]]\nid = "slow"\nurl = "{site.url("/slow.xml")}"\nname = "Slow"\n')
    case = f"kill-{os.getpid()}-{time.monotonic_ns()}"
    run = subprocess.Popen([str(BIN / "pressbox"), "run", "--feeds", str(feeds), "--db", str(tmp_path / "w.duckdb")],
                           env=_own_env(tmp_path, case), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: site.hits.get("/slow.xml") or run.poll() is not None, 300, "the run to fetch its feed")
        assert run.poll() is None
        started = _case_processes(case)
        assert any("uvicorn" in cmd or "prefect" in cmd for pid, cmd in started.items() if pid != run.pid), started
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        _wait(lambda: not _case_processes(case), 10, "the run's Prefect server to die with it")
    finally:
        _stop(run, signal.SIGKILL)


@pytest.mark.integration
def test_a_run_on_a_saturated_machine_completes(demo, tmp_path):
    """Two busy processes per core while `pressbox run` starts its Prefect API: the run completes."""
    _, feeds = demo
    case = f"busy-{os.getpid()}-{time.monotonic_ns()}"
    env = _own_env(tmp_path, case)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"], env=env)
            for _ in range(2 * (os.cpu_count() or 1))]
    try:
        out = subprocess.run([str(BIN / "pressbox"), "run", "--feeds", str(feeds), "--db", str(tmp_path / "w.duckdb")],
                             env=env, capture_output=True, text=True, timeout=1500)
    finally:
        for proc in busy:
            _stop(proc, signal.SIGKILL)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert load.query(tmp_path / "w.duckdb", "SELECT status FROM runs")[1] == [("completed",)]
    _wait(lambda: not _case_processes(case), 15, "every process of the run to end")


def test_a_server_that_does_not_start_in_time_is_retried_then_one_line_and_gone(tmp_path, monkeypatch):
    from pressbox import prefect_server

    case = f"slow-{os.getpid()}-{time.monotonic_ns()}"
    monkeypatch.setenv("PBX_TEST_CASE", case)
    monkeypatch.setattr(prefect_server, "configured_api_url", lambda: None)
    starts = []
    real = prefect_server.start_server

    def counted(*args, **kwargs):
        starts.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(prefect_server, "start_server", counted)
    with (pytest.raises(prefect_server.ApiUnavailable) as info,
          prefect_server.prefect_api(tmp_path / "home", scheduler=False, timeout=0.5)):
        pass
    message = str(info.value)
    assert len(starts) == 2 and "\n" not in message  # one retry, then one line that says what to do
    assert "PREFECT_API_URL" in message and "PRESSBOX_PREFECT_STARTUP_TIMEOUT" in message
    _wait(lambda: not _case_processes(case), 10, "the servers that did not start to be gone")
