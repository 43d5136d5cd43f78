"""The lean tools route (hub/fastpath.py, on by default) answers malformed params like the SDK does.

Found while comparing the conformance runs and raw probes with MCPHUB_SERVER__FAST_PATH on and
off: the lean route used to call a tool with falsy non-object `arguments` (`[]`, `""`, `0`) as if
they were `{}`, and answered a non-string cursor or name with its own message. Such requests now
go to the SDK, whose answer is -32602 "Invalid request parameters", and nothing reaches upstream.
Headers padded with whitespace (RFC 9110 field values exclude it) are accepted on both eras.
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest

from tests.support.hub_process import RunningHub
from tests.support.upstream import PetstoreUpstream

JSON_AND_SSE = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
MODERN = "2026-07-28"
MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}
MALFORMED: list[tuple[str, dict[str, Any]]] = [
    ("tools/call", {"name": "petstore_listPets", "arguments": []}),
    ("tools/call", {"name": "petstore_listPets", "arguments": ""}),
    ("tools/call", {"name": "petstore_listPets", "arguments": 0}),
    ("tools/call", {"name": "petstore_listPets", "arguments": ["limit"]}),
    ("tools/call", {"name": "petstore_listPets", "_meta": "not an object"}),
    ("tools/list", {"cursor": 123}),
]


def _legacy_session(url: str) -> dict[str, str]:
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    response = httpx2.post(url, json=init, headers=JSON_AND_SSE)
    response.raise_for_status()
    headers = {
        **JSON_AND_SSE,
        "mcp-session-id": response.headers["mcp-session-id"],
        "mcp-protocol-version": "2025-11-25",
    }
    httpx2.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    return headers


def _modern_headers(method: str, params: dict[str, Any]) -> dict[str, str]:
    headers = {**JSON_AND_SSE, "MCP-Protocol-Version": MODERN, "Mcp-Method": method}
    if isinstance(params.get("name"), str):
        headers["Mcp-Name"] = params["name"]
    return headers


@pytest.mark.parametrize(("method", "params"), MALFORMED)
@pytest.mark.parametrize("era", ["legacy", MODERN])
def test_malformed_params_get_the_sdk_answer(
    petstore_hub: RunningHub, petstore: PetstoreUpstream, era: str, method: str, params: dict[str, Any]
) -> None:
    seen = len(petstore.requests)
    if era == MODERN:
        body_params = {**params, "_meta": MODERN_META} if "_meta" not in params else params
        headers = _modern_headers(method, params)
    else:
        body_params, headers = params, _legacy_session(petstore_hub.mcp_url)
    body = {"jsonrpc": "2.0", "id": 5, "method": method, "params": body_params}
    response = httpx2.post(petstore_hub.mcp_url, json=body, headers=headers)
    error = response.json()["error"]
    assert error["code"] == -32602, error
    if "_meta" not in params or era != MODERN:  # a non-object _meta fails the 2026 envelope check first
        assert error["message"] == "Invalid request parameters", error
    assert len(petstore.requests) == seen, "a malformed call reached the upstream"


def _post_raw(url: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """POST with http.client: unlike httpx2 (h11), it sends header values padded with whitespace as-is."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.request("POST", parts.path, body=json.dumps(body), headers=headers)
        response = conn.getresponse()
        result: dict[str, Any] = json.loads(response.read())
        return response.status, result
    finally:
        conn.close()


@pytest.mark.parametrize("era", ["legacy", MODERN])
def test_header_values_padded_with_whitespace_are_accepted(petstore_hub: RunningHub, era: str) -> None:
    params: dict[str, Any] = {"name": "petstore_listPets", "arguments": {}}
    if era == MODERN:
        headers = _modern_headers("tools/call", params)
        headers["Mcp-Name"] = "  petstore_listPets \t"
        params["_meta"] = MODERN_META
    else:
        headers = _legacy_session(petstore_hub.mcp_url)
        headers["mcp-protocol-version"] = "2025-11-25  "
    body = {"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": params}
    status, answer = _post_raw(petstore_hub.mcp_url, body, headers)
    assert status == 200, answer
    assert answer["result"]["isError"] is False
