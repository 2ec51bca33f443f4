"""The hostile routes of ../shared/hostile/hostile.py, copied (scaled down) for the local test server.

Each handler writes raw bytes to the socket, as a broken or hostile server would; sizes and
durations are small so each case costs seconds, with the client's limits set smaller still.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from http.server import BaseHTTPRequestHandler

from pressbox.localsite import Route

WORDS = ("Arsenal beat Chelsea two nil at the Emirates Stadium on Saturday as Mikel Arteta praised "
         "his players after a fine performance in the Premier League title race this season. ")


def page(title: str, extra_head: str = "") -> bytes:
    """A good article page."""
    body = "<p>" + WORDS * 8 + "</p>"
    return (f"<html><head><title>{title}</title>{extra_head}</head><body><article><h1>{title}</h1>"
            f"{body}</article></body></html>").encode()


def _raw(*parts: bytes, secs: float = 0.0, repeat: bytes = b"", sleep: float = 0.0):  # noqa: ANN202
    """A handler that writes `parts`, then `repeat` over and over for `secs` seconds."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        try:
            for part in parts:
                h.wfile.write(part)
            t0 = time.monotonic()
            while repeat and time.monotonic() - t0 < secs:
                h.wfile.write(repeat)
                if sleep:
                    time.sleep(sleep)
        except OSError:  # the client hung up: what a limit is for
            pass

    return handler


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n" % len(data) + data + b"\r\n"


def _head(status: str, *headers: str, length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Content-Type: text/html", *headers]
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def poison_routes(secs: float = 20.0) -> dict[str, Route]:
    """The 11 bad pages of hostile.py's `poison2` feed (same paths, no query strings)."""
    bomb = gzip.compress(b"\0" * (64 << 20), 9)  # 64 MiB of zeros; the client's cap is far smaller
    inner = gzip.compress(b"\0" * (1 << 20), 9)
    gzip2 = gzip.compress(inner * 64, 9)  # gzip of gzip: 64 MiB two layers down
    big = (WORDS * (300_000 // len(WORDS) + 1))[:300_000]
    surrogate_ld = ('{"@type": "NewsArticle", "headline": "Surr", "articleBody": "'
                    + "Arsenal won the match today at home. " * 10 + '\\ud800 end"}')
    return {
        "/surrogate": Route(f'<html><head><title>Surr</title><script type="application/ld+json">{surrogate_ld}'
                            '</script></head><body><p>stub</p></body></html>'.encode()),
        "/deepjson": Route(b'<html><head><title>Deep</title><script type="application/ld+json">'
                           + b"[" * 100_000 + b"]" * 100_000 + b"</script></head><body>" + page("deep")
                           + b"</body></html>"),
        "/bigbody": Route(('<html><head><title>Big</title><script type="application/ld+json">'
                           + json.dumps({"@type": "NewsArticle", "headline": "Big", "articleBody": big})
                           + "</script></head><body><p>stub</p></body></html>").encode()),
        "/redir-bomb": Route(handler=_raw(_head("302 Found", "Location: /ok/after-bomb", "Content-Encoding: gzip",
                                                length=len(bomb)), bomb)),
        "/redir-endless": Route(handler=_raw(_head("302 Found", "Location: /ok/x"), secs=secs,
                                             repeat=_chunk(b"A" * 65536))),
        "/gzip2": Route(handler=_raw(_head("200 OK", "Content-Encoding: gzip, gzip", length=len(gzip2)), gzip2)),
        "/header-trickle": Route(handler=_raw(b"HTTP/1.1 200 OK\r\n", secs=secs, repeat=b"X", sleep=0.5)),
        "/infinite-100": Route(handler=_raw(secs=secs, repeat=b"HTTP/1.1 100 Continue\r\n\r\n" * 10, sleep=0.05)),
        "/deflate-empty-blocks": Route(handler=_raw(_head("200 OK", "Content-Encoding: deflate"), _chunk(b"\x78\x01"),
                                                    secs=secs, repeat=_chunk(b"\x00\x00\x00\xff\xff" * 13000))),
        "/gzip-empty-then-garbage": Route(handler=_raw(_head("200 OK", "Content-Encoding: gzip"),
                                                       _chunk(gzip.compress(b"")), secs=secs,
                                                       repeat=_chunk(os.urandom(65536)))),
        "/redir-trickle": Route(handler=_raw(_head("302 Found", "Location: /ok/x", length=100_000), secs=secs,
                                             repeat=b"A", sleep=0.5)),
    }


def rss(items: list[tuple[str, str]]) -> bytes:
    """An RSS feed of (link, title) items; titles are XML as given (entities and references pass)."""
    body = "".join(f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid><description>A short "
                   "summary of the story about football and more words here.</description></item>"
                   for link, title in items)
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>' + body
            + "</channel></rss>").encode()


def quad_feed(base: str, kib: int = 256, refs: int = 200) -> bytes:
    """One large plain entity referenced many times (hostile.py's `quad`, smaller)."""
    val, many = "A" * (kib << 10), "&a;" * refs
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "{val}">\n]>\n<rss version="2.0"><channel>'
            f"<title>t</title><item><title>{many}</title><link>{base}/ok/q</link><description>{many}</description>"
            "</item></channel></rss>").encode()
