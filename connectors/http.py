"""Pooled, SSRF-guarded HTTP to upstreams: one aiohttp session per origin, clear errors for the hub."""

from __future__ import annotations

import asyncio
from typing import NamedTuple

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from connectors.ssrf import AddressPolicy, BlockedAddressError, GuardedResolver, check_url

USER_AGENT = "mcphub/0.1"
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class UpstreamError(Exception):
    """An upstream request failed; the message is one line, safe to show (no secrets, no query)."""


class UpstreamUnreachableError(UpstreamError):
    """No connection could be made, or it broke before a full response arrived."""


class UpstreamTimeoutError(UpstreamError):
    """The upstream did not connect or answer within the configured time."""


class UpstreamBlockedError(UpstreamError):
    """The SSRF guard refused the URL or every address its host resolves to."""


class ResponseTooLargeError(UpstreamError):
    """The response body exceeds the allowed size."""


class UpstreamStatusError(UpstreamError):
    """The upstream answered with a non-2xx status where only success is usable."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class TooManyRedirectsError(UpstreamError):
    """More than MAX_REDIRECTS redirects."""


class Origin(NamedTuple):
    """scheme://host:port: the unit of connection pooling."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: URL) -> Origin:
        host, port = url.raw_host, url.port
        if not host or port is None:
            raise UpstreamBlockedError(f"refusing URL without a host: {describe_url(url)}")
        return cls(url.scheme, host.lower(), port)


def describe_url(url: URL) -> str:
    """The URL for messages: without query, fragment or user info, which may carry secrets."""
    try:
        return str(url.with_query(None).with_fragment(None).with_user(None))
    except ValueError:
        return "<invalid URL>"


