"""Acceptance: bad input gets a clear error and changes nothing."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from tests.e2e.conftest import FIXTURES
from tests.support.hub_process import RunningHub

MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def _tool_names(hub: RunningHub) -> list[str]:
    return [t["name"] for t in httpx2.get(f"{hub.base_url}/admin/tools").json()["tools"]]


@pytest.mark.parametrize(
    ("spec_text", "expected"),
    [
        ("openapi: 3.0.0\ninfo: {title: x\n  version", "YAML"),
        ('{"openapi": "3.0.0", "info": ', "JSON"),
        ("just: a yaml document\n", "OpenAPI"),
    ],
)
def test_malformed_spec_is_refused_and_changes_nothing(
    petstore_hub: RunningHub, tmp_path: Path, spec_text: str, expected: str
) -> None:
    before = _tool_names(petstore_hub)
    path = tmp_path / ("bad.json" if spec_text.startswith("{") else "bad.yaml")
    path.write_text(spec_text)
    result = petstore_hub.cli("api", "add", "petstore", str(path), check=False)
    assert result.returncode == 1
    assert "catalog unchanged" in result.stderr and expected.lower() in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert _tool_names(petstore_hub) == before


def test_missing_ref_file_is_named(petstore_hub: RunningHub, tmp_path: Path) -> None:
    spec = (
        (FIXTURES / "petstore-plus.yaml")
        .read_text()
        .replace('$ref: "#/components/schemas/Pet"}', '$ref: "./missing.yaml#/Pet"}', 1)
    )
    (tmp_path / "spec.yaml").write_text(spec)
    result = petstore_hub.cli("api", "add", "plus", str(tmp_path / "spec.yaml"), check=False)
    assert result.returncode == 1 and "missing.yaml" in result.stderr
    assert "plus_listPets" in _tool_names(petstore_hub)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/openapi.json",  # cloud metadata (link-local)
        "http://10.0.0.8/openapi.yaml",  # private range
        "http://[fe80::1]/spec.json",
    ],
)
def test_spec_url_to_private_or_link_local_address_is_refused(petstore_hub: RunningHub, url: str) -> None:
    # The guard refuses before any connection is attempted: no packet leaves loopback.
    before = _tool_names(petstore_hub)
    response = httpx2.put(f"{petstore_hub.base_url}/admin/apis/evil", json={"spec_url": url})
    assert response.status_code == 422
    assert (
        "blocked" in response.json()["error"]["message"].lower()
        or "refus" in response.json()["error"]["message"]
    )
    assert _tool_names(petstore_hub) == before


def test_base_url_to_metadata_address_is_refused(petstore_hub: RunningHub) -> None:
    result = petstore_hub.cli(
        "api",
        "add",
        "meta",
        str(FIXTURES / "petstore-plus.yaml"),
        "--base-url",
        "http://169.254.169.254/",
        check=False,
    )
    assert result.returncode == 1 and "169.254.169.254" in result.stderr


def test_oversized_mcp_body_is_413(petstore_hub: RunningHub) -> None:
    body = (
        b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"pad":"' + b"x" * (5 * 1024 * 1024) + b'"}}'
    )
    response = httpx2.post(petstore_hub.mcp_url, content=body, headers=MCP_HEADERS)
    assert response.status_code == 413


def test_malformed_json_rpc_is_a_parse_error(petstore_hub: RunningHub) -> None:
    headers = {**MCP_HEADERS, "mcp-protocol-version": "2026-07-28"}
    response = httpx2.post(petstore_hub.mcp_url, content=b"{not json", headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32700


def test_foreign_origin_and_host_are_rejected(petstore_hub: RunningHub) -> None:
    assert (
        httpx2.get(
            f"{petstore_hub.base_url}/admin/apis", headers={"Origin": "http://evil.example"}
        ).status_code
        == 403
    )
    assert (
        httpx2.get(f"{petstore_hub.base_url}/admin/apis", headers={"Host": "evil.example"}).status_code == 421
    )


def test_admin_put_and_delete_round_trip(petstore_hub: RunningHub, petstore_base: str | None = None) -> None:
    spec = (FIXTURES / "petstore-plus.yaml").read_text()
    response = httpx2.put(
        f"{petstore_hub.base_url}/admin/apis/adminplus", json={"spec": spec, "base_url": "http://127.0.0.1:9"}
    )
    assert response.status_code == 201, response.text
    assert "adminplus_listPets" in _tool_names(petstore_hub)
    assert httpx2.delete(f"{petstore_hub.base_url}/admin/apis/adminplus").status_code == 204
    assert "adminplus_listPets" not in _tool_names(petstore_hub)
    assert httpx2.delete(f"{petstore_hub.base_url}/admin/apis/adminplus").status_code == 404


def test_admin_rejects_bad_json_and_serves_its_openapi(petstore_hub: RunningHub) -> None:
    response = httpx2.put(
        f"{petstore_hub.base_url}/admin/apis/x", content=b"[1,", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_json"
    doc = httpx2.get(f"{petstore_hub.base_url}/admin/openapi.json").json()
    assert doc["openapi"].startswith("3.1") and "/admin/apis/{name}" in doc["paths"]


def test_health_endpoints(petstore_hub: RunningHub) -> None:
    assert httpx2.get(f"{petstore_hub.base_url}/healthz").json() == {"status": "ok"}
    ready = httpx2.get(f"{petstore_hub.base_url}/readyz").json()
    assert ready["status"] == "ready" and ready["tools"] >= 6


def test_admin_overrides_rename_and_disable_tools(petstore_hub: RunningHub) -> None:
    base = f"{petstore_hub.base_url}/admin/apis/plus/overrides"
    rename = {"key": "GET /pets", "name": "plus_find_pets", "description": "Find pets (renamed)"}
    assert httpx2.patch(base, json=rename).status_code == 204
    assert httpx2.patch(base, json={"key": "POST /pets", "enabled": False}).status_code == 204
    try:
        tools = {
            t["name"]: t for t in httpx2.get(f"{petstore_hub.base_url}/admin/tools?api=plus").json()["tools"]
        }
        assert "plus_find_pets" in tools and "plus_listPets" not in tools
        assert tools["plus_find_pets"]["description"] == "Find pets (renamed)"
        assert "plus_createPets" not in tools
    finally:
        httpx2.patch(base, json={"key": "GET /pets", "name": "", "description": ""})
        httpx2.patch(base, json={"key": "POST /pets", "enabled": True})
    assert "plus_listPets" in _tool_names(petstore_hub) and "plus_createPets" in _tool_names(petstore_hub)
    unknown = httpx2.patch(base, json={"key": "GET /nowhere", "enabled": False})
    assert unknown.status_code == 422
