"""Issue 13: a poison page, a dead worker, a hostile server or a killed run never costs more than itself.

The hostile routes are copies of ../shared/hostile/hostile.py (tests/hostile_routes.py), served by
the local test server with small limits so each case takes seconds.
"""

import ipaddress
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import Route
from hostile_routes import page, poison_routes, quad_feed, rss

from flows.ingest import ingest
from pressbox.settings import ROOT
from schemas.records import FeedConfig, FeedEntry, FeedResult
from tasks import load
from tasks.extract import _same_site
from tasks.feeds import FeedsFileError, load_feeds_file, parse_feed
from tasks.fetch import Fetcher, FetchFailure, is_public

FEED = FeedConfig("x", "https://feeds.example/x.xml", "X")
GOOD = [f"/ok/g{i}" for i in range(6)]
POISON = list(poison_routes())


def _tight(settings_for, **kw):
    """Settings whose limits make every hostile case end in about two seconds."""
    base = dict(request_deadline=2.0, read_timeout=1.0, max_page_bytes=1 << 20, respect_robots=False,
                max_body_chars=20_000)
    return settings_for(**{**base, **kw})


# -- the whole exchange is limited ------------------------------------------------------------------
@pytest.mark.parametrize("path,expected", [
    ("/redir-bomb", "/ok/after-bomb"),  # the 302's gzip bomb is never read
    ("/redir-endless", "/ok/x"),  # nor its endless chunked body
    ("/redir-trickle", "/ok/x"),  # nor a body trickling a byte at a time
    ("/gzip2", "too_large"),  # each decoding layer is capped
    ("/header-trickle", "deadline"),  # headers a byte at a time: one deadline covers them
    ("/infinite-100", "deadline"),  # endless 100 Continue
    ("/deflate-empty-blocks", {"too_large", "deadline"}),  # output never comes: wire bytes or time stop it
    ("/gzip-empty-then-garbage", "decoding_error"),
])
def test_every_hostile_response_ends_within_the_deadline(site, settings_for, path, expected):
    for p, route in poison_routes(secs=15).items():
        site.add(p, route)
    for p in ("/ok/x", "/ok/after-bomb"):
        site.add(p, Route(page("after")))
    start = time.monotonic()
    with Fetcher(_tight(settings_for), retries=0) as f:
        try:
            result = f.get_page(site.url(path)).final_url.removeprefix(site.base_url)
        except FetchFailure as exc:
            result = exc.error_type
    assert result in (expected if isinstance(expected, set) else {expected})
    assert time.monotonic() - start < 5


def test_a_hanging_dns_lookup_ends_within_the_request_deadline(settings_for, monkeypatch):
    """The resolver cannot be interrupted: the request stops waiting for it at its deadline."""
    import socket
    import threading

    real, release, asked = socket.getaddrinfo, threading.Event(), []

    def hanging(host, *args, **kwargs):
        if host != "hang.example":
            return real(host, *args, **kwargs)
        asked.append(host)
        release.wait(30)  # a resolver that never answers (let go when the test ends)
        raise socket.gaierror("gave up")

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    start = time.monotonic()
    try:
        with (Fetcher(_tight(settings_for, request_deadline=1.5, connect_timeout=10.0), retries=2) as f,
              pytest.raises(FetchFailure) as info):
            f.get_page("http://hang.example/a")
    finally:
        release.set()
    assert time.monotonic() - start < 3.0 and asked == ["hang.example"]  # a deadline is not retried at once
    assert info.value.error_type == "deadline" and "DNS lookup for hang.example" in info.value.message
    assert info.value.retryable


def test_fetch_failures_cross_process_boundaries_whole():
    """A page's fetch failure travels to its worker process with the page: it pickles with its fields."""
    import pickle

    back = pickle.loads(pickle.dumps(FetchFailure("gone", "HTTP 404", 404, retryable=False)))
    assert (back.error_type, back.message, back.http_status, back.retryable) == ("gone", "HTTP 404", 404, False)
    assert str(back) == "HTTP 404"


