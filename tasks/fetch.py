"""The only module that does HTTP: bounded, polite, SSRF-guarded fetching with httpx."""

from __future__ import annotations

import email.utils
import ipaddress
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
from httpcore._backends.sync import SyncBackend, SyncStream
from protego import Protego

from pressbox.settings import PrivateAllowlist, Settings
from schemas.records import FetchError, Response

HTML_TYPES = ("text/html", "application/xhtml+xml")
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
GONE_STATUS = {404, 410}
MAX_RETRY_AFTER = 60.0  # seconds: a server asking for longer is recorded, not waited for
ROBOTS_MAX_BYTES = 512 * 1024


class FetchFailure(Exception):
    """A request that produced no usable response; carries what `fetch_errors` records."""

    def __init__(self, error_type: str, message: str, http_status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.error_type, self.message = error_type, message
        self.http_status, self.retryable = http_status, retryable

    def to_error(self, url: str, stage: str) -> FetchError:
        """The failure as a record for the warehouse."""
        return FetchError(
            url=url,
            stage=stage,
            error_type=self.error_type,
            message=self.message[:1000],
            http_status=self.http_status,
            at=datetime.now(UTC),
            retryable=self.retryable,
        )


class DNSFailure(Exception):
    """The host name did not resolve."""


class BlockedAddress(Exception):
    """The destination is private/loopback/link-local/... and was not allowed by settings."""


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for globally routable unicast addresses (IPv4-mapped IPv6 judged as IPv4)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class GuardedBackend(SyncBackend):
    """httpcore backend that resolves the host itself and refuses forbidden addresses.

    Checking at connect time (not before the request) covers every redirect hop and leaves no
    window for a DNS answer to change between the check and the connection.
    """

    def __init__(self, allowlist: PrivateAllowlist):
        self.allowlist = allowlist

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # noqa: ANN001
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise DNSFailure(f"DNS lookup failed for {host}: {exc}") from exc
        last_exc: Exception | None = None
        for family, socktype, proto, _, sockaddr in infos:
            ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
            if not is_public(ip) and not self.allowlist.allows(host, ip):
                raise BlockedAddress(f"{host} resolves to non-public address {ip} (see allow_private_hosts)")
            sock = socket.socket(family, socktype, proto)
            try:
                sock.settimeout(timeout)
                sock.connect(sockaddr)
            except TimeoutError as exc:
                sock.close()
                raise httpcore.ConnectTimeout(str(exc)) from exc
            except OSError as exc:
                sock.close()
                last_exc = exc
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return SyncStream(sock)
        raise httpcore.ConnectError(f"could not connect to {host}:{port}: {last_exc}")


def make_client(settings: Settings) -> httpx.Client:
    """An httpx client whose every connection goes through the SSRF guard."""
    transport = httpx.HTTPTransport()
    # httpx does not expose httpcore's network_backend; swap the pool it built for a guarded one.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=max(10, settings.concurrency * 2),
        network_backend=GuardedBackend(settings.private_allowlist),
    )
    return httpx.Client(
        transport=transport,
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        trust_env=False,
    )


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class HostGate:
    """Per-host politeness: at most N requests at once, and a minimum interval between starts."""

    def __init__(self, concurrency: int, interval: float):
        self.concurrency, self.interval = concurrency, interval
        self._lock = threading.Lock()
        self._sems: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}

    def _sem(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            return self._sems.setdefault(host, threading.BoundedSemaphore(self.concurrency))

    def run(self, host: str, fn: Callable[[], Response]) -> Response:
        """Call fn() when this host's turn comes."""
        with self._sem(host):
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start.get(host, 0.0))
                self._next_start[host] = start + self.interval
            if start > now:
                time.sleep(start - now)
            return fn()


