"""Hostile input end to end: odd feeds, odd servers, odd pages, and a warehouse under stress."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import zlib

import pytest
from conftest import Route

from flows.ingest import ingest
from pressbox import sample_site
from pressbox.settings import ROOT
from schemas.records import FeedConfig
from tasks import load
from tasks.extract import build_article
from tasks.feeds import parse_feed
from tasks.fetch import Fetcher, FetchFailure

FEED = FeedConfig("x", "https://feeds.example/x.xml", "X")


def rss(items: str, encoding: str = "UTF-8") -> str:
    head = f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>t</title>'
    return f"{head}{items}</channel></rss>"


# -- feeds -----------------------------------------------------------------------------------------
def test_fifty_thousand_items_are_capped(site, settings_for):
    items = "".join(f"<item><title>n{i}</title><link>https://x.example/{i}</link><guid>g{i}</guid></item>"
                    for i in range(50_000))
    site.add("/huge.xml", Route(rss(items).encode(), content_type="application/rss+xml"))
    with Fetcher(settings_for()) as f:
        resp = f.get(site.url("/huge.xml"), max_bytes=20_000_000)
    entries, seen, _ = parse_feed(resp.content, feed=FEED, base_url=resp.final_url, max_entries=500)
    assert seen == 50_000 and len(entries) == 500


def test_entity_expansion_and_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{laughs}'
            f'<!ENTITY xxe SYSTEM "file://{secret}">]>'
            '<rss version="2.0"><channel><title>&l9;</title><item><title>&xxe; &l9;</title>'
            '<link>https://x.example/a</link></item></channel></rss>').encode()
    # in a child process with a memory cap: expansion would blow it, not this test run
    code = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        sys.path.insert(0, {str(ROOT)!r})
        from schemas.records import FeedConfig
        from tasks.feeds import parse_feed
        entries, seen, bozo = parse_feed(sys.stdin.buffer.read(), feed=FeedConfig("x", "https://x/", "x"),
                                         base_url="https://x/")
        print(max([len(e.title or "") for e in entries] + [0]), "TOP-SECRET" in repr(entries))
    """)
    out = subprocess.run([sys.executable, "-c", code], input=bomb, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()[-500:]
    longest, leaked = out.stdout.decode().split()
    assert int(longest) < 10_000 and leaked == "False"


@pytest.mark.parametrize("encoding,body", [
    ("ISO-8859-1", "Müller trifft für Bayern".encode("latin-1")),
    ("UTF-8", "Müller trifft für Bayern".encode("latin-1")),  # a lie: bytes are Latin-1
    ("windows-1252", "Cup “final” – report".encode("cp1252")),
])
def test_wrong_or_odd_charsets_do_not_crash(encoding, body):
    raw = (rss("<item><title>XX</title><link>https://x.example/a</link></item>", encoding)
           .encode("ascii").replace(b"XX", body))
    entries, seen, _ = parse_feed(raw, feed=FEED, base_url="https://x/", content_type=f"text/xml; charset={encoding}")
    assert seen == 1 and entries[0].url == "https://x.example/a"


# -- HTTP ------------------------------------------------------------------------------------------
def test_read_timeout(site, settings_for):
    def silent(handler):
        time.sleep(3)

    site.add("/silent", Route(handler=silent))
    with (
        Fetcher(settings_for(read_timeout=0.5, request_deadline=10), retries=0) as f,
        pytest.raises(FetchFailure) as info,
    ):
        f.get(site.url("/silent"), max_bytes=1000)
    assert info.value.error_type == "timeout" and info.value.retryable


def test_429_with_a_long_retry_after_is_recorded_not_waited_for(site, settings_for):
    site.add("/busy", Route(b"slow down", status=429, headers={"Retry-After": "3600"}))
    with Fetcher(settings_for()) as f:
        start = time.monotonic()
        with pytest.raises(FetchFailure) as info:
            f.get_page(site.url("/busy"))
    assert info.value.error_type == "http_429" and info.value.http_status == 429
    assert time.monotonic() - start < 30 and site.hits["/busy"] == 1


def test_deflate_bomb_is_capped(site, settings_for):
    site.add("/deflate", Route(zlib.compress(b"<html>" + b" " * 40_000_000), headers={"Content-Encoding": "deflate"}))
    with Fetcher(settings_for(max_page_bytes=1_000_000)) as f, pytest.raises(FetchFailure) as info:
        f.get_page(site.url("/deflate"))
    assert info.value.error_type == "too_large"


def test_tls_to_a_plain_http_server_fails_cleanly(site, settings_for):
    site.add("/a", Route(b"<html>hi</html>"))
    with Fetcher(settings_for(), retries=0) as f, pytest.raises(FetchFailure) as info:
        f.get(site.url("/a").replace("http://", "https://"), max_bytes=1000)
    assert info.value.error_type in {"tls_error", "connect_error", "transport_error"}


def test_dns_failure(settings_for):
    with Fetcher(settings_for(), retries=0) as f, pytest.raises(FetchFailure) as info:
        f.get("http://no-such-host.invalid/feed.xml", max_bytes=1000)
    assert info.value.error_type == "dns_error"


def test_a_name_resolving_to_loopback_is_blocked(site, settings_for):
    site.add("/a", Route(b"<html>hi</html>"))
    url = site.url("/a").replace("127.0.0.1", "localhost")
    with Fetcher(settings_for(allow_private_hosts="")) as f, pytest.raises(FetchFailure) as info:
        f.get(url, max_bytes=1000)
    assert info.value.error_type == "blocked_address" and site.hits["/a"] == 0


def test_listed_feed_is_fetched_even_when_robots_disallows(site, settings_for):
    site.add("/robots.txt", Route(b"User-agent: *\nDisallow: /\n", content_type="text/plain"))
    site.add("/feed.xml", Route(rss("").encode(), content_type="application/rss+xml"))
    site.add("/story", Route(b"<html><body><p>story</p></body></html>"))
    with Fetcher(settings_for()) as f:
        assert f.get(site.url("/feed.xml"), max_bytes=10_000).status == 200
        with pytest.raises(FetchFailure, match="robots"):
            f.get_page(site.url("/story"))


# -- pages -----------------------------------------------------------------------------------------
def _page_result(content: bytes, summary: str | None = "A feed summary that is kept when the page has none."):
    from datetime import UTC, datetime

    from schemas.records import FeedEntry, Response

    entry = FeedEntry("f", "k", "https://x.example/a", "https://x.example/a", title="T", summary=summary)
    return build_article(entry, Response(entry.url, entry.url, 200, content, "text/html", {}, datetime.now(UTC), 0.1))


def test_enormous_dom_is_refused():
    page = b"<html><body>" + b"<div><span>x</span></div>" * 60_000 + b"</body></html>"
    err = _page_result(page, summary=None)
    assert err.error_type == "dom_too_large"
    kept = _page_result(page)
    assert kept.extraction_method == "feed_summary"


def test_cookie_wall_and_paywall_stub_keep_the_summary():
    wall = b"<html><body><div class='consent'><p>We use cookies. Accept all to continue.</p></div></body></html>"
    art = _page_result(wall)
    assert art.extraction_method == "feed_summary" and art.body.startswith("A feed summary")


def test_page_in_another_language():
    text = " ".join(["Der FC Bayern gewann am Samstag in der Bundesliga deutlich gegen Dortmund."] * 8)
    art = _page_result(f"<html lang='de'><body><article><p>{text}</p></article></body></html>".encode())
    assert art.language == "de" and "Bundesliga" in art.body


# -- the warehouse under stress --------------------------------------------------------------------
def _child_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               DO_NOT_TRACK="1", PREFECT_LOGGING_LEVEL="WARNING")
    return env


