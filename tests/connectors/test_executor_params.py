"""Every parameter style/explode combination, asserted on the wire (OAS 3.x style tables)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from connectors.openapi.executor import OpenApiExecutor
from connectors.openapi.model import ParamSpec
from tests.connectors.executor_support import RecordingUpstream, make_op, make_pool, running_upstream, text_of

STRING = "blue"
ARRAY = ["blue", "black", "brown"]
OBJECT = {"R": 100, "G": 200, "B": 150}


@pytest.fixture(scope="module")
async def upstream() -> AsyncIterator[RecordingUpstream]:
    async with running_upstream() as running:
        yield running


@pytest.fixture(scope="module")
async def executor() -> AsyncIterator[OpenApiExecutor]:
    pool = make_pool()
    yield OpenApiExecutor(pool, max_response_bytes=1 << 20)
    await pool.aclose()


async def call(
    executor: OpenApiExecutor, upstream: RecordingUpstream, spec: ParamSpec, value: Any, path: str = "/p"
) -> dict[str, Any]:
    op = make_op(upstream.url, path=path, params=(spec,))
    result = await executor.call(op, {spec.arg: value})
    return result


PATH_CASES = [
    ("simple", False, STRING, "blue"),
    ("simple", False, ARRAY, "blue,black,brown"),
    ("simple", False, OBJECT, "R,100,G,200,B,150"),
    ("simple", True, STRING, "blue"),
    ("simple", True, ARRAY, "blue,black,brown"),
    ("simple", True, OBJECT, "R=100,G=200,B=150"),
    ("label", False, STRING, ".blue"),
    ("label", False, ARRAY, ".blue,black,brown"),
    ("label", False, OBJECT, ".R,100,G,200,B,150"),
    ("label", True, STRING, ".blue"),
    ("label", True, ARRAY, ".blue.black.brown"),
    ("label", True, OBJECT, ".R=100.G=200.B=150"),
    ("matrix", False, STRING, ";color=blue"),
    ("matrix", False, ARRAY, ";color=blue,black,brown"),
    ("matrix", False, OBJECT, ";color=R,100,G,200,B,150"),
    ("matrix", True, STRING, ";color=blue"),
    ("matrix", True, ARRAY, ";color=blue;color=black;color=brown"),
    ("matrix", True, OBJECT, ";R=100;G=200;B=150"),
    ("matrix", True, {"role": "admin", "firstName": "Alex"}, ";role=admin;firstName=Alex"),
    ("matrix", False, "", ";color"),
    ("label", False, "", "%2E"),  # a lone "." segment would be removed by path normalisation
    ("simple", False, [3, 4, 5], "3,4,5"),
]


@pytest.mark.parametrize(("style", "explode", "value", "expected"), PATH_CASES)
async def test_path_styles(
    executor: OpenApiExecutor,
    upstream: RecordingUpstream,
    style: str,
    explode: bool,
    value: Any,
    expected: str,
) -> None:
    spec = ParamSpec("color", "path", "color", required=True, style=style, explode=explode)
    result = await call(executor, upstream, spec, value, path="/items/{color}/x")
    assert not result["isError"], result
    assert upstream.last().path == f"/items/{expected}/x"


QUERY_CASES = [
    ("form", False, STRING, "color=blue"),
    ("form", False, ARRAY, "color=blue,black,brown"),
    ("form", False, OBJECT, "color=R,100,G,200,B,150"),
    ("form", True, STRING, "color=blue"),
    ("form", True, ARRAY, "color=blue&color=black&color=brown"),
    ("form", True, OBJECT, "R=100&G=200&B=150"),
    ("form", True, [3, 4, 5], "color=3&color=4&color=5"),
    ("form", True, "", "color="),
    ("spaceDelimited", False, ARRAY, "color=blue%20black%20brown"),
    ("spaceDelimited", False, OBJECT, "color=R%20100%20G%20200%20B%20150"),
    ("spaceDelimited", True, ARRAY, "color=blue&color=black&color=brown"),
    ("pipeDelimited", False, ARRAY, "color=blue|black|brown"),
    ("pipeDelimited", False, OBJECT, "color=R|100|G|200|B|150"),
    ("pipeDelimited", True, ARRAY, "color=blue&color=black&color=brown"),
    ("deepObject", True, OBJECT, "color[R]=100&color[G]=200&color[B]=150"),
    ("deepObject", True, {"a": {"b": 1}, "c": [1, 2]}, "color[a][b]=1&color[c]=1&color[c]=2"),
]


@pytest.mark.parametrize(("style", "explode", "value", "expected"), QUERY_CASES)
async def test_query_styles(
    executor: OpenApiExecutor,
    upstream: RecordingUpstream,
    style: str,
    explode: bool,
    value: Any,
    expected: str,
) -> None:
    spec = ParamSpec("color", "query", "color", style=style, explode=explode)
    result = await call(executor, upstream, spec, value)
    assert not result["isError"], result
    assert upstream.last().query == expected


HEADER_CASES = [
    (False, STRING, "blue"),
    (False, ARRAY, "blue,black,brown"),
    (False, OBJECT, "R,100,G,200,B,150"),
    (True, STRING, "blue"),
    (True, ARRAY, "blue,black,brown"),
    (True, OBJECT, "R=100,G=200,B=150"),
    (False, True, "true"),
    (False, 5.0, "5"),
]


@pytest.mark.parametrize(("explode", "value", "expected"), HEADER_CASES)
async def test_header_simple(
    executor: OpenApiExecutor, upstream: RecordingUpstream, explode: bool, value: Any, expected: str
) -> None:
    spec = ParamSpec("X-Color", "header", "color", style="simple", explode=explode)
    result = await call(executor, upstream, spec, value)
    assert not result["isError"], result
    assert upstream.last().headers.getall("X-Color") == [expected]


COOKIE_CASES = [
    (False, STRING, "color=blue"),
    (False, ARRAY, "color=blue,black,brown"),
    (False, OBJECT, "color=R,100,G,200,B,150"),
    (True, STRING, "color=blue"),
    (True, ARRAY, "color=blue; color=black; color=brown"),
    (True, OBJECT, "R=100; G=200; B=150"),
    (False, "a b;c", "color=a%20b%3Bc"),
]


@pytest.mark.parametrize(("explode", "value", "expected"), COOKIE_CASES)
async def test_cookie_form(
    executor: OpenApiExecutor, upstream: RecordingUpstream, explode: bool, value: Any, expected: str
) -> None:
    spec = ParamSpec("color", "cookie", "color", style="form", explode=explode)
    result = await call(executor, upstream, spec, value)
    assert not result["isError"], result
    assert upstream.last().headers.getall("Cookie") == [expected]


async def test_path_values_are_percent_encoded(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    spec = ParamSpec("id", "path", "id", required=True)
    await call(executor, upstream, spec, "a b/c?d#e%f é", path="/pets/{id}")
    assert upstream.last().path == "/pets/a%20b%2Fc%3Fd%23e%25f%20%C3%A9"


async def test_allow_reserved_keeps_reserved_characters(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    spec = ParamSpec("file", "path", "file", required=True, allow_reserved=True)
    await call(executor, upstream, spec, "dir/sub:x@y", path="/files/{file}")
    assert upstream.last().path == "/files/dir/sub:x@y"
    query = ParamSpec("q", "query", "q", allow_reserved=True)
    await call(executor, upstream, query, "a/b?c,d e")
    assert upstream.last().query == "q=a/b?c,d%20e"


async def test_dot_segments_cannot_climb_the_path(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    spec = ParamSpec("id", "path", "id", required=True, allow_reserved=True)
    await call(executor, upstream, spec, "../admin", path="/pets/{id}")
    assert upstream.last().path == "/pets/%2E%2E/admin"
    await call(executor, upstream, ParamSpec("id", "path", "id", required=True), "..", path="/pets/{id}")
    assert upstream.last().path == "/pets/%2E%2E"


async def test_query_values_are_encoded(executor: OpenApiExecutor, upstream: RecordingUpstream) -> None:
    spec = ParamSpec("q", "query", "q")
    await call(executor, upstream, spec, "a&b=c d+é")
    assert upstream.last().query == "q=a%26b%3Dc%20d%2B%C3%A9"


async def test_content_params_are_sent_as_json(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    value = {"lat": 1.5, "long": 2}
    query = ParamSpec("coordinates", "query", "coordinates", content_type="application/json")
    await call(executor, upstream, query, value)
    assert upstream.last().query == "coordinates=%7B%22lat%22%3A1.5%2C%22long%22%3A2%7D"
    header = ParamSpec("X-Filter", "header", "filter", content_type="application/json")
    await call(executor, upstream, header, value)
    assert upstream.last().headers["X-Filter"] == '{"lat":1.5,"long":2}'


async def test_null_and_empty_values_are_not_sent(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    op = make_op(
        upstream.url,
        params=(ParamSpec("a", "query", "a"), ParamSpec("b", "query", "b"), ParamSpec("X-C", "header", "c")),
    )
    await executor.call(op, {"a": None, "b": [], "c": None})
    assert upstream.last().query == ""
    assert "X-C" not in upstream.last().headers


async def test_all_locations_together(executor: OpenApiExecutor, upstream: RecordingUpstream) -> None:
    op = make_op(
        upstream.url,
        "DELETE",
        "/stores/{store}/pets/{petId}",
        params=(
            ParamSpec("store", "path", "store", required=True, style="label"),
            ParamSpec("petId", "path", "petId", required=True),
            ParamSpec("limit", "query", "limit"),
            ParamSpec("tags", "query", "tags", style="form", explode=False),
            ParamSpec("X-Request-Id", "header", "requestId"),
            ParamSpec("session", "cookie", "session"),
        ),
    )
    result = await executor.call(
        op, {"store": "s1", "petId": 7, "limit": 10, "tags": ["a", "b"], "requestId": "r-1", "session": "xyz"}
    )
    assert not result["isError"], result
    seen = upstream.last()
    assert (seen.method, seen.raw_path) == ("DELETE", "/stores/.s1/pets/7?limit=10&tags=a,b")
    assert seen.headers["X-Request-Id"] == "r-1"
    assert seen.headers["Cookie"] == "session=xyz"
    assert seen.headers["Accept"] == "application/json"
    assert seen.headers["User-Agent"] == "mcphub/0.1"


async def test_base_url_path_prefix_is_kept(executor: OpenApiExecutor, upstream: RecordingUpstream) -> None:
    op = make_op(upstream.url + "/api/v1/", path="/pets")
    await executor.call(op, {})
    assert upstream.last().path == "/api/v1/pets"


async def test_undeclared_arguments_are_ignored(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    op = make_op(upstream.url, params=(ParamSpec("q", "query", "q"),))
    await executor.call(op, {"q": "1", "other": "x", "X-Other": "y"})
    seen = upstream.last()
    assert seen.query == "q=1"
    assert "X-Other" not in seen.headers and "other" not in seen.raw_path


async def test_bad_arguments_are_tool_errors(executor: OpenApiExecutor, upstream: RecordingUpstream) -> None:
    op = make_op(upstream.url, path="/pets/{id}", params=(ParamSpec("id", "path", "id", required=True),))
    missing = await executor.call(op, {})
    assert missing["isError"] and "id" in text_of(missing)
    header_op = make_op(upstream.url, params=(ParamSpec("X-A", "header", "a"),))
    before = len(upstream.seen)
    injected = await executor.call(header_op, {"a": "x\r\nX-Injected: 1"})
    assert injected["isError"] and "control characters" in text_of(injected)
    assert len(upstream.seen) == before
