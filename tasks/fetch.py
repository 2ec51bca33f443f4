"""The only module that does HTTP: bounded, polite, SSRF-guarded fetching with httpx."""

from __future__ import annotations

import email.utils
import ipaddress
import random
import socket
import threading
import time
import zlib
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
HEADER_ALLOWANCE = 1024 * 1024  # wire bytes beyond the body cap a whole exchange may use (headers, 1xx, hops)
REDIRECT_STATUS = {301, 302, 303, 307, 308}
REDIRECT_BODY_NOTE = 64 * 1024  # a redirect body declared longer than this (never read) is noted
TIMEOUT_ERRORS = {"timeout", "deadline"}  # what counts toward a host's breaker
# IPv6 ranges that carry an IPv4 address inside: judged by that address (::a.b.c.d, NAT64, 6to4)
_EMBEDS_IPV4 = (ipaddress.ip_network("::/96"), ipaddress.ip_network("64:ff9b::/96"),
                ipaddress.ip_network("64:ff9b:1::/48"))


class FetchFailure(Exception):
    """A request that produced no usable response; carries what `fetch_errors` records."""

    def __init__(self, error_type: str, message: str, http_status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.error_type, self.message = error_type, message
        self.http_status, self.retryable = http_status, retryable

    def __reduce__(self) -> tuple:
        """Pickle with every argument: failures travel to worker processes with their pages."""
        return type(self), (self.error_type, self.message, self.http_status, self.retryable)

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
    """True for globally routable unicast addresses.

    An IPv6 address that embeds an IPv4 one (mapped, compatible `::7f00:2`, NAT64 `64:ff9b::/96`,
    6to4 `2002::/16`, Teredo) is public only if the IPv4 address inside is.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is None and any(ip in net for net in _EMBEDS_IPV4):
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:
            return is_public(inner) and ip.is_global
    return ip.is_global and not ip.is_multicast


class DeadlineExceeded(Exception):
    """The request's whole-exchange deadline passed (raised from inside a socket read)."""


class WireCapExceeded(Exception):
    """More bytes arrived on the wire for one request than its caps allow."""


class _Exchange:
    """The request this thread is making: its deadline and how many wire bytes it may read."""

    def __init__(self, deadline: float, wire_cap: int):
        self.deadline, self.wire_cap, self.wire = deadline, wire_cap, 0


_current = threading.local()  # .exchange: the _Exchange of the request in flight on this thread


class GuardedStream(SyncStream):
    """A socket stream whose every read and write ends by the request's deadline.

    Each blocking call gets the time left as its socket timeout, so the kernel cuts off whatever
    the server does (headers a byte a second, endless 1xx, redirect bodies, empty deflate blocks)
    at the deadline; wire bytes are counted against the request's cap as they arrive.
    """

    def _time_left(self, timeout: float | None) -> float | None:
        exchange = getattr(_current, "exchange", None)
        if exchange is None:
            return timeout
        left = exchange.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("request deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read within the deadline, counting wire bytes."""
        data = super().read(max_bytes, self._time_left(timeout))
        exchange = getattr(_current, "exchange", None)
        if exchange is not None:
            exchange.wire += len(data)
            if exchange.wire > exchange.wire_cap:
                raise WireCapExceeded(f"more than {exchange.wire_cap} bytes on the wire")
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write within the deadline."""
        super().write(buffer, self._time_left(timeout))


def _bounded(timeout: float | None) -> float | None:
    """`timeout` cut to what is left of the request's deadline (when a request is in flight)."""
    exchange = getattr(_current, "exchange", None)
    if exchange is None:
        return timeout
    left = exchange.deadline - time.monotonic()
    return max(0.001, left if timeout is None else min(timeout, left))


def resolve(host: str, port: int, timeout: float | None = None) -> list:
    """getaddrinfo, ended by the request's deadline (or `timeout`) even when the resolver hangs.

    The C resolver cannot be interrupted, so it runs in a daemon thread that is left to finish
    on its own (it never holds up the process's exit); the request gives up waiting for it.
    """
    box: dict[str, object] = {}
    done = threading.Event()

    def look() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except Exception as exc:  # noqa: BLE001 - gaierror, or a name the C library refuses: the page's error
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=look, name="pressbox-dns", daemon=True).start()
    wait = _bounded(timeout)
    if not done.wait(wait):
        exchange = getattr(_current, "exchange", None)
        if exchange is not None and time.monotonic() >= exchange.deadline - 0.05:
            raise DeadlineExceeded(f"DNS lookup for {host} did not answer within the request deadline")
        raise httpcore.ConnectTimeout(f"DNS lookup for {host} did not answer within {wait:g}s")
    if "error" in box:
        raise DNSFailure(f"DNS lookup failed for {host}: {box['error']}") from box["error"]
    return box["infos"]


class GuardedBackend(SyncBackend):
    """httpcore backend that resolves the host itself and refuses forbidden addresses.

    Checking at connect time (not before the request) covers every redirect hop and leaves no
    window for a DNS answer to change between the check and the connection.
    """

    def __init__(self, allowlist: PrivateAllowlist):
        self.allowlist = allowlist

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # noqa: ANN001
        infos = resolve(host, port, timeout)
        last_exc: Exception | None = None
        for family, socktype, proto, _, sockaddr in infos:
            ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
            if not is_public(ip) and not self.allowlist.allows(host, ip):
                raise BlockedAddress(f"{host} resolves to non-public address {ip} (see allow_private_hosts)")
            sock = socket.socket(family, socktype, proto)
            timeout = _bounded(timeout)
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
            return GuardedStream(sock)
        raise httpcore.ConnectError(f"could not connect to {host}:{port}: {last_exc}")


def _unread_redirect_body(url: str, resp: httpx.Response) -> FetchError | None:
    """A note (not fatal) when a redirect came with a large or unbounded body, which is never read.

    A short declared body ("Moved to ...") is normal and not noted: only one that is compressed,
    longer than REDIRECT_BODY_NOTE bytes, or of no declared length (chunked, or until close).
    """
    declared = resp.headers.get("content-length", "").strip()
    encoding = resp.headers.get("content-encoding", "").strip().lower()
    if declared.isdigit() and int(declared) <= REDIRECT_BODY_NOTE and encoding in ("", "identity"):
        return None
    what = (f"{declared} bytes declared" if declared.isdigit() else "of no declared length")
    what += f", Content-Encoding {encoding}" if encoding not in ("", "identity") else ""
    return FetchError(url=url, stage="page", error_type="redirect_body_dropped",
                      message=f"HTTP {resp.status_code} to {resp.headers.get('location', '')[:200]}: its body "
                              f"({what}) was not read", http_status=resp.status_code, at=datetime.now(UTC),
                      fatal=False)


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
        follow_redirects=False,  # followed by Fetcher itself, so a redirect's body is never read
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


class _Inflater:
    """One gzip/deflate layer whose output is capped, however small its input."""

    def __init__(self, encoding: str, cap: int):
        self.gzip = encoding in ("gzip", "x-gzip")
        self.cap, self.size, self.started = cap, 0, False
        self.raw_deflate = False
        self._d = self._new()

    def _new(self) -> zlib._Decompress:
        return zlib.decompressobj(31 if self.gzip else -zlib.MAX_WBITS if self.raw_deflate else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        """Decode what `data` completes, never producing more than the cap in all."""
        out = bytearray()
        while data:
            if self._d.eof:
                if not data.strip(b"\x00\r\n\t "):
                    break  # padding after the stream: harmless
                if not (self.gzip and data[:2] == b"\x1f\x8b"):
                    raise httpx.DecodingError("data after the end of the compressed stream")
                self._d = self._new()  # another gzip member
            try:
                piece = self._d.decompress(data, self.cap - self.size + 1)
            except zlib.error as exc:
                if self.gzip or self.started or self.raw_deflate:
                    raise httpx.DecodingError(f"bad compressed data: {exc}") from exc
                self.raw_deflate = True  # "deflate" sent without its zlib header, as some servers do
                self._d = self._new()
                continue
            self.started = True
            self.size += len(piece)
            if self.size > self.cap:
                raise FetchFailure("too_large", f"body exceeds cap of {self.cap} bytes (decoded)", 200)
            out += piece
            data = self._d.unused_data if self._d.eof else self._d.unconsumed_tail
        return bytes(out)


class BoundedDecoder:
    """Content-Encoding layers undone one by one, each capped (stacked encodings, bombs)."""

    def __init__(self, header: str, cap: int):
        names = [e.strip().lower() for e in header.split(",") if e.strip() and e.strip().lower() != "identity"]
        unknown = [n for n in names if n not in ("gzip", "x-gzip", "deflate")]
        if unknown:
            raise httpx.DecodingError(f"unsupported Content-Encoding {', '.join(unknown)}")
        self.cap = cap
        self.size = 0
        self.layers = [_Inflater(n, cap) for n in reversed(names)]  # the last applied is undone first

    def feed(self, data: bytes) -> bytes:
        """Decoded bytes for the next raw chunk."""
        for layer in self.layers:
            data = layer.feed(data)
        self.size += len(data)
        if self.size > self.cap:
            raise FetchFailure("too_large", f"body exceeds cap of {self.cap} bytes", 200)
        return data


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
        self._timeouts: dict[str, int] = {}  # host -> consecutive timeouts in this run (the breaker)
        self._breaker_lock = threading.Lock()

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one request ----------------------------------------------------------------------------
    def _once(self, url: str, max_bytes: int, headers: dict[str, str]) -> Response:
        """One request with its redirects, all under one deadline and one wire-byte budget."""
        t0 = time.monotonic()
        deadline = t0 + self.settings.request_deadline
        _current.exchange = _Exchange(deadline, max_bytes + HEADER_ALLOWANCE)
        try:
            return self._follow(url, max_bytes, headers, deadline, t0)
        except (DeadlineExceeded, httpx.TimeoutException) as exc:
            if time.monotonic() >= deadline - 0.05:
                why = f" ({exc})" if "DNS" in str(exc) else ""
                raise FetchFailure("deadline", f"no complete response within {self.settings.request_deadline}s{why}",
                                   retryable=True) from exc
            raise FetchFailure("timeout", f"{type(exc).__name__}: {exc}", retryable=True) from exc
        except WireCapExceeded as exc:
            raise FetchFailure("too_large", str(exc)) from exc
        except BlockedAddress as exc:
            raise FetchFailure("blocked_address", str(exc)) from exc
        except DNSFailure as exc:
            raise FetchFailure("dns_error", str(exc), retryable=True) from exc
        except httpx.UnsupportedProtocol as exc:
            raise FetchFailure("unsupported_scheme", str(exc)) from exc
        except httpx.DecodingError as exc:
            raise FetchFailure("decoding_error", str(exc)) from exc
        except httpx.ConnectError as exc:
            kind = "tls_error" if "SSL" in str(exc) or "CERTIFICATE" in str(exc) else "connect_error"
            raise FetchFailure(kind, str(exc) or type(exc).__name__, retryable=kind == "connect_error") from exc
        except (httpx.TransportError, httpx.InvalidURL, httpx.StreamError) as exc:
            raise FetchFailure("transport_error", f"{type(exc).__name__}: {exc}", retryable=True) from exc
        finally:
            _current.exchange = None

    def _follow(self, url: str, max_bytes: int, headers: dict[str, str], deadline: float, t0: float) -> Response:
        """GET, following redirects by hand: a redirect's body is never read, only its Location."""
        started = datetime.now(UTC)
        current = url
        notes: list[FetchError] = []
        for hop in range(self.settings.max_redirects + 1):
            resp = self.client.send(self.client.build_request("GET", current, headers=headers), stream=True)
            try:
                location = resp.headers.get("location")
                if resp.status_code in REDIRECT_STATUS and location:
                    if note := _unread_redirect_body(url, resp):
                        notes.append(note)
                    current = str(resp.url.join(location.strip()))
                    if urlsplit(current).scheme not in ("http", "https"):
                        raise FetchFailure("unsupported_scheme", f"redirect to a non-http(s) URL: {current[:200]}")
                    continue
                content = self._body(resp, max_bytes, deadline) if resp.status_code == 200 else b""
                return Response(
                    requested_url=url,
                    final_url=str(resp.url),
                    status=resp.status_code,
                    content=content,
                    content_type=resp.headers.get("content-type", "").split(";")[0].strip().lower(),
                    headers={k.lower(): v for k, v in resp.headers.items()},
                    fetched_at=started,
                    elapsed=time.monotonic() - t0,
                    redirects=hop,
                    notes=tuple(notes),
                )
            finally:
                resp.close()  # unread: the connection is dropped, not drained
        raise FetchFailure("too_many_redirects", f"more than {self.settings.max_redirects} redirects")

    def _body(self, resp: httpx.Response, max_bytes: int, deadline: float) -> bytes:
        """The decoded body, capped per decoding layer and in time."""
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes and "content-encoding" not in resp.headers:
            raise FetchFailure("too_large", f"Content-Length {declared} exceeds cap {max_bytes}", 200)
        decoder = BoundedDecoder(resp.headers.get("content-encoding", ""), max_bytes)
        chunks: list[bytes] = []
        for raw in resp.iter_raw():
            chunks.append(decoder.feed(raw))
            if time.monotonic() > deadline:  # decoding is CPU: the socket's deadline cannot see it
                raise DeadlineExceeded("request deadline passed while decoding")
        return b"".join(chunks)

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
        host = parts.hostname
        attempt = 0
        while True:
            self._check_breaker(host)
            try:
                resp = self.gate.run(host, lambda: self._once(url, max_bytes, headers or {}))
            except FetchFailure as exc:
                self._note(host, exc.error_type in TIMEOUT_ERRORS)
                # a request that used its whole deadline is not tried again at once: that triples the cost
                if exc.retryable and exc.error_type != "deadline" and attempt < self.retries:
                    attempt += 1
                    time.sleep(self._backoff(attempt))
                    continue
                raise
            self._note(host, False)
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

    def _check_breaker(self, host: str) -> None:
        """Fail fast once a host has timed out `host_breaker_timeouts` times in a row in this run."""
        limit = self.settings.host_breaker_timeouts
        with self._breaker_lock:
            tripped = limit > 0 and self._timeouts.get(host, 0) >= limit
        if tripped:
            raise FetchFailure("host_unresponsive", f"{host} timed out {limit} times in a row in this run; "
                               "its pages wait for the next run", retryable=True)

    def _note(self, host: str, timed_out: bool) -> None:
        with self._breaker_lock:
            self._timeouts[host] = self._timeouts.get(host, 0) + 1 if timed_out else 0

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