def test_a_host_that_keeps_timing_out_is_skipped_for_the_rest_of_the_run(site, settings_for):
    for i in range(5):
        site.add(f"/slow{i}", Route(handler=poison_routes(secs=5)["/header-trickle"].handler))
    with Fetcher(_tight(settings_for, host_breaker_timeouts=2, concurrency=1)) as f:
        results = f.get_pages([site.url(f"/slow{i}") for i in range(5)])
    assert [r.error_type for r in results] == ["deadline"] * 2 + ["host_unresponsive"] * 3
    assert sum(site.hits[f"/slow{i}"] for i in range(5)) == 2  # deadlines are not retried at once either


def test_ipv6_forms_embedding_private_ipv4_are_refused():
    for addr in ("::7f00:2", "::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a00:1", "2002:7f00:1::", "2002:a9fe:a9fe::",
                 "::ffff:127.0.0.2", "2001:0:4136:e378:8000:63bf:80ff:fffe"):
        assert not is_public(ipaddress.ip_address(addr)), addr
    assert is_public(ipaddress.ip_address("64:ff9b::808:808"))  # NAT64 of a public address
    assert is_public(ipaddress.ip_address("2a00:1450:4009:80b::200e"))


def test_canonical_same_site_compares_scheme_host_and_port():
    assert _same_site("https://www.x.example/a", "https://x.example:443/b")
    assert not _same_site("http://x.example:1/victim", "http://x.example:8080/page")
    assert not _same_site("http://x.example/a", "https://x.example/a")
    assert not _same_site("http://x.example:bad/a", "http://x.example/a")


# -- feeds ------------------------------------------------------------------------------------------
def test_a_large_entity_referenced_many_times_is_not_expanded():
    """256 KiB x 400 references would be 200 MiB in feedparser's lenient parser; no parser expands it."""
    start = time.monotonic()
    entries, seen, _ = parse_feed(quad_feed("https://x.example", refs=400), feed=FEED, base_url="https://x.example/")
    assert seen == 1 and entries[0].url == "https://x.example/ok/q"
    assert len(entries[0].title or "") < 10_000 and time.monotonic() - start < 10


def test_small_declared_entities_still_expand():
    raw = (b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY club "Arsenal">\n]>\n<rss version="2.0"><channel>'
           b"<title>t</title><item><title>&club; win</title><link>https://x.example/a</link></item></channel></rss>")
    entries, _, _ = parse_feed(raw, feed=FEED, base_url="https://x.example/")
    assert entries[0].title == "Arsenal win"


def test_a_bad_character_in_one_item_loses_that_field_not_the_feed():
    raw = rss([("https://x.example/1", "a&#xD800;b"), ("https://x.example/2", "fine"),
               ("https://x.example/3", "fine too &#0; x")])
    entries, seen, _ = parse_feed(raw, feed=FEED, base_url="https://x.example/")
    titles = {e.url: e.title for e in entries}
    assert seen == 3 and titles == {"https://x.example/1": None, "https://x.example/2": "fine",
                                    "https://x.example/3": None}


@pytest.mark.parametrize("text,msg", [
    ('[[feeds]]\nid="a"\nurl="https://x/"\nname="A"\nsport=7\n', r"feed #1 \('a'\): sport must be a string, got int 7"),
    ('[[feeds]]\nid="a"\nurl="https://x/"\nname="A"\nleage="x"\n', r"unknown key\(s\) leage"),
    ('[[feeds]]\nid="a"\nurl="http://"\nname="A"\n', "url has no host"),
    ('[[feeds]]\nid="a"\nurl="http://x:port/"\nname="A"\n', "not a valid URL"),
    ('[[feeds]]\nid=1\nurl="http://x/"\nname="A"\n', "id must be a string"),
    ('feeds = "x"\n', "must be"),
    ('[[feed]]\nid="a"\n', "unknown top-level key"),
])
def test_feeds_file_mistakes_are_one_line_errors(tmp_path, text, msg):
    bad = tmp_path / "feeds.toml"
    bad.write_text(text)
    with pytest.raises(FeedsFileError, match=msg) as info:
        load_feeds_file(bad)
    assert "\n" not in str(info.value)