class Fetcher:
    """Fetches URLs with hard limits; one per run, shared by all threads of that run."""

    def __init__(self, settings: Settings, client: httpx.Client | None = None, retries: int = 2):
        self.settings = settings
        self.client = client or make_client(settings)
        self.retries = retries
        self.gate = HostGate(settings.per_host_concurrency, settings.per_host_interval)
        self._robots: dict[str, Protego | FetchFailure | None] = {}
        self._robots_lock = threading.Lock()

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one request ----------------------------------------------------------------------------
    def _once(self, url: str, max_bytes: int, headers: dict[str, str]) -> Response:
        deadline = time.monotonic() + self.settings.request_deadline
        started = datetime.now(UTC)
        t0 = time.monotonic()
        try:
            with self.client.stream("GET", url, headers=headers) as resp:
                chunks: list[bytes] = []
                size = 0
                if resp.status_code == 200:
                    declared = resp.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes and "content-encoding" not in resp.headers:
                        raise FetchFailure("too_large", f"Content-Length {declared} exceeds cap {max_bytes}", 200)
                    # iter_bytes decodes gzip/deflate; the cap applies to decoded bytes (bomb-safe).
                    for chunk in resp.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise FetchFailure("too_large", f"body exceeds cap of {max_bytes} bytes", 200)
                        if time.monotonic() > deadline:
                            raise FetchFailure(
                                "deadline",
                                f"body not received within {self.settings.request_deadline}s",
                                retryable=True,
                            )
                        chunks.append(chunk)
                return Response(
                    requested_url=url,
                    final_url=str(resp.url),
                    status=resp.status_code,
                    content=b"".join(chunks),
                    content_type=resp.headers.get("content-type", "").split(";")[0].strip().lower(),
                    headers={k.lower(): v for k, v in resp.headers.items()},
                    fetched_at=started,
                    elapsed=time.monotonic() - t0,
                    redirects=len(resp.history),
                )
        except BlockedAddress as exc:
            raise FetchFailure("blocked_address", str(exc)) from exc
        except DNSFailure as exc:
            raise FetchFailure("dns_error", str(exc), retryable=True) from exc
        except httpx.TooManyRedirects as exc:
            raise FetchFailure("too_many_redirects", str(exc)) from exc
        except httpx.UnsupportedProtocol as exc:
            raise FetchFailure("unsupported_scheme", str(exc)) from exc
        except httpx.TimeoutException as exc:
            raise FetchFailure("timeout", f"{type(exc).__name__}: {exc}", retryable=True) from exc
        except httpx.DecodingError as exc:
            raise FetchFailure("decoding_error", str(exc)) from exc
        except httpx.ConnectError as exc:
            kind = "tls_error" if "SSL" in str(exc) or "CERTIFICATE" in str(exc) else "connect_error"
            raise FetchFailure(kind, str(exc) or type(exc).__name__, retryable=kind == "connect_error") from exc
        except (httpx.TransportError, httpx.InvalidURL, httpx.StreamError) as exc:
            raise FetchFailure("transport_error", f"{type(exc).__name__}: {exc}", retryable=True) from exc

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        headers: dict[str, str] | None = None,
        ok_statuses: Iterable[int] = (200,),
    ) -> Response:
        """GET with retries on retryable failures (backoff with jitter; Retry-After honoured)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchFailure("unsupported_scheme", f"not an http(s) URL: {url[:200]}")
        ok = set(ok_statuses)
        attempt = 0
        while True:
            try:
                resp = self.gate.run(parts.hostname, lambda: self._once(url, max_bytes, headers or {}))
            except FetchFailure as exc:
                if exc.retryable and attempt < self.retries:
                    attempt += 1
                    time.sleep(self._backoff(attempt))
                    continue
                raise
            if resp.status in ok:
                return resp
            retryable = resp.status in RETRYABLE_STATUS
            wait = parse_retry_after(resp.headers.get("retry-after"))
            if retryable and attempt < self.retries and (wait is None or wait <= MAX_RETRY_AFTER):
                attempt += 1
                time.sleep(wait if wait is not None else self._backoff(attempt))
                continue
            kind = "gone" if resp.status in GONE_STATUS else f"http_{resp.status}"
            raise FetchFailure(kind, f"HTTP {resp.status}", resp.status, retryable=retryable)

    @staticmethod
    def _backoff(attempt: int) -> float:
        return min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random())

    # -- robots.txt -----------------------------------------------------------------------------
    def allowed_by_robots(self, url: str) -> bool:
        """robots.txt verdict for an article URL (cached per host for this fetcher's life).

        Raises the FetchFailure of the robots.txt request when the host cannot be reached at all,
        so the page's error says why (blocked address, DNS, refused) rather than "robots".
        """
        if not self.settings.respect_robots:
            return True
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._robots_lock:
            known = origin in self._robots
            rules = self._robots.get(origin)
        if not known:
            try:
                rules = self._load_robots(origin)
            except FetchFailure as exc:
                rules = exc
            with self._robots_lock:
                self._robots[origin] = rules
        if isinstance(rules, FetchFailure):
            raise rules
        return rules is None or rules.can_fetch(url, self.settings.user_agent)

    def _load_robots(self, origin: str) -> Protego | None:
        # RFC 9309: 4xx means no rules; a server error means disallow all; no answer at all is
        # raised to the caller (the page cannot be fetched either).
        try:
            resp = self.get(urljoin(origin, "/robots.txt"), max_bytes=ROBOTS_MAX_BYTES, ok_statuses=range(200, 500))
        except FetchFailure as exc:
            if exc.http_status is not None and exc.http_status >= 500:
                return Protego.parse("User-agent: *\nDisallow: /")
            if exc.error_type in ("too_large", "not_html", "deadline"):
                return None
            raise
        if resp.status != 200:
            return None
        return Protego.parse(resp.content.decode("utf-8", errors="replace"))

    # -- pages ----------------------------------------------------------------------------------
    def get_page(self, url: str) -> Response:
        """Fetch an article page: robots-checked, HTML only, size-capped."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise FetchFailure("unsupported_scheme", f"not an http(s) URL: {url[:200]}")
        if not self.allowed_by_robots(url):
            raise FetchFailure("robots_disallowed", "robots.txt disallows this URL for our user agent")
        resp = self.get(url, max_bytes=self.settings.max_page_bytes, headers={"Accept": "text/html,*/*;q=0.5"})
        if resp.content_type and resp.content_type not in HTML_TYPES:
            raise FetchFailure("not_html", f"content type {resp.content_type!r} is not HTML", resp.status)
        if not resp.content.strip():
            raise FetchFailure("empty_body", "page body is empty", resp.status)
        return resp

    def get_pages(self, urls: list[str]) -> list[Response | FetchFailure]:
        """Fetch many pages concurrently (global and per-host limits); results in input order."""
        if not urls:
            return []

        def one(u: str) -> Response | FetchFailure:
            try:
                return self.get_page(u)
            except FetchFailure as exc:
                return exc

        with ThreadPoolExecutor(max_workers=min(self.settings.concurrency, len(urls))) as pool:
            return list(pool.map(one, urls))
