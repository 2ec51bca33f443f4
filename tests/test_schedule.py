"""Scheduled, observable operation: retag, status, progress, and `pressbox serve` against a real
Prefect server (an integration test that starts `prefect server start` on 127.0.0.1)."""

import os
import signal
import socket
import subprocess
import time

import httpx
import pytest
import yaml
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
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    names = set()
    for dep in spec["deployments"]:
        path, func = dep["entrypoint"].split(":")
        assert func in (ROOT / path).read_text()
        assert dep["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
        names.add(dep["name"])
    assert names == {"scheduled", "nightly"}


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