# -- pages ------------------------------------------------------------------------------------------
def _article(content: bytes, content_type: str = "text/html; charset=utf-8", max_body_chars: int = 100_000):
    from datetime import UTC, datetime

    from schemas.records import Response
    from tasks.enrich import extract_and_tag

    entry = FeedEntry("f", "k", "https://x.example/a", "https://x.example/a", title="T")
    resp = Response(entry.url, entry.url, 200, content, "text/html", {"content-type": content_type},
                    datetime.now(UTC), 0.1)
    from pressbox.settings import get_settings

    tagged, failures = extract_and_tag([entry], [resp], get_settings().spacy_model, max_body_chars)
    return tagged, failures


def _notes(tagged) -> list[tuple[str, str, bool]]:
    return [(n.stage, n.error_type, n.fatal) for n in tagged[0].article.notes]


def test_poison_page_contents_are_handled_not_raised():
    """Each loads, with a note (a non-fatal fetch_errors row) saying what was repaired or cut."""
    routes = poison_routes()
    tagged, failures = _article(routes["/surrogate"].body)
    assert not failures and "\ufffd" in tagged[0].article.body
    assert _notes(tagged) == [("extract", "text_repaired", False)]
    assert "body" in tagged[0].article.notes[0].message
    tagged, failures = _article(routes["/deepjson"].body)
    assert not failures and tagged[0].article.title == "deep"
    assert _notes(tagged) == [("extract", "jsonld_invalid", False)]
    assert "nested too deeply" in tagged[0].article.notes[0].message
    tagged, failures = _article(routes["/bigbody"].body, max_body_chars=20_000)
    art = tagged[0].article
    assert not failures and len(art.body) <= 20_000 and "+truncated(" in art.extraction_method
    assert _notes(tagged) == [("extract", "body_truncated", False)]
    assert "max_body_chars 20000" in art.notes[0].message


def test_a_clean_page_and_a_short_redirect_body_leave_no_note(site, settings_for):
    site.add("/ok/a", Route(page("Fine")))
    site.add("/moved", Route(b"<a href=/ok/a>moved</a>", status=301, headers={"Location": "/ok/a"}))
    for path, route in poison_routes(secs=15).items():
        site.add(path, route)
    site.add("/ok/x", Route(page("after")))
    with Fetcher(_tight(settings_for), retries=0) as f:
        moved, dropped = f.get_page(site.url("/moved")), f.get_page(site.url("/redir-endless"))
    assert moved.notes == () and moved.redirects == 1
    [note] = dropped.notes
    assert (note.stage, note.error_type, note.fatal, note.http_status) == ("page", "redirect_body_dropped", False, 302)
    assert note.url == site.url("/redir-endless") and "no declared length" in note.message
    tagged, failures = _article(page("Fine"))
    assert not failures and tagged[0].article.notes == ()


def test_a_page_that_raises_is_recorded_and_the_rest_of_its_batch_loads(monkeypatch):
    from datetime import UTC, datetime

    import tasks.enrich
    from schemas.records import Response
    from tasks.enrich import extract_and_tag

    real = tasks.enrich.build_article

    def flaky(entry, response, *args):
        if b"EXPLODE" in response.content:
            raise RecursionError("maximum recursion depth exceeded")
        return real(entry, response, *args)

    monkeypatch.setattr(tasks.enrich, "build_article", flaky)
    entries = [FeedEntry("f", f"k{i}", f"https://x.example/{i}", f"https://x.example/{i}") for i in range(3)]
    resps = [Response(e.url, e.url, 200, page(f"S{i}") + (b"EXPLODE" if i == 1 else b""), "text/html", {},
                      datetime.now(UTC), 0.1) for i, e in enumerate(entries)]
    from pressbox.settings import get_settings

    tagged, failures = extract_and_tag(entries, resps, get_settings().spacy_model)
    assert [t.article.entry_key for t in tagged] == ["k0", "k2"]
    assert [(e.entry_key, f.stage, f.error_type) for e, f in failures] == [("k1", "extract", "recursion_limit")]


