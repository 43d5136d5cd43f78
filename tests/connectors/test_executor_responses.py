"""Upstream answers as MCP results: JSON, text, images, errors, timeouts, size caps, redirects."""

from __future__ import annotations

import asyncio
import base64
import gzip
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from connectors.openapi.credentials import UpstreamCredentials
from connectors.openapi.executor import OpenApiExecutor
from connectors.openapi.model import BodySpec, SecurityScheme
from tests.connectors.executor_support import (
    RecordingUpstream,
    free_loopback_port,
    hang,
    make_op,
    make_pool,
    running_upstream,
    text_of,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
KEY_SCHEME = {"key": SecurityScheme("key", "apiKey", location="header", param_name="X-API-Key")}


@pytest.fixture(scope="module")
async def upstream() -> AsyncIterator[RecordingUpstream]:
    async with running_upstream() as running:
        up = running

        @up.route("/pet")
        async def pet(_r: web.Request) -> web.Response:
            return web.Response(text='{ "id": 7,\n  "name": "Rex" }', content_type="application/json")

        @up.route("/list")
        async def pets(_r: web.Request) -> web.Response:
            return web.json_response([{"id": 1}])

        @up.route("/text")
        async def text(_r: web.Request) -> web.Response:
            return web.Response(text="héllo", content_type="text/plain", charset="utf-8")

        @up.route("/missing")
        async def missing(_r: web.Request) -> web.Response:
            return web.json_response({"code": 404, "message": "pet not found"}, status=404)

        @up.route("/boom")
        async def boom(_r: web.Request) -> web.Response:
            return web.Response(text="x" * 2000, status=500)

        @up.route("/empty")
        async def empty(_r: web.Request) -> web.Response:
            return web.Response(status=204)

        @up.route("/image")
        async def image(_r: web.Request) -> web.Response:
            return web.Response(body=PNG, content_type="image/png")

        @up.route("/pdf")
        async def pdf(_r: web.Request) -> web.Response:
            return web.Response(body=b"%PDF-1.7" + bytes(100), content_type="application/pdf")

        @up.route("/big")
        async def big(_r: web.Request) -> web.Response:
            return web.Response(text='{"data": "' + "y" * 5000 + '"}', content_type="application/json")

        @up.route("/big-chunked")
        async def big_chunked(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "text/plain"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            for _ in range(50):
                await response.write(b"z" * 100)
            await response.write_eof()
            return response

        @up.route("/big-gzip")
        async def big_gzip(_r: web.Request) -> web.Response:
            body = gzip.compress(b"g" * 5000)  # small on the wire, large once decompressed
            return web.Response(body=body, headers={"Content-Type": "text/plain", "Content-Encoding": "gzip"})

        up.routes["/hang"] = hang

        @up.route("/redirect-same")
        async def redirect_same(_r: web.Request) -> web.Response:
            raise web.HTTPFound("/pet")

        @up.route("/redirect-loop")
        async def redirect_loop(_r: web.Request) -> web.Response:
            raise web.HTTPFound("/redirect-loop")

        @up.route("/see-other")
        async def see_other(_r: web.Request) -> web.Response:
            raise web.HTTPSeeOther("/pet")

        yield up


@pytest.fixture(scope="module")
async def executor() -> AsyncIterator[OpenApiExecutor]:
    pool = make_pool()
    yield OpenApiExecutor(pool, max_response_bytes=1000)
    await pool.aclose()


async def test_json_object_with_output_schema_is_structured(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    result = await executor.call(make_op(upstream.url, path="/pet", has_output_schema=True), {})
    assert result == {
        "content": [{"type": "text", "text": '{"id":7,"name":"Rex"}'}],
        "structuredContent": {"id": 7, "name": "Rex"},
        "isError": False,
    }


async def test_no_structured_content_without_schema_or_for_arrays(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    plain = await executor.call(make_op(upstream.url, path="/pet"), {})
    assert "structuredContent" not in plain and text_of(plain) == '{"id":7,"name":"Rex"}'
    array = await executor.call(make_op(upstream.url, path="/list", has_output_schema=True), {})
    assert "structuredContent" not in array and text_of(array) == '[{"id":1}]'


async def test_text_and_empty_bodies(executor: OpenApiExecutor, upstream: RecordingUpstream) -> None:
    assert text_of(await executor.call(make_op(upstream.url, path="/text"), {})) == "héllo"
    empty = await executor.call(make_op(upstream.url, path="/empty"), {})
    assert not empty["isError"] and text_of(empty) == "HTTP 204 No Content (empty body)"


async def test_non_2xx_is_a_tool_error_with_the_body(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    missing = await executor.call(make_op(upstream.url, path="/missing", has_output_schema=True), {})
    assert missing == {
        "content": [{"type": "text", "text": 'HTTP 404 Not Found: {"code":404,"message":"pet not found"}'}],
        "isError": True,
    }
    boom = text_of(await executor.call(make_op(upstream.url, path="/boom"), {}))
    assert boom.startswith("HTTP 500 Internal Server Error: xxx")
    assert len(boom) < 600


async def test_images_and_binary(executor: OpenApiExecutor, upstream: RecordingUpstream) -> None:
    image = await executor.call(make_op(upstream.url, path="/image"), {})
    assert image == {
        "content": [{"type": "image", "data": base64.b64encode(PNG).decode(), "mimeType": "image/png"}],
        "isError": False,
    }
    pdf = text_of(await executor.call(make_op(upstream.url, path="/pdf"), {}))
    assert pdf == "[binary response: application/pdf, 108 bytes, not shown]"


@pytest.mark.parametrize("path", ["/big", "/big-chunked", "/big-gzip"])
async def test_oversized_response_is_truncated(
    executor: OpenApiExecutor, upstream: RecordingUpstream, path: str
) -> None:
    result = await executor.call(make_op(upstream.url, path=path, has_output_schema=True), {})
    text = text_of(result)
    assert not result["isError"] and "structuredContent" not in result
    assert text.endswith("\n[truncated: response exceeded 1000 bytes]")
    assert len(text.encode()) == 1000 + len("\n[truncated: response exceeded 1000 bytes]")
    # the cut connection is not reused: the next call still works
    assert not (await executor.call(make_op(upstream.url, path="/pet"), {}))["isError"]


async def test_hanging_upstream_times_out_within_the_bound(upstream: RecordingUpstream) -> None:
    pool = make_pool(timeout_s=0.3)
    try:
        started = time.monotonic()
        result = await OpenApiExecutor(pool, max_response_bytes=1000).call(
            make_op(upstream.url, path="/hang"), {}
        )
        elapsed = time.monotonic() - started
    finally:
        await pool.aclose()
    assert result["isError"]
    assert text_of(result) == f"{upstream.url}/hang did not answer within 0.3 s"
    assert 0.25 < elapsed < 1.5


async def test_unreachable_upstream_is_a_one_line_error(executor: OpenApiExecutor) -> None:
    port = free_loopback_port()
    result = await executor.call(make_op(f"http://127.0.0.1:{port}", path="/x"), {})
    text = text_of(result)
    assert result["isError"] and text.startswith(f"cannot connect to http://127.0.0.1:{port}/x")
    assert "\n" not in text and "Traceback" not in text


async def test_unusable_server_url_is_a_tool_error(executor: OpenApiExecutor) -> None:
    result = await executor.call(make_op("/relative/only", path="/x"), {})
    assert result["isError"] and "server URL" in text_of(result)


async def test_redirects(executor: OpenApiExecutor, upstream: RecordingUpstream) -> None:
    creds = UpstreamCredentials(api_key="k")
    op = make_op(
        upstream.url, path="/redirect-same", security=(("key",),), schemes=KEY_SCHEME, credentials=creds
    )
    result = await executor.call(op, {})
    assert text_of(result) == '{"id":7,"name":"Rex"}'
    assert upstream.last().path == "/pet" and upstream.last().headers["X-API-Key"] == "k"

    loop = await executor.call(make_op(upstream.url, path="/redirect-loop"), {})
    assert loop["isError"] and "more than 5 redirects" in text_of(loop)

    post = make_op(upstream.url, "POST", "/see-other", body=BodySpec("application/json", arg="body"))
    assert not (await executor.call(post, {"body": {"a": 1}}))["isError"]
    assert (upstream.last().method, upstream.last().body) == ("GET", b"")
    assert "Content-Type" not in upstream.last().headers


async def test_cross_origin_redirect_drops_credentials(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    async with running_upstream() as other:

        @upstream.route("/elsewhere")
        async def elsewhere(_r: web.Request) -> web.Response:
            raise web.HTTPTemporaryRedirect(f"{other.url}/landing")

        creds = UpstreamCredentials(api_key="k", headers={"X-Static": "s", "Cookie": "a=b"})
        op = make_op(
            upstream.url, path="/elsewhere", security=(("key",),), schemes=KEY_SCHEME, credentials=creds
        )
        result = await executor.call(op, {})
        assert not result["isError"], result
        assert upstream.last().headers["X-API-Key"] == "k"
        landed = other.last()
        assert landed.path == "/landing"
        assert not {"X-API-Key", "X-Static", "Cookie", "Authorization"} & set(landed.headers)
        assert landed.headers["User-Agent"] == "mcphub/0.1"


async def test_concurrent_calls_share_the_pool(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    op = make_op(upstream.url, path="/pet")
    results = await asyncio.gather(*(executor.call(op, {}) for _ in range(30)))
    assert all(not r["isError"] for r in results)


async def test_json_that_cannot_be_encoded_is_a_tool_error(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    op = make_op(upstream.url, "POST", "/things", body=BodySpec("application/json", arg="body"))
    result = await executor.call(op, {"body": {"n": 2**70}})
    assert result["isError"] and "cannot be sent as JSON" in text_of(result)


async def test_json_in_another_charset(executor: OpenApiExecutor, upstream: RecordingUpstream) -> None:
    @upstream.route("/latin1")
    async def latin1(_r: web.Request) -> web.Response:
        body = '{"name": "Zoë"}'.encode("latin-1")
        return web.Response(body=body, headers={"Content-Type": "application/json; charset=iso-8859-1"})

    result = await executor.call(make_op(upstream.url, path="/latin1", has_output_schema=True), {})
    assert result["structuredContent"] == {"name": "Zoë"}
