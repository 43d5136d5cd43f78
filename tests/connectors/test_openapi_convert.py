"""Operations as tools: arguments, bodies, servers, names, descriptions, hints and security."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.openapi.convert import convert
from connectors.openapi.loader import load_spec
from connectors.openapi.model import ApiDef, FieldEncoding, ToolDef


def _api(tmp_path: Path, paths: dict[str, Any], **root: Any) -> ApiDef:
    doc = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths, **root}
    return _convert(tmp_path, doc)


def _swagger(tmp_path: Path, paths: dict[str, Any], **root: Any) -> ApiDef:
    doc = {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": paths, **root}
    return _convert(tmp_path, doc)


def _convert(tmp_path: Path, doc: dict[str, Any]) -> ApiDef:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(doc))
    return convert(load_spec(str(spec)))


def _tool(api: ApiDef, key: str) -> ToolDef:
    return next(t for t in api.tools if t.key == key)


def _json_body(schema: Any, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


OBJECT = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "tag": {"type": "string"}, "filter[kind]": {"type": "string"}},
}


# --- parameters ---------------------------------------------------------------------------------


def test_parameters_become_properties(tmp_path: Path) -> None:
    path_params = [{"name": "id", "in": "path", "schema": {"type": "integer"}, "description": "The id."}]
    params = [
        {
            "name": "filter[status]",
            "in": "query",
            "required": True,
            "schema": {"type": "array", "items": {"type": "string"}},
        },
        {"name": "id", "in": "header", "schema": {"type": "string"}},
        {"name": "Accept", "in": "header", "schema": {"type": "string"}},
        {"name": "content-type", "in": "header", "schema": {"type": "string"}},
        {"name": "Authorization", "in": "header", "required": True, "schema": {"type": "string"}},
        {"name": "session", "in": "cookie", "schema": {"type": "object"}},
        {"name": "where", "in": "query", "content": {"application/json": {"schema": {"type": "object"}}}},
        {"name": "deep", "in": "query", "style": "deepObject", "explode": True, "schema": {"type": "object"}},
        {
            "name": "raw",
            "in": "query",
            "allowReserved": True,
            "deprecated": True,
            "example": "a/b",
            "schema": {"type": "string"},
        },
    ]
    api = _api(
        tmp_path, {"/items/{id}": {"parameters": path_params, "get": {"parameters": params, "responses": {}}}}
    )
    tool = api.tools[0]
    specs = {(p.location, p.name): p for p in tool.plan.params}
    assert set(specs) == {
        ("path", "id"), ("query", "filter[status]"), ("header", "id"), ("cookie", "session"),
        ("query", "where"), ("query", "deep"), ("query", "raw"),
    }  # fmt: skip
    assert specs[("path", "id")].arg == "id" and specs[("header", "id")].arg == "header_id"
    assert specs[("query", "filter[status]")].arg == "filter_status"
    assert [
        (s.style, s.explode, s.kind) for s in (specs[("path", "id")], specs[("query", "filter[status]")])
    ] == [
        ("simple", False, "primitive"),
        ("form", True, "array"),
    ]
    assert (specs[("cookie", "session")].style, specs[("cookie", "session")].explode) == ("form", True)
    assert (specs[("header", "id")].style, specs[("header", "id")].explode) == ("simple", False)
    assert specs[("query", "where")].content_type == "application/json"
    assert (specs[("query", "deep")].style, specs[("query", "deep")].explode) == ("deepObject", True)
    assert specs[("query", "raw")].allow_reserved
    schema = tool.input_schema
    assert schema["required"] == ["id", "filter_status"]
    assert schema["properties"]["id"] == {"type": "integer", "description": "The id."}
    assert schema["properties"]["raw"] == {"type": "string", "deprecated": True, "examples": ["a/b"]}
    assert schema["additionalProperties"] is False


def test_operation_parameters_override_path_item_ones(tmp_path: Path) -> None:
    shared = [{"name": "q", "in": "query", "schema": {"type": "string"}}]
    own = [{"name": "q", "in": "query", "required": True, "schema": {"type": "integer"}}]
    api = _api(tmp_path, {"/s": {"parameters": shared, "get": {"parameters": own, "responses": {}}}})
    assert api.tools[0].input_schema["properties"]["q"] == {"type": "integer"}
    assert api.tools[0].input_schema["required"] == ["q"]


# --- request bodies -----------------------------------------------------------------------------


def test_object_body_is_flattened(tmp_path: Path) -> None:
    api = _api(tmp_path, {"/pets": {"post": {"requestBody": _json_body(OBJECT), "responses": {}}}})
    tool = api.tools[0]
    assert tool.plan.body is not None
    assert tool.plan.body.arg is None and tool.plan.body.media_type == "application/json"
    assert tool.plan.body.fields == {"name": "name", "tag": "tag", "filter_kind": "filter[kind]"}
    assert tool.input_schema["required"] == ["name"]
    assert set(tool.input_schema["properties"]) == {"name", "tag", "filter_kind"}


def test_optional_body_makes_nothing_required(tmp_path: Path) -> None:
    api = _api(
        tmp_path, {"/pets": {"post": {"requestBody": _json_body(OBJECT, required=False), "responses": {}}}}
    )
    assert api.tools[0].input_schema["required"] == []


def test_clashing_body_stays_one_argument(tmp_path: Path) -> None:
    params = [{"name": "name", "in": "query", "schema": {"type": "string"}}]
    api = _api(
        tmp_path,
        {"/pets": {"post": {"parameters": params, "requestBody": _json_body(OBJECT), "responses": {}}}},
    )
    tool = api.tools[0]
    assert tool.plan.body is not None and tool.plan.body.arg == "body" and tool.plan.body.fields == {}
    assert tool.input_schema["properties"]["body"]["properties"]["name"] == {"type": "string"}
    assert tool.input_schema["required"] == ["body"]


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "items": {"type": "string"}},
        {"allOf": [OBJECT]},
        {"type": "object", "additionalProperties": {"type": "string"}},
        {"type": "object"},
    ],
)
def test_non_plain_bodies_stay_one_argument(tmp_path: Path, schema: dict[str, Any]) -> None:
    api = _api(tmp_path, {"/pets": {"post": {"requestBody": _json_body(schema), "responses": {}}}})
    assert api.tools[0].plan.body is not None and api.tools[0].plan.body.arg == "body"


def test_body_argument_yields_to_a_body_parameter(tmp_path: Path) -> None:
    params = [{"name": "body", "in": "query", "schema": {"type": "string"}}]
    request = _json_body({"type": "string"}, required=False)
    api = _api(tmp_path, {"/p": {"post": {"parameters": params, "requestBody": request, "responses": {}}}})
    assert api.tools[0].plan.body is not None and api.tools[0].plan.body.arg == "requestBody"
    assert api.tools[0].input_schema["required"] == []


def test_media_type_preference_and_multipart_files(tmp_path: Path) -> None:
    properties = {
        "file": {"type": "string", "format": "binary"},
        "n": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
    }
    form = {"type": "object", "properties": properties}
    content = {
        "text/plain": {"schema": {"type": "string"}},
        "multipart/form-data": {"schema": form, "encoding": {"file": {"contentType": "image/png"}}},
        "application/vnd.api+json": {"schema": OBJECT},
    }
    api = _api(tmp_path, {"/a": {"post": {"requestBody": {"content": content}, "responses": {}}}})
    assert (
        api.tools[0].plan.body is not None and api.tools[0].plan.body.media_type == "application/vnd.api+json"
    )
    del content["application/vnd.api+json"]
    api = _api(tmp_path, {"/a": {"post": {"requestBody": {"content": content}, "responses": {}}}})
    body = api.tools[0].plan.body
    assert body is not None and body.media_type == "multipart/form-data"
    assert body.encoding == {
        "file": FieldEncoding(content_type="image/png", binary=True),
        "n": FieldEncoding(),
        "tags": FieldEncoding(kind="array"),
    }
    file_arg = api.tools[0].input_schema["properties"]["file"]
    assert file_arg["contentEncoding"] == "base64" and "base64" in file_arg["description"]


def test_raw_binary_body(tmp_path: Path) -> None:
    content = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    api = _api(
        tmp_path, {"/up": {"post": {"requestBody": {"content": content, "required": True}, "responses": {}}}}
    )
    body = api.tools[0].plan.body
    assert body is not None and body.arg == "body" and body.binary
    assert api.tools[0].input_schema["properties"]["body"]["contentEncoding"] == "base64"


def test_xml_body_is_one_text_argument(tmp_path: Path) -> None:
    content = {"application/xml": {"schema": OBJECT}}
    request = {"content": content, "required": True, "description": "The pet."}
    api = _api(tmp_path, {"/x": {"post": {"requestBody": request, "responses": {}}}})
    body = api.tools[0].plan.body
    assert body is not None and body.arg == "body" and not body.binary
    assert api.tools[0].input_schema["properties"]["body"] == {
        "type": "string",
        "description": "The pet. The request body as application/xml text.",
    }


# --- Swagger 2.0 --------------------------------------------------------------------------------


def test_swagger_form_data_and_collection_formats(tmp_path: Path) -> None:
    def query(name: str, fmt: str | None) -> dict[str, Any]:
        param = {"name": name, "in": "query", "type": "array", "items": {"type": "string"}}
        return {**param, "collectionFormat": fmt} if fmt else param

    params = [query(f, f) for f in ("csv", "multi", "ssv", "pipes")] + [query("plain", None)]
    params += [
        {
            "name": "ids",
            "in": "formData",
            "type": "array",
            "items": {"type": "integer"},
            "collectionFormat": "multi",
        },
        {"name": "note", "in": "formData", "type": "string", "required": True, "description": "A note."},
    ]
    api = _swagger(tmp_path, {"/f": {"post": {"parameters": params, "responses": {}}}})
    tool = api.tools[0]
    styles = {p.name: (p.style, p.explode) for p in tool.plan.params}
    assert styles == {
        "csv": ("form", False), "multi": ("form", True), "ssv": ("spaceDelimited", False),
        "pipes": ("pipeDelimited", False), "plain": ("form", False),
    }  # fmt: skip
    body = tool.plan.body
    assert body is not None and body.media_type == "application/x-www-form-urlencoded" and body.required
    assert body.fields == {"ids": "ids", "note": "note"}
    assert body.encoding["ids"] == FieldEncoding(style="form", explode=True, kind="array")
    assert tool.input_schema["properties"]["note"] == {"type": "string", "description": "A note."}
    assert tool.input_schema["required"] == ["note"]


def test_swagger_file_upload_is_multipart(tmp_path: Path) -> None:
    params = [
        {"name": "upload", "in": "formData", "type": "file"},
        {"name": "n", "in": "formData", "type": "string"},
    ]
    api = _swagger(
        tmp_path, {"/f": {"post": {"consumes": ["application/x-www-form-urlencoded"], "parameters": params}}}
    )
    body = api.tools[0].plan.body
    assert body is not None and body.media_type == "multipart/form-data"
    assert body.encoding["upload"].binary and not body.encoding["n"].binary
    upload = api.tools[0].input_schema["properties"]["upload"]
    assert (
        upload["type"] == "string" and upload["format"] == "binary" and upload["contentEncoding"] == "base64"
    )


def test_swagger_body_and_server(tmp_path: Path) -> None:
    params = [{"name": "pet", "in": "body", "required": True, "schema": OBJECT}]
    paths = {
        "/pets": {
            "post": {"parameters": params, "responses": {"201": {"description": "c", "schema": OBJECT}}}
        }
    }
    api = _swagger(tmp_path, paths, host="api.example.com", basePath="/v2/", schemes=["http", "https"])
    tool = api.tools[0]
    assert (
        api.servers == ["https://api.example.com/v2"] and tool.plan.server_url == "https://api.example.com/v2"
    )
    assert tool.plan.body is not None and tool.plan.body.fields == {
        "name": "name",
        "tag": "tag",
        "filter_kind": "filter[kind]",
    }
    assert tool.output_schema is not None and tool.output_schema["required"] == ["name"]
    assert _swagger(tmp_path, paths, basePath="/api").tools[0].plan.server_url == "/api"  # relative: no host


# --- servers ------------------------------------------------------------------------------------


def test_server_precedence_and_variables(tmp_path: Path) -> None:
    variables = {"scheme": {"default": "https", "enum": ["https"]}, "host": {"default": "api.example.com"}}
    root = [{"url": "{scheme}://{host}/v1", "variables": variables}]
    paths = {
        "/a": {
            "get": {"responses": {}},
            "post": {"servers": [{"url": "https://op.example.com"}], "responses": {}},
        },
        "/b": {"servers": [{"url": "/relative"}], "get": {"responses": {}}},
    }
    api = _api(tmp_path, paths, servers=root)
    assert api.servers == ["https://api.example.com/v1"]
    assert [t.plan.server_url for t in api.tools] == [
        "https://api.example.com/v1",
        "https://op.example.com",
        "/relative",
    ]
    assert _api(tmp_path, {"/a": {"get": {"responses": {}}}}).tools[0].plan.server_url == ""


# --- names, descriptions, hints ----------------------------------------------------------------


def test_names(tmp_path: Path) -> None:
    long_id = "list" + "VeryLongOperationIdentifier" * 3
    paths = {
        "/users/{userId}/repos": {
            "get": {"responses": {}},
            "post": {"operationId": "repos/create one", "responses": {}},
        },
        "/": {"get": {"responses": {}}},
        "/a": {
            "get": {"operationId": "dup", "responses": {}},
            "put": {"operationId": "dup", "responses": {}},
        },
        "/0": {"get": {"operationId": "dup", "responses": {}}},
        "/long": {"get": {"operationId": long_id, "responses": {}}},
        "/long2": {"get": {"operationId": long_id + "2", "responses": {}}},
        "/i18n": {"get": {"operationId": "列出", "responses": {}}},
    }
    api = _api(tmp_path, paths)
    names = {t.key: t.name for t in api.tools}
    assert names["GET /users/{userId}/repos"] == "get_users_userId_repos"
    assert names["POST /users/{userId}/repos"] == "repos_create_one"
    assert names["GET /"] == "get_root"
    assert (names["GET /0"], names["GET /a"], names["PUT /a"]) == (
        "dup",
        "dup_2",
        "dup_3",
    )  # by (path, method)
    assert len(names["GET /long"]) == 48 and len(names["GET /long2"]) == 48
    assert names["GET /long"] != names["GET /long2"]
    assert names["GET /i18n"] == "get_i18n"
    assert names == {t.key: t.name for t in _api(tmp_path, paths).tools}  # stable across imports


def test_description_title_and_hints(tmp_path: Path) -> None:
    long = "word " * 500
    paths = {
        "/x": {
            "get": {"summary": "List x", "description": "All of them.", "responses": {}},
            "put": {"deprecated": True, "description": long, "responses": {}},
            "delete": {"responses": {}},
            "post": {"summary": "Make", "responses": {}},
        }
    }
    tools = {t.plan.method: t for t in _api(tmp_path, paths).tools}
    assert tools["GET"].description == "List x\n\nAll of them." and tools["GET"].title == "List x"
    assert tools["PUT"].description.startswith("Deprecated. word") and tools["PUT"].deprecated
    assert len(tools["PUT"].description) <= 1500 and tools["PUT"].description.endswith("word…")
    assert tools["DELETE"].description == "DELETE /x" and tools["DELETE"].title is None
    assert tools["GET"].annotations == {"title": "List x", "readOnlyHint": True, "openWorldHint": True}
    assert tools["DELETE"].annotations == {
        "readOnlyHint": False, "destructiveHint": True, "idempotentHint": True, "openWorldHint": True,
    }  # fmt: skip
    assert (
        tools["PUT"].annotations["idempotentHint"] is True
        and "destructiveHint" not in tools["PUT"].annotations
    )
    assert tools["POST"].annotations == {"title": "Make", "readOnlyHint": False, "openWorldHint": True}


def test_output_schema_choice(tmp_path: Path) -> None:
    def returns(**responses: Any) -> dict[str, Any]:
        return {"get": {"responses": responses}}

    def media(schema: Any, media_type: str = "application/json") -> dict[str, Any]:
        return {"description": "d", "content": {media_type: {"schema": schema}}}

    other = {"type": "object", "properties": {"other": {"type": "string"}}}
    paths = {
        "/a": returns(**{"201": media(other), "200": media(OBJECT), "default": media(other)}),
        "/b": returns(**{"202": media(OBJECT), "2XX": media(other)}),
        "/c": returns(**{"default": media(OBJECT), "404": media(other)}),
        "/d": returns(**{"200": media({"type": "array", "items": OBJECT})}),
        "/e": returns(**{"200": media(OBJECT, "text/html")}),
        "/f": returns(
            **{"200": media({"properties": {"p": {"type": "string"}}}, "application/problem+json")}
        ),
    }
    tools = {t.plan.path: t for t in _api(tmp_path, paths).tools}
    assert tools["/a"].output_schema is not None and "name" in tools["/a"].output_schema["properties"]
    assert tools["/b"].output_schema is not None and "name" in tools["/b"].output_schema["properties"]
    assert tools["/c"].output_schema is not None and "name" in tools["/c"].output_schema["properties"]
    assert tools["/d"].output_schema is None and tools["/e"].output_schema is None
    assert tools["/f"].output_schema == {"properties": {"p": {"type": "string"}}, "type": "object"}


# --- security -----------------------------------------------------------------------------------


def test_security(tmp_path: Path) -> None:
    schemes = {
        "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
        "basic": {"type": "http", "scheme": "Basic"},
        "oauth": {"type": "oauth2", "flows": {
            "clientCredentials": {"tokenUrl": "https://auth.example.com/token", "scopes": {"b": "", "a": ""}},
            "authorizationCode": {"authorizationUrl": "u", "tokenUrl": "t", "scopes": {"c": ""}},
        }},
        "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://auth.example.com/.well-known"},
    }  # fmt: skip
    paths = {
        "/a": {"get": {"responses": {}}},
        "/b": {"get": {"security": [], "responses": {}}},
        "/c": {
            "get": {
                "security": [{"oauth": ["b", "a"]}, {"oidc": ["a", "openid"], "key": []}, {}],
                "responses": {},
            }
        },
    }
    api = _api(tmp_path, paths, components={"securitySchemes": schemes}, security=[{"key": [], "basic": []}])
    assert (
        api.security_schemes["key"].location == "header" and api.security_schemes["key"].param_name == "X-Key"
    )
    assert api.security_schemes["basic"].scheme == "basic"
    oauth = api.security_schemes["oauth"]
    assert oauth.token_url == "https://auth.example.com/token" and oauth.scopes == ("a", "b", "c")
    assert api.security_schemes["oidc"].type == "openIdConnect"
    tools = {t.plan.path: t for t in api.tools}
    assert tools["/a"].plan.security == (("key", "basic"),) and tools["/a"].scopes == ()
    assert tools["/b"].plan.security == ()
    assert tools["/c"].plan.security == (("oauth",), ("oidc", "key"), ())
    assert tools["/c"].scopes == ("a", "b", "openid")


def test_swagger_security_definitions(tmp_path: Path) -> None:
    definitions = {
        "app": {
            "type": "oauth2",
            "flow": "application",
            "tokenUrl": "https://t.example/token",
            "scopes": {"x": ""},
        },
        "basic": {"type": "basic"},
        "q": {"type": "apiKey", "in": "query", "name": "api_key"},
    }
    paths = {"/a": {"get": {"security": [{"app": ["x"]}], "responses": {}}}}
    api = _swagger(tmp_path, paths, securityDefinitions=definitions)
    assert api.security_schemes["app"].token_url == "https://t.example/token"
    assert (api.security_schemes["basic"].type, api.security_schemes["basic"].scheme) == ("http", "basic")
    assert api.security_schemes["q"].location == "query"
    assert api.tools[0].scopes == ("x",)


# --- what is (not) a tool -----------------------------------------------------------------------


def test_webhooks_callbacks_and_odd_operations(tmp_path: Path) -> None:
    callback: dict[str, Any] = {"cb": {"{$request.body#/url}": {"post": {"responses": {}}}}}
    paths = {
        "/a": {"post": {"callbacks": callback, "responses": {}}, "x-note": {"get": {}}, "summary": "s"},
        "/b": {"get": "not an operation"},
        "/c": {"get": {"parameters": [{"in": "query"}, {"name": "z", "in": "body"}], "responses": {}}},
        "x-extension": {"get": {}},
    }
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        "webhooks": {"w": {"post": {"responses": {}}}},
    }
    api = _convert(tmp_path, doc)
    assert [t.key for t in api.tools] == ["POST /a", "GET /c"]
    assert api.tools[1].input_schema["properties"] == {}
    assert len(api.warnings) == 3 and any("GET /b" in w for w in api.warnings)


def test_fragment_paths_keep_their_key_but_not_the_fragment(tmp_path: Path) -> None:
    api = _api(tmp_path, {"/x#variant": {"get": {"responses": {}}}})
    assert api.tools[0].key == "GET /x#variant" and api.tools[0].plan.path == "/x"
