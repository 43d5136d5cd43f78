"""OpenAPI schemas as JSON Schema 2020-12: references, recursion, and the 2.0/3.0 dialect fixes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from connectors.openapi.convert import convert
from connectors.openapi.loader import load_spec
from connectors.openapi.model import ApiDef


def _api(tmp_path: Path, schemas: dict[str, Any], body: Any, *, version: str = "3.0.3") -> ApiDef:
    """One POST /x taking `body` as its JSON body and returning it."""
    media = {"application/json": {"schema": body}}
    doc = {
        "openapi": version,
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/x": {
                "post": {
                    "operationId": "op",
                    "requestBody": {"required": True, "content": media},
                    "responses": {"200": {"description": "ok", "content": media}},
                }
            }
        },
        "components": {"schemas": schemas},
    }
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(doc))
    api = convert(load_spec(str(spec)))
    for tool in api.tools:
        Draft202012Validator.check_schema(tool.input_schema)
        if tool.output_schema:
            Draft202012Validator.check_schema(tool.output_schema)
    return api


def _body_schema(api: ApiDef) -> dict[str, Any]:
    schema: dict[str, Any] = api.tools[0].input_schema["properties"]["body"]
    return schema


def test_recursive_schema_terminates_in_defs(tmp_path: Path) -> None:
    node = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
            "parent": {"$ref": "#/components/schemas/Other"},
        },
    }
    other = {"type": "object", "properties": {"back": {"$ref": "#/components/schemas/Node"}}}
    api = _api(tmp_path, {"Node": node, "Other": other}, {"$ref": "#/components/schemas/Node"})
    tool = api.tools[0]
    # a plain object body is flattened; its recursive properties point at $defs
    assert tool.plan.body is not None and tool.plan.body.fields == {
        "name": "name",
        "children": "children",
        "parent": "parent",
    }
    defs = tool.input_schema["$defs"]
    assert defs["Node"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert defs["Other"]["properties"]["back"] == {"$ref": "#/$defs/Node"}
    assert tool.output_schema is not None and set(tool.output_schema["$defs"]) == {"Node", "Other"}
    validator = Draft202012Validator(tool.input_schema)
    assert validator.is_valid({"name": "a", "children": [{"name": "b", "children": [{"parent": {}}]}]})
    assert not validator.is_valid({"children": [{"name": 3}]})


def test_nullable_and_friends(tmp_path: Path) -> None:
    schemas = {
        "Thing": {
            "type": "object",
            "required": ["a", "a", "b"],  # duplicated, as real specs do
            "properties": {
                "a": {"type": "string", "nullable": True, "example": "x", "x-internal": True},
                "b": {"type": "string", "enum": ["on", "off"], "nullable": True},
                "c": {"$ref": "#/components/schemas/Color", "nullable": True},
                "d": {"allOf": [{"$ref": "#/components/schemas/Color"}], "nullable": True},
                "e": {
                    "type": "integer",
                    "minimum": 0,
                    "exclusiveMinimum": True,
                    "maximum": 9,
                    "exclusiveMaximum": False,
                },
                "f": {
                    "type": "string",
                    "xml": {"name": "F"},
                    "externalDocs": {"url": "u"},
                    "nullable": False,
                },
                "g": {"type": "string", "pattern": "^\\p{L}+$"},  # ECMA-only: Python cannot compile it
                "h": {"type": "File"},
                "i": {"type": ["string", "null"], "examples": ["y"]},
            },
        },
        "Color": {"type": "string", "enum": ["red"]},
    }
    api = _api(tmp_path, schemas, {"$ref": "#/components/schemas/Thing"})
    thing = api.tools[0].output_schema
    assert thing is not None
    props = thing["properties"]
    assert thing["required"] == ["a", "b"]
    assert props["a"] == {"type": ["string", "null"], "examples": ["x"]}
    assert props["b"] == {"type": ["string", "null"], "enum": ["on", "off", None]}
    assert props["c"] == {"anyOf": [{"$ref": "#/$defs/Color"}, {"type": "null"}]}
    assert props["d"] == {"anyOf": [{"allOf": [{"$ref": "#/$defs/Color"}]}, {"type": "null"}]}
    assert props["e"] == {"type": "integer", "exclusiveMinimum": 0, "maximum": 9}
    assert props["f"] == {"type": "string"}
    assert props["g"] == {"type": "string"}
    assert props["h"] == {"type": "string", "format": "binary"}
    assert props["i"] == {"type": ["string", "null"], "examples": ["y"]}
    assert any("regex" in w for w in api.warnings)


def test_swagger2_x_nullable_type_arrays_and_file(tmp_path: Path) -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/x": {
                "post": {
                    "consumes": ["application/json"],
                    "parameters": [{"name": "b", "in": "body", "schema": {"$ref": "#/definitions/T"}}],
                    "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/T"}}},
                }
            }
        },
        "definitions": {
            "T": {
                "properties": {
                    "n": {"type": "integer", "x-nullable": True},
                    "u": {"type": ["string", "null"]},  # Slack does this in 2.0
                    "m": {"oneOf": [{"$ref": "#/definitions/M"}, {"type": "null"}]},
                    "f": {"type": "file"},
                }
            },
            "M": {"type": "object", "discriminator": "kind", "properties": {"kind": {"type": "string"}}},
        },
    }
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps(doc))
    tool = convert(load_spec(str(spec))).tools[0]
    props = tool.input_schema["properties"]
    assert props["n"] == {"type": ["integer", "null"]}
    assert props["u"] == {"type": ["string", "null"]}
    assert props["m"] == {"oneOf": [{"$ref": "#/$defs/M"}, {"type": "null"}]}
    assert props["f"]["type"] == "string" and props["f"]["format"] == "binary"
    assert tool.input_schema["$defs"]["M"]["discriminator"] == {"propertyName": "kind"}


def test_read_only_and_write_only(tmp_path: Path) -> None:
    schemas = {
        "User": {
            "type": "object",
            "required": ["id", "name", "password"],
            "properties": {
                "id": {"type": "integer", "readOnly": True},
                "name": {"type": "string"},
                "password": {"type": "string", "writeOnly": True},
                "created": {"$ref": "#/components/schemas/Stamp"},
            },
        },
        "Stamp": {"type": "string", "format": "date-time", "readOnly": True},
    }
    tool = _api(tmp_path, schemas, {"$ref": "#/components/schemas/User"}).tools[0]
    assert set(tool.input_schema["properties"]) == {"name", "password"}
    assert tool.input_schema["required"] == ["name", "password"]
    assert tool.output_schema is not None
    assert set(tool.output_schema["properties"]) == {"id", "name", "created"}
    assert tool.output_schema["required"] == ["id", "name"]


def test_def_names_are_sanitised_unique_and_shared(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text("Pet:\n  type: object\n  properties: {o: {type: string}}\n")
    schemas = {
        "Pet": {"type": "object", "properties": {"p": {"type": "string"}}},
        "Pet Owner[v2]": {
            "type": "object",
            "properties": {
                "pet": {"$ref": "#/components/schemas/Pet"},
                "other": {"$ref": "other.yaml#/Pet"},
            },
        },
    }
    body = {"type": "array", "items": {"$ref": "#/components/schemas/Pet%20Owner%5Bv2%5D"}}
    tool = _api(tmp_path, schemas, body).tools[0]
    defs = tool.input_schema["$defs"]
    assert set(defs) == {"Pet_Owner_v2", "Pet", "Pet_2"}
    assert defs["Pet_Owner_v2"]["properties"] == {
        "pet": {"$ref": "#/$defs/Pet"},
        "other": {"$ref": "#/$defs/Pet_2"},
    }
    assert defs["Pet_2"]["properties"] == {"o": {"type": "string"}}


def test_only_reachable_defs_and_shared_objects(tmp_path: Path) -> None:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {"get": {"parameters": [_query("f", {"$ref": "#/components/schemas/A"})], "responses": {}}},
            "/b": {"get": {"parameters": [_query("f", {"$ref": "#/components/schemas/A"})], "responses": {}}},
            "/c": {"get": {"parameters": [_query("f", {"$ref": "#/components/schemas/C"})], "responses": {}}},
        },
        "components": {
            "schemas": {
                "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
                "B": {"type": "string"},
                "C": {"type": "integer"},
                "Unused": {"type": "boolean"},
            }
        },
    }
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps(doc))
    a, b, c = convert(load_spec(str(spec))).tools
    assert set(a.input_schema["$defs"]) == {"A", "B"} and set(c.input_schema["$defs"]) == {"C"}
    assert a.input_schema["$defs"]["A"] is b.input_schema["$defs"]["A"]  # converted once, shared


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema}


def test_openapi_31_keywords_and_discriminator_mapping(tmp_path: Path) -> None:
    schemas = {
        "Pet": {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {"cat": "#/components/schemas/Cat", "dog": "Dog"},
            },
        },
        "Cat": {"type": "object", "properties": {"kind": {"const": "cat"}}, "$comment": "meow"},
        "Dog": {
            "type": "object",
            "properties": {
                "kind": {"const": "dog"},
                "tags": {"type": "array", "prefixItems": [{"type": "string"}]},
            },
            "unevaluatedProperties": False,
        },
    }
    api = _api(tmp_path, schemas, {"$ref": "#/components/schemas/Pet"}, version="3.1.0")
    body = _body_schema(api)
    assert body == {"$ref": "#/$defs/Pet"}  # oneOf at the top: one `body` argument
    defs = api.tools[0].input_schema["$defs"]
    assert defs["Pet"]["discriminator"]["mapping"] == {"cat": "#/$defs/Cat", "dog": "#/$defs/Dog"}
    assert defs["Cat"] == {"type": "object", "properties": {"kind": {"const": "cat"}}}
    assert defs["Dog"]["unevaluatedProperties"] is False