def test_an_article_whose_tagging_raises_is_recorded_and_the_rest_are_tagged(monkeypatch):
    from datetime import UTC, datetime

    import tasks.enrich
    from pressbox.settings import get_settings
    from schemas.records import Response
    from tasks.enrich import extract_and_tag

    real = tasks.enrich.tag_articles

    def flaky(tagger, articles):
        if any("Story 1" in (a.title or "") for a in articles):
            raise ValueError("[E088] Text of length 1000001 exceeds maximum")
        return real(tagger, articles)

    monkeypatch.setattr(tasks.enrich, "tag_articles", flaky)
    entries = [FeedEntry("f", f"k{i}", f"https://x.example/{i}", f"https://x.example/{i}") for i in range(3)]
    resps = [Response(e.url, e.url, 200, page(f"Story {i}"), "text/html", {}, datetime.now(UTC), 0.1)
             for i, e in enumerate(entries)]
    tagged, failures = extract_and_tag(entries, resps, get_settings().spacy_model)
    assert [t.article.entry_key for t in tagged] == ["k0", "k2"] and all(t.mentions for t in tagged)
    assert [(e.entry_key, f.stage, f.error_type, f.http_status) for e, f in failures] == [
        ("k1", "tag", "tag_error", 200)]


def test_latin1_bytes_in_a_page_declared_utf8_give_a_correct_title():
    raw = page("Café Müller").replace(b"Arsenal", "Müller".encode("latin-1"), 3) + b"\xff\xfe\xc3\x28"
    tagged, _ = _article(raw)
    assert tagged[0].article.title == "Café Müller" and "Müller beat Chelsea" in tagged[0].article.body


# -- the warehouse ----------------------------------------------------------------------------------
def test_the_run_lock_follows_symlinks(tmp_path):
    db = tmp_path / "wh.duckdb"
    link = tmp_path / "alias.duckdb"
    link.symlink_to(db)
    with load.run_lock(db), pytest.raises(load.WarehouseBusy), load.run_lock(link):
        pass


def test_a_guid_whose_link_changes_gets_the_new_url(tmp_path):
    db = tmp_path / "wh.duckdb"
    feed = FeedConfig("f", "https://x.example/rss", "F")
    load.prepare(db, [feed])

    def seen(url: str) -> None:
        entry = FeedEntry("f", "guid-1", url, url, title="T")
        load.record_feeds(db, "r", [FeedResult("f", feed.url, "ok", 200, entries=(entry,))])

    seen("https://x.example/old")
    load.load_batch(db, "r", [], [(FeedEntry("f", "guid-1", "https://x.example/old", "https://x.example/old"),
                                   FetchFailure("gone", "HTTP 404", 404).to_error("https://x.example/old", "page"))],
                    max_attempts=3)
    seen("https://x.example/new")
    assert load.query(db, "SELECT url, canonical_url, status, attempts FROM feed_entries")[1] == [
        ("https://x.example/new", "https://x.example/new", "pending", 0)]


# -- whole runs -------------------------------------------------------------------------------------
def _feeds_toml(tmp_path, site, feeds: dict[str, bytes]) -> str:
    lines = []
    for name, body in feeds.items():
        site.add(f"/feed/{name}", Route(body, content_type="application/rss+xml"))
        lines.append(f'[[feeds]]\nid = "{name}"\nurl = "{site.url("/feed/" + name)}"\nname = "{name}"\n')
    path = tmp_path / "feeds.toml"
    path.write_text("\n".join(lines))
    return str(path)


