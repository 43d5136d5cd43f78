"""UpstreamPool.fetch_bytes (spec downloads): size cap, status errors, redirects, timeouts."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from connectors.http import (
    ResponseTooLargeError,
    TooManyRedirectsError,
    UpstreamBlockedError,
    UpstreamPool,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from tests.connectors.executor_support import (
    FakeResolver,
    RecordingUpstream,
    free_loopback_port,
    hang,
    make_pool,
    running_upstream,
)

SPEC = b"openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"


@pytest.fixture(scope="module")
async def upstream() -> AsyncIterator[RecordingUpstream]:
    async with running_upstream() as up:

        @up.route("/spec.yaml")
        async def spec(_r: web.Request) -> web.Response:
            return web.Response(body=SPEC, content_type="application/yaml")

        @up.route("/huge.json")
        async def huge(_r: web.Request) -> web.Response:
            return web.Response(body=b"x" * 10_000, content_type="application/json")

        @up.route("/huge-chunked.json")
        async def huge_chunked(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse()
            response.enable_chunked_encoding()
            await response.prepare(request)
            for _ in range(100):
                await response.write(b"y" * 100)
            await response.write_eof()
            return response

        @up.route("/gone")
        async def gone(_r: web.Request) -> web.Response:
            return web.Response(text="no such spec", status=410)

        @up.route("/hop")
        async def hop(request: web.Request) -> web.Response:
            left = int(request.query["n"])
            raise web.HTTPFound("/spec.yaml" if left == 0 else f"/hop?n={left - 1}")

        up.routes["/hang"] = hang
        yield up


@pytest.fixture(scope="module")
async def pool() -> AsyncIterator[UpstreamPool]:
    upstream_pool = make_pool()
    yield upstream_pool
    await upstream_pool.aclose()


async def test_fetches_bytes(pool: UpstreamPool, upstream: RecordingUpstream) -> None:
    assert await pool.fetch_bytes(f"{upstream.url}/spec.yaml", max_bytes=1000) == SPEC
    assert upstream.last().headers["User-Agent"] == "mcphub/0.1"


@pytest.mark.parametrize("path", ["/huge.json", "/huge-chunked.json"])
async def test_size_cap(pool: UpstreamPool, upstream: RecordingUpstream, path: str) -> None:
    with pytest.raises(ResponseTooLargeError, match="larger than the limit of 1000 bytes"):
        await pool.fetch_bytes(f"{upstream.url}{path}", max_bytes=1000)
    assert await pool.fetch_bytes(f"{upstream.url}/spec.yaml", max_bytes=1000) == SPEC  # pool still healthy


async def test_non_2xx_is_an_error(pool: UpstreamPool, upstream: RecordingUpstream) -> None:
    with pytest.raises(UpstreamStatusError, match="HTTP 410 Gone: no such spec") as info:
        await pool.fetch_bytes(f"{upstream.url}/gone?token=secret", max_bytes=1000)
    assert info.value.status == 410
    assert "secret" not in str(info.value)  # query strings may carry credentials


async def test_follows_at_most_five_redirects(pool: UpstreamPool, upstream: RecordingUpstream) -> None:
    assert await pool.fetch_bytes(f"{upstream.url}/hop?n=4", max_bytes=1000) == SPEC
    with pytest.raises(TooManyRedirectsError):
        await pool.fetch_bytes(f"{upstream.url}/hop?n=5", max_bytes=1000)


async def test_refuses_non_http_urls(pool: UpstreamPool) -> None:
    for url in ["file:///etc/passwd", "ftp://127.0.0.1/x", "http:///x"]:
        with pytest.raises(UpstreamBlockedError):
            await pool.fetch_bytes(url, max_bytes=1000)


async def test_unreachable_and_timeout(upstream: RecordingUpstream) -> None:
    fast = make_pool(timeout_s=0.3)
    try:
        with pytest.raises(UpstreamUnreachableError, match="cannot connect"):
            await fast.fetch_bytes(f"http://127.0.0.1:{free_loopback_port()}/spec", max_bytes=1000)
        started = time.monotonic()
        with pytest.raises(UpstreamTimeoutError, match=r"did not answer within 0\.3 s"):
            await fast.fetch_bytes(f"{upstream.url}/hang", max_bytes=1000)
        assert time.monotonic() - started < 1.5
    finally:
        await fast.aclose()


async def test_closed_pool_refuses(upstream: RecordingUpstream) -> None:
    closed = make_pool()
    await closed.aclose()
    with pytest.raises(Exception, match="closed"):
        await closed.fetch_bytes(f"{upstream.url}/spec.yaml", max_bytes=1000)


async def test_sessions_per_origin_are_bounded(upstream: RecordingUpstream) -> None:
    names = FakeResolver({"a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"], "c.test": ["127.0.0.1"]})
    bounded = make_pool(resolver=names, max_origins=2)
    try:
        for name in ("a", "b", "c", "a"):
            url = f"http://{name}.test:{upstream.port}/spec.yaml"
            assert await bounded.fetch_bytes(url, max_bytes=1000) == SPEC
        assert len(bounded._sessions) == 2
        retired = list(bounded._retiring)
        assert len(retired) == 2 and not any(
            s.closed for s in retired
        )  # in-flight requests may still use them
    finally:
        await bounded.aclose()
    assert all(s.closed for s in retired)
