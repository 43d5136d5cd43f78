"""tools/call: look the tool up, validate the arguments, hand them to its connector."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from catalog.snapshot import CatalogSnapshot, CatalogTool
from connectors.openapi.credentials import UpstreamCredentials
from connectors.openapi.executor import ExecutableOperation, OpenApiExecutor
from hub.auth.principal import Principal
from hub.auth.scopes import Verdict, check_call
from hub.catalog_sync import CatalogHolder

INVALID_PARAMS = -32602


class ToolCallError(Exception):
    """A call refused before reaching the upstream; maps to a JSON-RPC error."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _PreparedTool:
    """Per-tool objects built once per snapshot, reused by every call."""

    __slots__ = ("operation", "tool", "validator")

    def __init__(self, tool: CatalogTool) -> None:
        self.tool = tool
        self.validator = Draft202012Validator(tool.input_schema)
        self.operation = ExecutableOperation(
            plan=tool.plan,
            base_url=tool.plan.server_url,
            security_schemes=tool.api.security_schemes,
            credentials=UpstreamCredentials.from_dict(tool.api.credentials or {}),
            has_output_schema=tool.output_schema is not None,
        )


class ToolCaller:
    def __init__(self, holder: CatalogHolder, executor: OpenApiExecutor) -> None:
        self._holder = holder
        self._executor = executor
        self._prepared: dict[str, _PreparedTool] = {}
        self._revision = holder.snapshot.revision

    async def call(
        self, name: str, arguments: dict[str, Any] | None, principal: Principal | None = None
    ) -> dict[str, Any]:
        prepared = self._prepare(self._holder.snapshot, name)
        # Another tenant's tool answers exactly like a missing one; scopes were checked (HTTP 403)
        # by the ToolCallGuard in front, this is the second line.
        if principal is not None and check_call(principal, prepared.tool) is not Verdict.ALLOWED:
            raise ToolCallError(INVALID_PARAMS, f"Unknown tool: {name}")
        args = arguments or {}
        _validate(prepared.validator, args)
        return await self._executor.call(prepared.operation, args)

    def _prepare(self, snapshot: CatalogSnapshot, name: str) -> _PreparedTool:
        if snapshot.revision != self._revision:
            self._prepared = {}
            self._revision = snapshot.revision
        prepared = self._prepared.get(name)
        if prepared is None:
            tool = snapshot.get(name)
            if tool is None:
                raise ToolCallError(INVALID_PARAMS, f"Unknown tool: {name}")
            prepared = self._prepared[name] = _PreparedTool(tool)
        return prepared


def _validate(validator: Draft202012Validator, args: dict[str, Any]) -> None:
    if not isinstance(args, dict):
        raise ToolCallError(INVALID_PARAMS, "Invalid arguments: 'arguments' must be an object")
    error = best_match(validator.iter_errors(args))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path)
        prefix = f"at '{where}': " if where else ""
        raise ToolCallError(INVALID_PARAMS, f"Invalid arguments: {prefix}{error.message}")