@pytest.mark.usefixtures("prefect_harness")
def test_one_run_survives_the_hostile_site(site, settings_for, tmp_path):
    """hostile.py's feeds poison2, quad, featsurr and hang in one run: it completes, loads every good
    page, and every poison page is either recorded or (its content made safe) loaded."""
    for path, route in poison_routes(secs=15).items():
        site.add(path, route)
    oks = GOOD + ["/ok/fs1", "/ok/fs2", "/ok/fs3", "/ok/h0", "/ok/h1", "/ok/h2", "/ok/q", "/ok/x", "/ok/after-bomb"]
    for path in oks:
        site.add(path, Route(page("Story " + path)))
    b = site.base_url
    feeds = _feeds_toml(tmp_path, site, {
        "poison2": rss([(b + p, f"Story {i}") for i, p in enumerate(GOOD + POISON)]),
        "quad": quad_feed(b),
        "featsurr": rss([(b + "/ok/fs1", "a&#xD800;b"), (b + "/ok/fs2", "fine"), (b + "/ok/fs3", "fine too")]),
        "hang": rss([(b + f"/ok/h{i}", "h") for i in range(3)] + [(b + "/infinite-100", "hang")]),
    })
    settings = _tight(settings_for, feeds_file=feeds, max_attempts=1)
    result = ingest(settings=settings)
    assert result["status"] == "completed" and result["counts"]["feeds_ok"] == 4
    db = settings.db_path
    loaded = {u.removeprefix(b) for (u,) in load.query(db, "SELECT url FROM articles")[1]}
    assert set(GOOD + ["/ok/fs1", "/ok/fs2", "/ok/fs3", "/ok/h0", "/ok/h1", "/ok/h2", "/ok/q"]) <= loaded
    rows = load.query(db, "SELECT url, error_type, fatal FROM fetch_errors")[1]
    errors = {u.removeprefix(b): (t, fatal) for u, t, fatal in rows}
    fatal = {"/gzip2", "/header-trickle", "/infinite-100", "/deflate-empty-blocks", "/gzip-empty-then-garbage"}
    assert {p for p, (_, f) in errors.items() if f} == fatal
    assert {p: t for p, (t, f) in errors.items() if not f} == {  # loaded after a repair: a note each
        "/surrogate": "text_repaired", "/deepjson": "jsonld_invalid", "/bigbody": "body_truncated",
        "/redir-bomb": "redirect_body_dropped", "/redir-endless": "redirect_body_dropped",
        "/redir-trickle": "redirect_body_dropped"}
    assert set(errors) == set(POISON)  # a row for each of the 11 poison pages, none for a good one
    done = {u.removeprefix(b) for (u,) in load.query(db, "SELECT url FROM feed_entries WHERE status = 'done'")[1]}
    assert set(POISON) - fatal <= done
    health = dict(load.query(db, "SELECT feed_id, page_errors_30d FROM feed_health")[1])
    assert health["poison2"] == sum(1 for u, _, f in rows if f and u.removeprefix(b) in POISON)  # notes: no failures
    [(method,)] = load.query(db, "SELECT extraction_method FROM articles WHERE url = ?", [b + "/bigbody"])[1]
    assert "truncated" in method
    hits = sum(site.hits.values())
    again = ingest(settings=settings)  # max_attempts=1: no poison page is met again
    assert again["status"] == "completed" and again["counts"]["articles_failed"] == 0
    assert sum(site.hits.values()) - hits == 4  # the four feeds, nothing else


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("size", [
    dict(workers=2, parallel_min_articles=1),  # a large run: `workers` processes
    dict(workers=2, parallel_min_articles=200),  # a small run: one worker process, isolated all the same
])
def test_worker_deaths_cost_only_their_page(site, settings_for, tmp_path, monkeypatch, size):
    """A page that kills its worker, one past the memory limit and one deaf to the timer: the run
    completes, every good page loads, one error per bad page, and max_attempts retires them."""
    import poison_worker

    import tasks.pool

    monkeypatch.setattr(tasks.pool, "run_batch", poison_worker.run_batch)
    bad = {"/crash": poison_worker.CRASH, "/hog": poison_worker.HOG, "/spin": poison_worker.SPIN}
    for path in GOOD:
        site.add(path, Route(page("Story " + path)))
    for path, marker in bad.items():
        site.add(path, Route(page("Bad " + path) + marker))
    b = site.base_url
    feeds = _feeds_toml(tmp_path, site, {"f": rss([(b + p, p) for p in GOOD[:3] + list(bad) + GOOD[3:]])})
    settings = settings_for(feeds_file=feeds, page_seconds=2.0, worker_memory_mb=300, max_attempts=1,
                            respect_robots=False, **size)
    result = ingest(settings=settings)
    assert result["status"] == "completed" and result["counts"]["articles_new"] == len(GOOD)
    errors = load.query(settings.db_path, "SELECT url, stage, error_type FROM fetch_errors ORDER BY url")[1]
    assert errors == [(b + "/crash", "extract", "worker_crashed"), (b + "/hog", "extract", "memory_limit"),
                      (b + "/spin", "extract", "page_timeout")]
    assert load.query(settings.db_path, "SELECT count(*) FROM feed_entries WHERE status = 'failed'")[1] == [(3,)]
    again = ingest(settings=settings)
    assert again["counts"]["articles_failed"] == 0 and again["counts"]["articles_new"] == 0


