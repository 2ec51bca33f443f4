"""A small HTTP server on 127.0.0.1 serving in-memory routes (the demo site and test fixtures)."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class _QuietServer(ThreadingHTTPServer):
    """A client hanging up mid-response (caps, deadlines) is expected here, not an error to print."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


@dataclass
class Route:
    """A canned response; `handler` (if set) writes the response itself (slow, endless, odd)."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None
    etag: bool = True  # answer If-None-Match with 304


class LocalSite:
    """Serve `routes` (path -> Route) on 127.0.0.1 from a background thread.

    `{base_url}` inside a body is replaced by the server's own address when the route is added.
    """

    def __init__(self, routes: dict[str, Route] | None = None, host: str = "127.0.0.1", port: int = 0):
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                path = urlsplit(self.path).path
                site.hits[path] += 1
                route = site.routes.get(path)
                if route is None:
                    self._send(404, b"not found", "text/plain", {})
                    return
                if route.handler is not None:
                    route.handler(self)
                    return
                headers = dict(route.headers)
                if route.etag and route.status == 200:
                    tag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
                    headers.setdefault("ETag", tag)
                    if self.headers.get("If-None-Match") == headers["ETag"]:
                        self._send(304, b"", route.content_type, {"ETag": headers["ETag"]})
                        return
                self._send(route.status, route.body, route.content_type, headers)

            def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

        self.server = _QuietServer((host, port), Handler)
        self.base_url = f"http://{host}:{self.server.server_address[1]}"
        self._thread: threading.Thread | None = None
        for path, route in (routes or {}).items():
            self.add(path, route)

    def add(self, path: str, route: Route) -> None:
        """Add or replace a route (filling in {base_url})."""
        if b"{base_url}" in route.body:
            route.body = route.body.replace(b"{base_url}", self.base_url.encode())
        self.routes[path] = route

    def url(self, path: str) -> str:
        """Absolute URL of a path on this server."""
        return self.base_url + path

    def start(self) -> LocalSite:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self.server.serve_forever, name="localsite", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LocalSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
