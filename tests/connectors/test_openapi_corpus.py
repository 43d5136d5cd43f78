"""The converter over the whole shared spec corpus: every operation is a valid, callable-looking tool."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator

from connectors.openapi.convert import convert
from connectors.openapi.loader import load_spec
from connectors.openapi.model import ApiDef, OperationPlan
from tests.conftest import shared_spec_index
from tests.support.metaschema import META
from tests.support.spec_walk import required_params

SPECS = shared_spec_index()
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,48}$")
ARG_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
DEF_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")




@pytest.fixture(scope="module")
def api_of(shared_specs: Path) -> Callable[[str], ApiDef]:
    """Each corpus spec converted once per module (the big ones take a second or two)."""
    cache: dict[str, ApiDef] = {}

    def get(file: str) -> ApiDef:
        if file not in cache:
            cache[file] = convert(load_spec(str(shared_specs / file)))
        return cache[file]

    return get


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _check_schema(schema: dict[str, Any], checked: set[int]) -> None:
    """check_schema, but each shared definition once (they are shared dicts across tools)."""
    META.validate({k: v for k, v in schema.items() if k != "$defs"})
    for definition in schema.get("$defs", {}).values():
        if id(definition) not in checked:
            checked.add(id(definition))
            META.validate(definition)


def _assert_defs_closed_and_minimal(schema: dict[str, Any]) -> None:
    """Every $ref points into the schema's own $defs, and every def is reachable from the root."""
    defs = schema.get("$defs", {})
    assert all(DEF_NAME.match(name) for name in defs)
    root = {k: v for k, v in schema.items() if k != "$defs"}
    reached: set[str] = set()
    todo = [root]
    while todo:
        for ref in _refs(todo.pop()):
            assert ref.startswith("#/$defs/"), ref
            name = ref.removeprefix("#/$defs/")
            assert name in defs, f"dangling {ref}"
            if name not in reached:
                reached.add(name)
                todo.append(defs[name])
    assert reached == set(defs), f"unreachable defs: {set(defs) - reached}"


@pytest.mark.parametrize("entry", SPECS, ids=[e["file"].split("/")[0] for e in SPECS])
def test_every_operation_is_a_valid_tool(entry: dict[str, Any], api_of: Callable[[str], ApiDef]) -> None:
    api = api_of(entry["file"])
    assert len(api.tools) == entry["operations"]
    names = [t.name for t in api.tools]
    assert len(set(names)) == len(names)
    assert len({t.key for t in api.tools}) == len(api.tools)
    checked: set[int] = set()
    for index, tool in enumerate(api.tools):
        if index % 25 == 0:  # the real thing, on a sample
            Draft202012Validator.check_schema(tool.input_schema)
        assert TOOL_NAME.match(tool.name), tool.name
        assert tool.description
        schema = tool.input_schema
        _check_schema(schema, checked)
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        assert all(ARG_NAME.match(arg) for arg in schema["properties"])
        assert set(schema["required"]) <= set(schema["properties"])
        _assert_defs_closed_and_minimal(schema)
        orjson.loads(orjson.dumps(schema))  # plain JSON, nothing Python-only
        if tool.output_schema is not None:
            _check_schema(tool.output_schema, checked)
            assert tool.output_schema["type"] == "object"
            _assert_defs_closed_and_minimal(tool.output_schema)
            orjson.dumps(tool.output_schema)
        assert OperationPlan.from_dict(orjson.loads(orjson.dumps(tool.plan.to_dict()))) == tool.plan


@pytest.mark.parametrize("entry", SPECS, ids=[e["file"].split("/")[0] for e in SPECS])
def test_every_required_parameter_is_required(
    entry: dict[str, Any], api_of: Callable[[str], ApiDef], shared_specs: Path
) -> None:
    tools = {t.key: t for t in api_of(entry["file"]).tools}
    expected = required_params(shared_specs / entry["file"])
    assert set(tools) == set(expected)
    for key, required in expected.items():
        tool = tools[key]
        arg_of: dict[tuple[str, str], str] = {(p.location, p.name): p.arg for p in tool.plan.params}
        for param in required:
            assert arg_of[param] in tool.input_schema["required"], f"{key}: {param}"


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "int"},
        {"required": ["a", "a"]},
        {"pattern": "\\p{L}"},
        {"properties": {"a": {"minLength": -1}}},
        {"$defs": {"x": {"allOf": []}}},
        {"items": [{}]},
        {"properties": {"a": {"properties": {"b": {"type": 3}}}}},
        {"anyOf": [{"enum": 3}]},
        {"type": ["string", "null"], "examples": [1], "$ref": "#/$defs/x", "$defs": {"x": True}},
        {"properties": {"a": {"contentEncoding": "base64", "discriminator": {"propertyName": "t"}}}},
    ],
)
def test_flat_meta_schema_agrees_with_check_schema(schema: dict[str, Any]) -> None:
    try:
        Draft202012Validator.check_schema(schema)
        valid = True
    except Exception:
        valid = False
    assert META.is_valid(schema) == valid


def test_github_schemas_are_compact(shared_specs: Path) -> None:
    # Only reachable $defs per tool; the import's speed is measured in benchmarks/, not here.
    api = convert(load_spec(str(shared_specs / "github-rest-3.0.json")))
    total = sum(len(orjson.dumps(t.input_schema)) for t in api.tools)
    assert total < 3_000_000, f"GitHub inputSchemas are {total} bytes"