class UpstreamPool:
    """One pooled `aiohttp.ClientSession` per upstream origin, created on first use.

    Sessions have no cookie jar: they are shared by every caller of an origin, so cookies an
    upstream sets must never flow into another caller's request. Requests are sent with
    `allow_redirects=False`; callers follow redirects themselves (`redirect_target`) so each hop
    goes through `session()` and therefore through the address policy.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        connect_timeout_s: float,
        timeout_s: float,
        max_connections_per_upstream: int,
        resolver: AbstractResolver | None = None,
        max_origins: int = 256,
    ) -> None:
        """`resolver` is the name resolver the guard wraps (default: aiohttp's default resolver).

        `max_origins` bounds how many per-origin sessions are kept, since redirects and spec
        URLs can name arbitrary origins; beyond it the oldest session is retired.
        """
        self.policy = policy
        self._max_origins = max(1, max_origins)
        self._retiring: set[aiohttp.ClientSession] = set()
        self._retiring_tasks: set[asyncio.Task[None]] = set()
        self._inner_resolver = resolver
        self.connect_timeout_s = connect_timeout_s
        self.timeout_s = timeout_s
        self._max_connections = max_connections_per_upstream
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=connect_timeout_s)
        self._sessions: dict[Origin, aiohttp.ClientSession] = {}
        self._resolver: GuardedResolver | None = None
        self._closed = False

    def session(self, origin: Origin) -> aiohttp.ClientSession:
        """The pooled session for `origin`; raises UpstreamBlockedError for a refused IP literal."""
        session = self._sessions.get(origin)
        if session is None:
            session = self._new_session(origin)
            if len(self._sessions) >= self._max_origins:
                self._retire_oldest()
            self._sessions[origin] = session
        return session

    def _retire_oldest(self) -> None:
        old = self._sessions.pop(next(iter(self._sessions)))
        self._retiring.add(old)
        # Requests still using it end within the request timeout; close it only after that.
        asyncio.get_running_loop().call_later(self.timeout_s + 1.0, self._close_retired, old)

    def _close_retired(self, session: aiohttp.ClientSession) -> None:
        if session in self._retiring:
            self._retiring.discard(session)
            task = asyncio.get_running_loop().create_task(session.close())
            self._retiring_tasks.add(task)
            task.add_done_callback(self._retiring_tasks.discard)

    def _new_session(self, origin: Origin) -> aiohttp.ClientSession:
        if self._closed:
            raise UpstreamError("the upstream pool is closed")
        if origin.scheme not in ("http", "https"):
            raise UpstreamBlockedError(f"refusing {origin.scheme} URL: only http and https are allowed")
        try:
            # aiohttp skips the resolver for IP literals, so they are judged here, once per origin.
            self.policy.check_host_literal(origin.host)
        except BlockedAddressError as exc:
            raise UpstreamBlockedError(str(exc)) from exc
        if self._resolver is None:
            self._resolver = GuardedResolver(self.policy, self._inner_resolver)
        connector = aiohttp.TCPConnector(
            resolver=self._resolver, limit=self._max_connections, limit_per_host=self._max_connections
        )
        return aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,  # no proxies from the environment: they would bypass the resolver guard
            raise_for_status=False,
        )

    async def aclose(self) -> None:
        self._closed = True
        sessions = [*self._sessions.values(), *self._retiring]
        self._sessions, self._retiring = {}, set()
        for session in sessions:
            await session.close()
        if self._retiring_tasks:
            await asyncio.gather(*self._retiring_tasks, return_exceptions=True)
        if self._resolver is not None:
            await self._resolver.close()
            self._resolver = None

    def translate(self, exc: BaseException, url: URL) -> UpstreamError:
        """Map an aiohttp/OS/timeout exception from a request to `url` onto a clear UpstreamError."""
        where = describe_url(url)
        if isinstance(exc, UpstreamError):
            return exc
        blocked = _blocked_cause(exc)
        if blocked is not None:
            return UpstreamBlockedError(str(blocked))
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return UpstreamTimeoutError(f"timed out connecting to {where} after {self.connect_timeout_s:g} s")
        if isinstance(exc, TimeoutError):
            return UpstreamTimeoutError(f"{where} did not answer within {self.timeout_s:g} s")
        if isinstance(exc, aiohttp.ClientConnectorError):
            return UpstreamUnreachableError(f"cannot connect to {where}: {_reason(exc.os_error)}")
        if isinstance(exc, aiohttp.InvalidURL):
            return UpstreamError(f"invalid upstream URL {where}")
        if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError | OSError):
            return UpstreamUnreachableError(f"connection to {where} failed: {_reason(exc)}")
        return UpstreamError(f"request to {where} failed: {_reason(exc)}")

    async def fetch_bytes(self, url: str, *, max_bytes: int) -> bytes:
        """GET `url` (e.g. a spec), following at most MAX_REDIRECTS redirects, each hop guarded."""
        target = _checked_url(url)
        for _ in range(MAX_REDIRECTS + 1):
            try:
                async with self.session(Origin.of(target)).get(
                    target, allow_redirects=False, headers=_FETCH_HEADERS
                ) as resp:
                    next_url = redirect_target(resp, target)
                    if next_url is None:
                        return await _success_body(resp, target, max_bytes)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise self.translate(exc, target) from exc
            target = _checked_url(str(next_url))
        raise TooManyRedirectsError(f"more than {MAX_REDIRECTS} redirects fetching {describe_url(URL(url))}")


_FETCH_HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json, application/yaml, text/yaml, */*"}


def _checked_url(url: str) -> URL:
    try:
        check_url(url)
        return URL(url)
    except (BlockedAddressError, ValueError) as exc:
        raise UpstreamBlockedError(str(exc)) from exc


async def _success_body(resp: aiohttp.ClientResponse, url: URL, max_bytes: int) -> bytes:
    if not 200 <= resp.status < 300:
        text, _ = await read_capped(resp, 300)
        detail = text.decode("utf-8", "replace").strip()
        raise UpstreamStatusError(
            f"{describe_url(url)} answered HTTP {resp.status} {resp.reason or ''}".rstrip()
            + (f": {detail}" if detail else ""),
            resp.status,
        )
    body, truncated = await read_capped(resp, max_bytes)
    if truncated:
        resp.close()
        raise ResponseTooLargeError(f"{describe_url(url)} is larger than the limit of {max_bytes} bytes")
    return body


def redirect_target(resp: aiohttp.ClientResponse, url: URL) -> URL | None:
    """Where a 3xx response points (resolved against `url`), or None if it is not a redirect."""
    if resp.status not in REDIRECT_STATUSES:
        return None
    location = resp.headers.get("Location")
    if not location:
        return None
    try:
        return url.join(URL(location))
    except ValueError as exc:
        raise UpstreamError(f"{describe_url(url)} redirected to an invalid URL") from exc


async def read_capped(resp: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """Read at most `limit` bytes of the (decompressed) body; the flag says whether there was more."""
    length = resp.content_length
    # A declared length is the compressed size, so only trust it without Content-Encoding.
    if length is not None and length <= limit and "Content-Encoding" not in resp.headers:
        body = await resp.read()
        return (body[:limit], True) if len(body) > limit else (body, False)
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await resp.content.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    body = b"".join(chunks)
    return (body[:limit], True) if size > limit else (body, False)


def _blocked_cause(exc: BaseException) -> BlockedAddressError | None:
    if isinstance(exc, BlockedAddressError):
        return exc
    if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(exc.os_error, BlockedAddressError):
        return exc.os_error
    cause = exc.__cause__
    return cause if isinstance(cause, BlockedAddressError) else None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
