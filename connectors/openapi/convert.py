"""A loaded OpenAPI/Swagger spec as an ApiDef: one MCP tool per path operation.

Reading is version-aware only where 2.0 and 3.x really differ (parameters with `in: body` and
`formData`, `consumes`/`produces`, host/basePath, `securityDefinitions`); schemas go through
`schema.SchemaConverter`, which treats all three versions alike.

This module walks the document and assembles each tool; the parts of an operation are read by
`params`, `bodies`, `output_schema`, `security` and `servers`, all through one `SpecReader`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.openapi.bodies import body_spec
from connectors.openapi.errors import SpecError
from connectors.openapi.loader import LoadedSpec
from connectors.openapi.model import ApiDef, OperationPlan, ToolDef
from connectors.openapi.naming import METHODS, assign_tool_names, base_tool_name, clip
from connectors.openapi.output_schema import output_schema
from connectors.openapi.params import param_specs, raw_params
from connectors.openapi.security import required_scopes, requirements, scheme_sets, security_schemes
from connectors.openapi.servers import operation_server, root_servers
from connectors.openapi.spec_reader import Inputs, PathOperation, SpecReader

_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_TITLE_MAX = 200  # some specs put paragraphs in `summary`; the description keeps all of it


def convert(spec: LoadedSpec) -> ApiDef:
    """Every path operation of `spec` as a ToolDef (webhooks and callbacks are not operations)."""
    return _ApiBuilder(spec).build()


class _ApiBuilder:
    def __init__(self, spec: LoadedSpec) -> None:
        self.reader = SpecReader(spec)
        self.schemes = security_schemes(self.reader)
        self.servers = root_servers(self.reader)

    def build(self) -> ApiDef:
        reader = self.reader
        if reader.spec.version.startswith("3.2"):
            reader.warnings.add("OpenAPI 3.2 read as 3.1: `query` and additionalOperations are ignored")
        ops = list(self._operations())
        tools = [tool for tool in (self._safe_tool(op) for op in ops) if tool is not None]
        names = assign_tool_names([t.name for t in tools], [(t.plan.path, t.plan.method) for t in tools])
        for tool, name in zip(tools, names, strict=True):
            tool.name = name
        info = reader.root.get("info")
        info = reader.resolver.deref(info) if info else None
        return ApiDef(
            title=reader.text(info, "title") or "",
            version=reader.text(info, "version") or "",
            description=reader.text(info, "description") or "",
            openapi_version=reader.spec.version,
            servers=self.servers,
            security_schemes=self.schemes,
            tools=tools,
            warnings=reader.warnings.result(),
        )

    def _operations(self) -> Iterator[PathOperation]:
        resolver = self.reader.resolver
        paths = self.reader.root.get("paths")
        if paths is None:
            return
        for path, raw_item in resolver.deref(paths).items():
            if path.startswith("x-"):
                continue
            item = resolver.deref(raw_item)
            for method, raw_op in item.items():
                if method in METHODS:
                    yield PathOperation(path, method.upper(), item, resolver.deref(raw_op))

    def _safe_tool(self, op: PathOperation) -> ToolDef | None:
        if not isinstance(op.op.value, dict):
            self.reader.warnings.add(f"skipped {op.key}: the operation is not an object")
            return None
        try:
            return self._tool(op)
        except SpecError:
            raise
        except Exception as exc:  # one odd operation must not sink the whole import
            self.reader.warnings.add(f"skipped {op.key}: {type(exc).__name__}: {exc}")
            return None

    def _tool(self, op: PathOperation) -> ToolDef:
        reader, inputs = self.reader, Inputs()
        raw = raw_params(reader, op)
        params = param_specs(reader, op, raw, inputs)
        body = body_spec(reader, op, raw, inputs)
        summary = reader.text(op.op, "summary")
        title = clip(summary, _TITLE_MAX) if summary else None
        deprecated = op.op.value.get("deprecated") is True
        required = requirements(reader, op)
        return ToolDef(
            key=op.key,
            name=base_tool_name(op.op.value.get("operationId"), op.method, op.path),
            description=self._description(op, summary, deprecated),
            input_schema=inputs.schema(reader.schemas.defs(inputs.deps, "input")),
            plan=OperationPlan(
                op.method,
                op.request_path,
                operation_server(reader, op, self.servers),  # after $defs, which may warn: same order
                params,
                body,
                scheme_sets(required),
            ),
            title=title,
            output_schema=output_schema(reader, op),
            annotations=_annotations(op.method, title),
            scopes=required_scopes(required, self.schemes),
            deprecated=deprecated,
            tags=_tags(op.op.value.get("tags")),
        )

    def _description(self, op: PathOperation, summary: str | None, deprecated: bool) -> str:
        description = self.reader.text(op.op, "description")
        parts = [summary, description if description != summary else None]
        text = "\n\n".join(p for p in parts if p) or op.key
        return clip(f"Deprecated. {text}" if deprecated else text)


def _annotations(method: str, title: str | None) -> dict[str, Any]:
    hints: dict[str, Any] = {"title": title} if title else {}
    hints["readOnlyHint"] = method in _READ_ONLY_METHODS
    if method == "DELETE":
        hints["destructiveHint"] = True
    if method in ("PUT", "DELETE"):
        hints["idempotentHint"] = True
    hints["openWorldHint"] = True
    return hints


def _tags(value: Any) -> tuple[str, ...]:
    return tuple(t for t in value if isinstance(t, str)) if isinstance(value, list) else ()