@pytest.mark.usefixtures("prefect_harness")
def test_a_feed_whose_parsing_raises_costs_only_that_feed(site, settings_for, tmp_path, monkeypatch):
    import flows.ingest

    real = flows.ingest.parse_feed

    def flaky(raw, *, feed, **kwargs):
        if feed.feed_id == "bad":
            raise RecursionError("maximum recursion depth exceeded")
        return real(raw, feed=feed, **kwargs)

    monkeypatch.setattr(flows.ingest, "parse_feed", flaky)
    for path in GOOD[:3]:
        site.add(path, Route(page("Story " + path)))
    b = site.base_url
    feeds = _feeds_toml(tmp_path, site, {"good": rss([(b + p, p) for p in GOOD[:3]]),
                                         "bad": rss([(b + "/ok/never", "x")])})
    settings = settings_for(feeds_file=feeds, respect_robots=False)
    result = ingest(settings=settings)
    assert result["status"] == "partial" and result["counts"]["articles_new"] == 3
    assert result["counts"]["feeds_ok"] == 1 and result["counts"]["feeds_failed"] == 1
    sql = "SELECT url, stage, error_type, message FROM fetch_errors"
    [(url, stage, kind, msg)] = load.query(settings.db_path, sql)[1]
    assert (url, stage, kind) == (b + "/feed/bad", "feed", "feed_error") and msg.startswith("RecursionError")


def test_a_batch_of_only_crashing_pages_is_recorded_page_by_page(settings_for):
    """Every page of a batch kills its worker: each is recorded (an empty batch still runs, so the
    workers are sound) and the pool goes on serving."""
    from datetime import UTC, datetime

    import poison_worker

    from schemas.records import Response
    from tasks.pool import WorkerPool

    entries = [FeedEntry("f", f"k{i}", f"https://x.example/{i}", f"https://x.example/{i}") for i in range(3)]
    bodies = [page("a") + poison_worker.CRASH, page("b") + poison_worker.CRASH, page("Good story")]
    resps = [Response(e.url, e.url, 200, body, "text/html", {}, datetime.now(UTC), 0.1)
             for e, body in zip(entries, bodies, strict=True)]
    model = settings_for().spacy_model
    with WorkerPool(1, model, 0, 0.0, 20_000, fn=poison_worker.run_batch) as pool:
        tagged, failures = pool.run(entries[:2], resps[:2])
        assert tagged == [] and [(e.entry_key, f.error_type) for e, f in failures] == [
            ("k0", "worker_crashed"), ("k1", "worker_crashed")]
        assert "exit code 3" in failures[0][1].message
        tagged, failures = pool.run(entries[2:], resps[2:])
        assert [t.article.entry_key for t in tagged] == ["k2"] and not failures


def test_workers_that_cannot_run_at_all_fail_the_run_instead_of_every_page(settings_for):
    """A broken install (here: a model that does not exist) is not blamed on the pages."""
    from datetime import UTC, datetime

    from schemas.records import Response
    from tasks.pool import WorkerPool

    entries = [FeedEntry("f", f"k{i}", f"https://x.example/{i}", f"https://x.example/{i}") for i in range(2)]
    resps = [Response(e.url, e.url, 200, page("S"), "text/html", {}, datetime.now(UTC), 0.1) for e in entries]
    with WorkerPool(1, "no_such_model_pkg", 0, 0.0, 20_000) as pool, \
            pytest.raises(RuntimeError, match="die on every page"):
        pool.run(entries, resps)