def _demo_feeds(tmp_path, site) -> str:
    for path, route in sample_site.routes().items():
        site.add(path, route)
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(sample_site.feeds_toml(site.base_url))
    return str(feeds)


@pytest.mark.usefixtures("prefect_harness")
def test_sigkill_mid_load_leaves_the_warehouse_consistent(site, settings_for, tmp_path):
    settings = settings_for(feeds_file=_demo_feeds(tmp_path, site), batch_size=10)
    marker = tmp_path / "in-transaction"
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from tasks import load
        real = load._mark_entries
        batches = []
        def slow(con, *args):
            real(con, *args)
            batches.append(1)
            if len(batches) == 2:  # inside the second batch's transaction: the first is committed
                Path({str(marker)!r}).write_text("now")
                time.sleep(600)
        load._mark_entries = slow
        from flows.ingest import ingest
        from pressbox.prefect_server import prefect_api
        from pressbox.settings import get_settings
        with prefect_api(None, scheduler=False, timeout=300):  # its API server dies with it
            ingest(settings=get_settings(**{settings.model_dump(mode="json")!r}))
    """)
    child = subprocess.Popen([sys.executable, "-c", code], env=_child_env(tmp_path), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert child.poll() is None, "child run ended before reaching the load"
            assert time.monotonic() < deadline, "child run never reached the second batch"
            time.sleep(0.2)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
    db = settings.db_path
    n = len(sample_site.MATCHES)
    # exactly the first batch: no half batch, and every loaded article has its mentions
    assert load.query(db, "SELECT count(*) FROM articles")[1] == [(10,)]
    assert load.query(db, "SELECT count(*) FROM articles WHERE article_id NOT IN "
                          "(SELECT article_id FROM mentions)")[1] == [(0,)]
    assert load.query(db, "SELECT count(*) FROM feed_entries WHERE status = 'pending'")[1] == [(n - 10,)]
    assert load.query(db, "SELECT status FROM runs")[1] == [("running",)]
    result = ingest(settings=settings)  # the next run completes the work
    assert result["counts"]["articles_new"] == n - 10
    assert load.query(db, "SELECT count(*), count(DISTINCT canonical_url) FROM articles")[1] == [(n, n)]
    assert sorted(load.query(db, "SELECT status FROM runs")[1]) == [("completed",), ("crashed",)]


def test_a_second_run_at_once_exits_with_a_clear_message(site, settings_for, tmp_path):
    db = tmp_path / "wh.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            sys.path.insert(0, {str(ROOT)!r})
            from tasks import load
            with load.run_lock({str(db)!r}):
                print("locked", flush=True)
                time.sleep(1800)  # until the test kills it (a run on a busy machine may take minutes to start)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        out = subprocess.run([str(ROOT / ".venv" / "bin" / "pressbox"), "run", "--feeds", _demo_feeds(tmp_path, site),
                              "--db", str(db)], capture_output=True, text=True, timeout=300, env=_child_env(tmp_path))
    finally:
        holder.kill()
        holder.wait()
    assert out.returncode == 3, out.stdout + out.stderr
    assert "another pressbox run" in out.stdout + out.stderr
    assert not db.exists() or load.query(db, "SELECT count(*) FROM articles")[1] == [(0,)]


def test_a_reader_on_the_warehouse_file_makes_a_load_wait_then_fail_busy(tmp_path):
    db = tmp_path / "wh.duckdb"
    load.prepare(db, [])
    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, time
        con = duckdb.connect({str(db)!r}, read_only=True)
        print("open", flush=True)
        time.sleep(120)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "open"
        with pytest.raises(load.WarehouseBusy, match="locked by another process"):
            load.load_batch(db, "r", [], [], max_attempts=3, wait=1.0)
    finally:
        reader.kill()
        reader.wait()
    load.load_batch(db, "r", [], [], max_attempts=3, wait=1.0)  # free again


@pytest.mark.usefixtures("prefect_harness")
def test_busy_warehouse_stages_batches_and_the_next_run_loads_them(site, settings_for, tmp_path, monkeypatch):
    settings = settings_for(feeds_file=_demo_feeds(tmp_path, site), batch_size=10)
    real = load.load_batch

    def busy(*args, **kwargs):
        raise load.WarehouseBusy("held by an analyst session")

    monkeypatch.setattr(load, "load_batch", busy)
    first = ingest(settings=settings)
    n = len(sample_site.MATCHES)
    assert first["status"] == "failed" and first["counts"]["batches_staged"] == 3  # nothing could be loaded
    assert any("staged" in note for note in first["notes"])
    assert len(list(load.staging_dir(settings.db_path).glob("*.json"))) == 3
    assert load.query(settings.db_path, "SELECT count(*) FROM articles")[1] == [(0,)]
    monkeypatch.setattr(load, "load_batch", real)
    second = ingest(settings=settings)
    assert second["counts"]["articles_new"] == n
    assert not list(load.staging_dir(settings.db_path).glob("*.json"))
    assert load.query(settings.db_path, "SELECT count(*), count(DISTINCT article_id) FROM articles")[1] == [(n, n)]


def test_connect_timeout(settings_for, monkeypatch):
    """A host that never answers the handshake (a server here cannot stall a connect on loopback)."""
    import socket

    def stall(self, address):
        raise TimeoutError("timed out")

    monkeypatch.setattr(socket.socket, "connect", stall)
    with Fetcher(settings_for(), retries=0) as f, pytest.raises(FetchFailure) as info:
        f.get("http://127.0.0.1:9/feed.xml", max_bytes=1000)
    assert info.value.error_type == "timeout" and info.value.retryable


@pytest.mark.usefixtures("prefect_harness")
def test_a_colliding_flow_run_is_skipped_not_failed(site, settings_for, tmp_path):
    from prefect.exceptions import CancelledRun

    settings = settings_for(feeds_file=_demo_feeds(tmp_path, site))
    with load.run_lock(settings.db_path), pytest.raises(CancelledRun, match="another pressbox run"):
        ingest(settings=settings)
    state = ingest(settings=settings, return_state=True)  # free again: completes
    assert state.is_completed()
