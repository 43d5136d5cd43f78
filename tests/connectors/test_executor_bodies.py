"""Request bodies on the wire: JSON, form-urlencoded, multipart, other media types."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import pytest

from connectors.openapi.executor import OpenApiExecutor
from connectors.openapi.model import BodySpec, FieldEncoding
from tests.connectors.executor_support import (
    RecordingUpstream,
    Seen,
    make_op,
    make_pool,
    running_upstream,
    text_of,
)


@pytest.fixture(scope="module")
async def upstream() -> AsyncIterator[RecordingUpstream]:
    async with running_upstream() as running:
        yield running


@pytest.fixture(scope="module")
async def executor() -> AsyncIterator[OpenApiExecutor]:
    pool = make_pool()
    yield OpenApiExecutor(pool, max_response_bytes=1 << 20)
    await pool.aclose()


async def send(
    executor: OpenApiExecutor, upstream: RecordingUpstream, body: BodySpec, args: dict[str, Any]
) -> Seen:
    op = make_op(upstream.url, "POST", "/things", body=body)
    result = await executor.call(op, args)
    assert not result["isError"], result
    return upstream.last()


def multipart_parts(seen: Seen) -> list[tuple[str, str | None, str, bytes]]:
    """(name, filename, content type, payload) of each part, parsed independently of aiohttp."""
    raw = b"Content-Type: " + seen.headers["Content-Type"].encode() + b"\r\n\r\n" + seen.body
    message = BytesParser(policy=HTTP).parsebytes(raw)
    parts = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        name = part.get_param("name", header="content-disposition")
        assert isinstance(name, str)
        parts.append((name, part.get_filename(), part.get_content_type(), payload))
    return parts


async def test_json_body_from_flattened_fields(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    body = BodySpec("application/json", fields={"name": "name", "pet_tag": "tag", "info": "info"})
    seen = await send(executor, upstream, body, {"name": "Rex", "pet_tag": "dog", "info": {"a": [1, None]}})
    assert seen.headers["Content-Type"] == "application/json"
    assert json.loads(seen.body) == {"name": "Rex", "tag": "dog", "info": {"a": [1, None]}}
    assert seen.body == b'{"name":"Rex","tag":"dog","info":{"a":[1,null]}}'


async def test_json_body_from_single_argument(executor: OpenApiExecutor, upstream: RecordingUpstream) -> None:
    body = BodySpec("application/merge-patch+json", arg="body")
    seen = await send(executor, upstream, body, {"body": [1, "two"]})
    assert seen.headers["Content-Type"] == "application/merge-patch+json"
    assert seen.body == b'[1,"two"]'


async def test_optional_body_left_out_required_body_sent_empty(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    seen = await send(executor, upstream, BodySpec("application/json", fields={"a": "a"}), {})
    assert seen.body == b"" and "Content-Type" not in seen.headers
    seen = await send(executor, upstream, BodySpec("application/json", required=True, fields={"a": "a"}), {})
    assert seen.body == b"{}"


async def test_form_urlencoded_with_encodings(executor: OpenApiExecutor, upstream: RecordingUpstream) -> None:
    body = BodySpec(
        "application/x-www-form-urlencoded",
        fields={
            "name": "name",
            "tags": "tags",
            "ids": "ids",
            "color": "color",
            "filter": "filter",
            "meta": "meta",
        },
        encoding={
            "ids": FieldEncoding(style="form", explode=False),
            "color": FieldEncoding(style="deepObject", explode=True),
            "filter": FieldEncoding(content_type="application/json"),
        },
    )
    args = {
        "name": "Rex the dog",
        "tags": ["a", "b&c"],
        "ids": [1, 2],
        "color": {"R": 100},
        "filter": {"x": 1},
        "meta": {"k": "v"},
    }
    seen = await send(executor, upstream, body, args)
    assert seen.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert seen.body.decode() == (
        "name=Rex+the+dog&tags=a&tags=b%26c&ids=1,2&color[R]=100&filter=%7B%22x%22%3A1%7D&k=v"
    )


async def test_multipart_text_json_and_binary_parts(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00binary"
    body = BodySpec(
        "multipart/form-data",
        fields={
            "title": "title",
            "file": "file",
            "notes": "notes",
            "meta": "meta",
            "tags": "tags",
            "ids": "ids",
        },
        encoding={
            "file": FieldEncoding(content_type="image/png", binary=True),
            "notes": FieldEncoding(binary=True),
            "ids": FieldEncoding(style="pipeDelimited", explode=False),
        },
    )
    args = {
        "title": "hello",
        "file": "base64:" + base64.b64encode(png).decode(),
        "notes": "plain text file",
        "meta": {"a": 1},
        "tags": ["x", "y"],
        "ids": [1, 2],
    }
    seen = await send(executor, upstream, body, args)
    assert seen.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert multipart_parts(seen) == [
        ("title", None, "text/plain", b"hello"),
        ("file", "file", "image/png", png),
        ("notes", "notes", "application/octet-stream", b"plain text file"),
        ("meta", None, "application/json", b'{"a":1}'),
        ("tags", None, "text/plain", b"x"),
        ("tags", None, "text/plain", b"y"),
        ("ids", None, "text/plain", b"1|2"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (base64.b64encode(b"\x00\xffraw").decode(), b"\x00\xffraw"),  # what the converter's schema asks for
        ("base64:" + base64.b64encode(b"\x01\x02").decode(), b"\x01\x02"),
        ("data:image/png;base64," + base64.b64encode(b"\x89PNG").decode(), b"\x89PNG"),
        ("QUJD\nREVG\n", b"ABCDEF"),  # wrapped base64
        ("hello, plain text!", b"hello, plain text!"),  # not base64: the text is the content
    ],
)
async def test_binary_values(
    executor: OpenApiExecutor, upstream: RecordingUpstream, value: str, expected: bytes
) -> None:
    part = BodySpec("multipart/form-data", fields={"f": "f"}, encoding={"f": FieldEncoding(binary=True)})
    assert multipart_parts(await send(executor, upstream, part, {"f": value}))[0][3] == expected
    whole = BodySpec("application/octet-stream", arg="body", binary=True)
    assert (await send(executor, upstream, whole, {"body": value})).body == expected


async def test_multipart_bad_base64_is_a_tool_error(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    body = BodySpec(
        "multipart/form-data", fields={"file": "file"}, encoding={"file": FieldEncoding(binary=True)}
    )
    op = make_op(upstream.url, "POST", "/upload", body=body)
    result = await executor.call(op, {"file": "base64:not base64!"})
    assert result["isError"] and "base64" in text_of(result)


async def test_other_media_types_are_sent_as_is(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    seen = await send(executor, upstream, BodySpec("text/plain", arg="body"), {"body": "hello\nworld"})
    assert (seen.headers["Content-Type"], seen.body) == ("text/plain", b"hello\nworld")
    seen = await send(executor, upstream, BodySpec("application/xml", arg="body"), {"body": "<a>b64:</a>"})
    assert (seen.headers["Content-Type"], seen.body) == ("application/xml", b"<a>b64:</a>")
    raw = bytes(range(256))
    octets = BodySpec("application/octet-stream", arg="body")  # not flagged binary: only the prefix decodes
    seen = await send(executor, upstream, octets, {"body": "base64:" + base64.b64encode(raw).decode()})
    assert (seen.headers["Content-Type"], seen.body) == ("application/octet-stream", raw)
    seen = await send(executor, upstream, octets, {"body": "QUJD"})
    assert seen.body == b"QUJD"
