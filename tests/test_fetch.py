"""tasks/fetch.py against a real local server: limits, SSRF guard, politeness, retries."""

import gzip
import time

import pytest
from conftest import Route

from tasks.fetch import Fetcher, FetchFailure, is_public, parse_retry_after

PAGE = b"<html><body><article><p>" + b"Words of a story. " * 40 + b"</p></article></body></html>"


def failure(fetcher: Fetcher, url: str, **kw) -> FetchFailure:
    with pytest.raises(FetchFailure) as info:
        fetcher.get_page(url, **kw) if not kw else fetcher.get(url, **kw)
    return info.value


def test_page_fetch_ok(site, settings_for):
    site.add("/a", Route(PAGE))
    with Fetcher(settings_for()) as f:
        resp = f.get_page(site.url("/a"))
    assert resp.status == 200 and resp.content == PAGE and resp.content_type == "text/html"
    assert resp.final_url == site.url("/a")


def test_loopback_blocked_by_default(site, settings_for):
    site.add("/a", Route(PAGE))
    with Fetcher(settings_for(allow_private_hosts="")) as f:
        err = failure(f, site.url("/a"))
    assert err.error_type == "blocked_address" and site.hits["/a"] == 0


def test_allowlist_is_exact(site, settings_for):
    """Allowing 127.0.0.1 lets the test server through and nothing else private."""
    with Fetcher(settings_for(allow_private_hosts="127.0.0.1")) as f:
        for url in ("http://127.0.0.2:9/", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/",
                    "http://[::1]:9/", "http://0.0.0.0:9/"):
            err = failure(f, url)
            assert err.error_type == "blocked_address", url


def test_redirect_to_private_address_is_blocked(site, settings_for):
    site.add("/go", Route(b"", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
    with Fetcher(settings_for()) as f:
        assert failure(f, site.url("/go")).error_type == "blocked_address"


def test_allow_all_private(site, settings_for):
    site.add("/a", Route(PAGE))
    with Fetcher(settings_for(allow_private_hosts="true")) as f:
        assert f.get_page(site.url("/a")).status == 200


def test_non_http_scheme(settings_for):
    with Fetcher(settings_for()) as f:
        for url in ("ftp://example.com/x", "file:///etc/passwd", "gopher://x/"):
            assert failure(f, url).error_type == "unsupported_scheme"


def test_size_cap_and_gzip_bomb(site, settings_for):
    site.add("/big", Route(b"<html>" + b"x" * 300_000))
    bomb = gzip.compress(b"<html>" + b"\0" * 50_000_000)
    site.add("/bomb", Route(bomb, headers={"Content-Encoding": "gzip"}))
    with Fetcher(settings_for(max_page_bytes=100_000)) as f:
        assert failure(f, site.url("/big")).error_type == "too_large"
        assert failure(f, site.url("/bomb")).error_type == "too_large"


def test_non_html_is_skipped(site, settings_for):
    site.add("/doc.pdf", Route(b"%PDF-1.4 ...", content_type="application/pdf"))
    with Fetcher(settings_for()) as f:
        err = failure(f, site.url("/doc.pdf"))
    assert err.error_type == "not_html" and err.http_status == 200


def test_404_is_gone_and_not_retried(site, settings_for):
    with Fetcher(settings_for()) as f:
        err = failure(f, site.url("/missing"))
    assert err.error_type == "gone" and err.http_status == 404 and not err.retryable
    assert site.hits["/missing"] == 1


def test_503_with_retry_after_is_retried(site, settings_for):
    calls = []

    def flaky(handler):
        calls.append(time.monotonic())
        if len(calls) == 1:
            handler.send_response(503)
            handler.send_header("Retry-After", "1")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(PAGE)))
        handler.end_headers()
        handler.wfile.write(PAGE)

    site.add("/flaky", Route(handler=flaky))
    with Fetcher(settings_for()) as f:
        assert f.get_page(site.url("/flaky")).status == 200
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.9  # Retry-After honoured


def test_5xx_gives_up_after_retries(site, settings_for):
    site.add("/down", Route(b"oops", status=500))
    with Fetcher(settings_for(), retries=2) as f:
        err = failure(f, site.url("/down"))
    assert err.error_type == "http_500" and err.retryable and site.hits["/down"] == 3


def test_trickling_server_hits_total_deadline(site, settings_for):
    def trickle(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        try:
            for _ in range(1000):
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    site.add("/slow", Route(handler=trickle))
    with Fetcher(settings_for(request_deadline=1.0), retries=0) as f:
        start = time.monotonic()
        err = failure(f, site.url("/slow"))
    assert err.error_type == "deadline" and time.monotonic() - start < 5


def test_redirect_loop_is_capped(site, settings_for):
    site.add("/loop", Route(b"", status=302, headers={"Location": "/loop2"}))
    site.add("/loop2", Route(b"", status=302, headers={"Location": "/loop"}))
    with Fetcher(settings_for(max_redirects=5)) as f:
        assert failure(f, site.url("/loop")).error_type == "too_many_redirects"


def test_connection_refused_is_recorded(settings_for):
    with Fetcher(settings_for(), retries=0) as f:
        assert failure(f, "http://127.0.0.1:9/").error_type == "connect_error"


def test_robots_txt_is_honoured_for_pages(site, settings_for):
    site.add("/robots.txt", Route(b"User-agent: *\nDisallow: /private/\n", content_type="text/plain"))
    site.add("/private/a", Route(PAGE))
    site.add("/public/a", Route(PAGE))
    with Fetcher(settings_for()) as f:
        assert failure(f, site.url("/private/a")).error_type == "robots_disallowed"
        assert f.get_page(site.url("/public/a")).status == 200
        f.get_page(site.url("/public/a"))
    assert site.hits["/private/a"] == 0 and site.hits["/robots.txt"] == 1  # cached per host


def test_conditional_get_gets_304(site, settings_for):
    site.add("/feed.xml", Route(b"<rss/>", content_type="application/rss+xml"))
    with Fetcher(settings_for()) as f:
        first = f.get(site.url("/feed.xml"), max_bytes=10_000, ok_statuses=(200, 304))
        again = f.get(site.url("/feed.xml"), max_bytes=10_000, ok_statuses=(200, 304),
                      headers={"If-None-Match": first.headers["etag"]})
    assert first.status == 200 and again.status == 304 and again.content == b""


def test_per_host_interval(site, settings_for):
    site.add("/a", Route(PAGE))
    with Fetcher(settings_for(per_host_interval=0.3, respect_robots=False)) as f:
        start = time.monotonic()
        results = f.get_pages([site.url("/a")] * 4)
    assert all(not isinstance(r, FetchFailure) for r in results)
    assert time.monotonic() - start >= 0.9  # 4 starts, 0.3 s apart


def test_helpers():
    import ipaddress

    assert is_public(ipaddress.ip_address("93.184.216.34"))
    assert not is_public(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert not is_public(ipaddress.ip_address("224.0.0.1"))
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0) == 0.0
    assert parse_retry_after("soon") is None
