"""HTTP to providers: one pooled aiohttp session, SSE decoding, and failures classified for failover.

aiohttp is used rather than httpx or litellm's own client because it costs a fraction of the
CPU per request (see shared/notes/hot-path.md); the hot path is dominated by the HTTP client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import orjson

from llm.calls import StreamBroken
from llm.errors import Failure, UpstreamFailure, classify_status, parse_retry_after

MAX_ERROR_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect_s: float
    total_s: float  # whole answer when not streaming
    first_byte_s: float  # stream: until the first event
    idle_s: float  # stream: between reads after that


class Upstream:
    def __init__(self, max_connections: int) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0, ttl_dns_cache=300)
        # No cookie jar: one session serves every client, so no state may leak between them.
        self._session = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=True
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the LLM router was not started")
        return self._session

    async def post_json(
        self, url: str, headers: Mapping[str, str], body: bytes, timeout_s: float, connect_s: float
    ) -> bytes:
        """The 2xx body, or an UpstreamFailure saying whether failing over can help."""
        timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(connect_s, timeout_s))
        async with (
            failures_classified(timeout_s),
            self.session.post(url, data=body, headers=headers, timeout=timeout) as response,
        ):
            if response.status >= 300:
                raise await failure_from(response)
            return await response.read()

    async def open_sse(
        self, url: str, headers: Mapping[str, str], body: bytes, timeouts: Timeouts
    ) -> tuple[aiohttp.ClientResponse, AsyncIterator[bytes]]:
        """A 2xx event stream and its `data:` payloads; the caller reads the first one itself."""
        timeout = aiohttp.ClientTimeout(total=None, connect=timeouts.connect_s, sock_read=timeouts.idle_s)
        async with failures_classified(timeouts.first_byte_s):
            response = await self.session.post(url, data=body, headers=headers, timeout=timeout)
            if response.status >= 300:
                try:
                    raise await failure_from(response)
                finally:
                    response.release()
        return response, sse_payloads(response)


@asynccontextmanager
async def failures_classified(timeout_s: float) -> AsyncIterator[None]:
    """Transport errors as retryable UpstreamFailures with a one-line message (no URL, no secrets)."""
    try:
        yield
    except TimeoutError as exc:
        raise UpstreamFailure(Failure.RETRYABLE, 504, f"upstream timed out after {timeout_s:.1f}s") from exc
    except aiohttp.ClientConnectorError as exc:
        raise UpstreamFailure(Failure.RETRYABLE, 502, f"upstream connection failed: {exc.os_error}") from exc
    except aiohttp.ClientError as exc:
        raise UpstreamFailure(
            Failure.RETRYABLE, 502, f"upstream connection broke: {type(exc).__name__}"
        ) from exc


async def failure_from(response: aiohttp.ClientResponse) -> UpstreamFailure:
    body = await response.content.read(MAX_ERROR_BODY)
    text = body.decode("utf-8", "replace")
    kind = classify_status(response.status, text)
    message = f"upstream answered {response.status}: {_error_message(text)}"
    return UpstreamFailure(kind, response.status, message, retry_after(response.headers), body)


def retry_after(headers: Mapping[str, str]) -> float | None:
    millis = parse_retry_after(headers.get("retry-after-ms"))
    return millis / 1000 if millis is not None else parse_retry_after(headers.get("retry-after"))


def _error_message(text: str) -> str:
    try:
        data = orjson.loads(text)
        error = data.get("error") if isinstance(data, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        if isinstance(message, str):
            return message[:500]
    except orjson.JSONDecodeError:
        pass
    return text.strip().replace("\n", " ")[:200] or "(empty body)"


async def sse_payloads(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """The `data:` payload of each server-sent event, as the bytes arrive.

    A connection that ends or breaks before the stream's own end marker is the caller's to judge;
    transport errors surface as StreamBroken.
    """
    buffer = b""
    try:
        async for chunk in response.content.iter_any():
            buffer += chunk
            if b"\r" in buffer:
                buffer = buffer.replace(b"\r\n", b"\n")
            *events, buffer = buffer.split(b"\n\n")
            for event in events:
                data = _event_data(event)
                if data is not None:
                    yield data
    except TimeoutError as exc:
        raise StreamBroken("upstream stream stalled (read timeout)") from exc
    except aiohttp.ClientError as exc:
        raise StreamBroken(f"upstream stream broke: {type(exc).__name__}") from exc


def _event_data(event: bytes) -> bytes | None:
    if event.startswith(b"data: ") and b"\n" not in event:
        return event[6:]  # the common case: one data line
    lines = [line[5:].removeprefix(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None


async def first_event(events: AsyncIterator[bytes], close: Callable[[], None]) -> bytes:
    """Wait for a stream's first event; a stream that ends or breaks before it is a failover case."""
    try:
        return await anext(events)
    except (StopAsyncIteration, StreamBroken) as exc:
        close()
        message = "upstream closed the stream before the first event"
        raise UpstreamFailure(Failure.RETRYABLE, 502, message) from exc
    except BaseException:
        close()
        raise


def no_first_byte(seconds: float) -> UpstreamFailure:
    return UpstreamFailure(Failure.RETRYABLE, 504, f"no first byte within {seconds:.1f}s")