@pytest.mark.usefixtures("prefect_harness")
def test_a_small_run_tags_in_a_worker_and_its_own_process_never_imports_spacy(site, settings_for, tmp_path):
    """A run below parallel_min_articles uses one worker process: the flow's process stays free of
    spaCy and trafilatura, and the run loads every page."""
    from prefect.settings import PREFECT_API_URL

    for path in GOOD[:2]:
        site.add(path, Route(page("Story " + path)))
    feeds = _feeds_toml(tmp_path, site, {"f": rss([(site.url(p), p) for p in GOOD[:2]])})
    settings = settings_for(feeds_file=feeds, workers=2, respect_robots=False)
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from flows.ingest import ingest
        from pressbox.settings import get_settings
        if __name__ == "__main__":
            result = ingest(settings=get_settings(**{settings.model_dump(mode="json")!r}))
            print(result["counts"]["articles_new"], sorted(m for m in ("spacy", "trafilatura", "thinc")
                                                           if m in sys.modules))
    """)
    script = tmp_path / "small_run.py"
    script.write_text(code)
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    out = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "2 []"


@pytest.mark.usefixtures("prefect_harness")
def test_a_spent_run_budget_leaves_pages_pending_for_the_next_run(site, settings_for, tmp_path):
    for path in GOOD:
        site.add(path, Route(page("Story " + path)))
    feeds = _feeds_toml(tmp_path, site, {"f": rss([(site.url(p), p) for p in GOOD])})
    result = ingest(settings=settings_for(feeds_file=feeds, run_budget=0.0))
    assert result["counts"]["articles_new"] == 0 and any("run budget" in n for n in result["notes"])
    assert all(site.hits[p] == 0 for p in GOOD)
    assert ingest(settings=settings_for(feeds_file=feeds))["counts"]["articles_new"] == len(GOOD)


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.usefixtures("prefect_harness")
def test_kill_9_of_a_run_leaves_no_worker_and_keeps_its_counts(site, settings_for, tmp_path):
    """SIGKILL a run whose pool is up: within 10 s its fork server, resource tracker and workers
    are gone, and the runs row shows what the run had loaded."""
    from prefect.settings import PREFECT_API_URL

    for i in range(20):
        site.add(f"/ok/k{i}", Route(page(f"Story {i}")))
    feeds = _feeds_toml(tmp_path, site, {"f": rss([(site.url(f"/ok/k{i}"), "k") for i in range(20)])})
    settings = settings_for(feeds_file=feeds, workers=2, parallel_min_articles=1, batch_size=5, respect_robots=False)
    marker = tmp_path / "second-batch"
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from tasks import load
        real = load.load_batch
        def slow(*args, **kwargs):
            counts = real(*args, **kwargs)
            if load.query(args[0], "SELECT count(*) FROM articles")[1][0][0] >= 5:
                Path({str(marker)!r}).write_text("now")
                time.sleep(600)
            return counts
        load.load_batch = slow
        from flows.ingest import ingest
        from pressbox.settings import get_settings
        ingest(settings=get_settings(**{settings.model_dump(mode="json")!r}))
    """)
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    child = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert child.poll() is None, "child run ended before its first load"
            assert time.monotonic() < deadline, "child run never loaded a batch"
            time.sleep(0.2)
        started = _descendants(child.pid)
        assert len(started) >= 3  # fork server, resource tracker, workers
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        gone_by = time.monotonic() + 10
        while any(_alive(p) for p in started) and time.monotonic() < gone_by:
            time.sleep(0.2)
        left = [p for p in started if _alive(p)]
        for p in left:  # never leave them to the rest of the suite
            os.kill(p, signal.SIGKILL)
        assert not left, f"processes outlived the killed run: {left}"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    [(status, new)] = load.query(settings.db_path, "SELECT status, articles_new FROM runs")[1]
    loaded = load.query(settings.db_path, "SELECT count(*) FROM articles")[1][0][0]
    assert status == "running" and new == loaded >= 5


def test_pages_the_breaker_skipped_spend_no_attempt(tmp_path):
    db = tmp_path / "wh.duckdb"
    feed = FeedConfig("f", "https://x.example/rss", "F")
    load.prepare(db, [feed])
    entry = FeedEntry("f", "k", "https://x.example/a", "https://x.example/a")
    load.record_feeds(db, "r", [FeedResult("f", feed.url, "ok", 200, entries=(entry,))])
    skipped = FetchFailure("host_unresponsive", "x.example timed out 3 times", retryable=True)
    load.load_batch(db, "r", [], [(entry, skipped.to_error(entry.url, "page"))], max_attempts=1)
    assert load.query(db, "SELECT status, attempts FROM feed_entries")[1] == [("pending", 0)]
    assert load.query(db, "SELECT error_type FROM fetch_errors")[1] == [("host_unresponsive",)]
