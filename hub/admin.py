"""Admin REST API (`/admin/...`): the CLI's catalog operations over HTTP."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from catalog.store import CatalogError, CatalogStore
from connectors.http import UpstreamError
from connectors.openapi.credentials import UpstreamCredentials
from connectors.openapi.errors import SpecError
from hub.admin_openapi import ADMIN_OPENAPI
from hub.catalog_sync import CatalogHolder
from hub.importer import Importer, ImportFailed, ImportRequest, credentials_from
from hub.jsonable import to_json

logger = logging.getLogger(__name__)


class AdminError(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def error_response(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status)


async def read_json_object(request: Request) -> dict[str, Any]:
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise AdminError(400, "invalid_json", f"request body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise AdminError(400, "invalid_json", "request body must be a JSON object")
    return data


class AdminApi:
    def __init__(self, store: CatalogStore, importer: Importer, holder: CatalogHolder) -> None:
        self._store = store
        self._importer = importer
        self._holder = holder

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/admin/openapi.json", self.openapi, methods=["GET"]),
            Route("/admin/apis", self.list_apis, methods=["GET"]),
            Route("/admin/apis/{name}", self.get_api, methods=["GET"]),
            Route("/admin/apis/{name}", self.put_api, methods=["PUT"]),
            Route("/admin/apis/{name}", self.delete_api, methods=["DELETE"]),
            Route("/admin/apis/{name}/overrides", self.set_override, methods=["PATCH"]),
            Route("/admin/tools", self.list_tools, methods=["GET"]),
        ]

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(ADMIN_OPENAPI)

    async def list_apis(self, request: Request) -> Response:
        return JSONResponse({"apis": to_json(await self._store.list_apis())})

    async def get_api(self, request: Request) -> Response:
        api = await self._store.get_api(request.path_params["name"])
        if api is None:
            return error_response(404, "not_found", f"no API named {request.path_params['name']!r}")
        return JSONResponse(to_json(api))

    async def put_api(self, request: Request) -> Response:
        name = request.path_params["name"]
        try:
            body = await read_json_object(request)
            info = await self._import(name, body)
        except AdminError as exc:
            return error_response(exc.status, exc.kind, exc.message)
        except (ImportFailed, SpecError, CatalogError, UpstreamError) as exc:
            return error_response(422, "import_failed", str(exc))
        await self._holder.reload()
        return JSONResponse(to_json(info), status_code=201)

    async def _import(self, name: str, body: dict[str, Any]) -> Any:
        headers = body.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise AdminError(400, "invalid_request", "'headers' must be an object of strings")
        with tempfile.TemporaryDirectory(prefix="mcphub-spec-") as tmp:
            source = _spec_source(body, Path(tmp))
            request = ImportRequest(name, source, body.get("base_url"), _credentials(body, headers))
            return await self._importer.run(request)

    async def delete_api(self, request: Request) -> Response:
        removed = await self._store.remove_api(request.path_params["name"])
        if not removed:
            return error_response(404, "not_found", f"no API named {request.path_params['name']!r}")
        await self._holder.reload()
        return Response(status_code=204)

    async def set_override(self, request: Request) -> Response:
        try:
            body = await read_json_object(request)
            key = body.get("key")
            if not isinstance(key, str):
                raise AdminError(
                    400, "invalid_request", "'key' (the operation, e.g. 'GET /pets') is required"
                )
            await self._store.set_tool_override(
                request.path_params["name"],
                key,
                enabled=body.get("enabled"),
                name=body.get("name"),
                description=body.get("description"),
            )
        except AdminError as exc:
            return error_response(exc.status, exc.kind, exc.message)
        except CatalogError as exc:
            return error_response(422, "invalid_override", str(exc))
        await self._holder.reload()
        return Response(status_code=204)

    async def list_tools(self, request: Request) -> Response:
        api = request.query_params.get("api")
        tools = [t for t in self._holder.snapshot.tools if api is None or t.api.name == api]
        return JSONResponse({"tools": [_tool_summary(t) for t in tools]})


def _tool_summary(tool: Any) -> dict[str, Any]:
    return {
        "name": tool.name,
        "api": tool.api.name,
        "key": tool.key,
        "title": tool.title,
        "description": tool.description,
        "annotations": tool.annotations,
        "scopes": list(tool.scopes),
        "deprecated": tool.deprecated,
        "params": [
            {"in": p.location, "name": p.name, "arg": p.arg, "required": p.required} for p in tool.plan.params
        ],
        "inputSchema": tool.input_schema,
        "outputSchema": tool.output_schema,
    }


def _credentials(body: dict[str, Any], headers: dict[str, str]) -> UpstreamCredentials:
    oauth2 = body.get("oauth2") or {}
    if not isinstance(oauth2, dict):
        raise AdminError(400, "invalid_request", "'oauth2' must be an object")
    try:
        return credentials_from(
            headers=headers,
            api_key=body.get("api_key"),
            bearer_token=body.get("bearer_token"),
            basic=body.get("basic"),
            oauth2_client_id=oauth2.get("client_id"),
            oauth2_client_secret=oauth2.get("client_secret"),
            oauth2_token_url=oauth2.get("token_url"),
            oauth2_scopes=oauth2.get("scopes") or (),
        )
    except ImportFailed as exc:
        raise AdminError(400, "invalid_request", str(exc)) from exc


def _spec_source(body: dict[str, Any], tmp: Path) -> str:
    """The spec is given by URL, or inline (a JSON object or the text of a JSON/YAML file)."""
    if isinstance(body.get("spec_url"), str):
        return str(body["spec_url"])
    spec = body.get("spec")
    if isinstance(spec, dict):
        path = tmp / "spec.json"
        path.write_bytes(orjson.dumps(spec))
        return str(path)
    if isinstance(spec, str):
        # Some JSON specs (Twilio's) are not loadable as YAML, so keep JSON text as .json.
        path = tmp / ("spec.json" if spec.lstrip().startswith("{") else "spec.yaml")
        path.write_text(spec, encoding="utf-8")
        return str(path)
    raise AdminError(
        400, "invalid_request", "give the spec as 'spec_url' (string) or 'spec' (object or text)"
    )
