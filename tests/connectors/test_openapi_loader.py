"""Loading specs: formats, multi-file references, URL fetching and the errors operators see."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.openapi.convert import convert
from connectors.openapi.errors import SpecError
from connectors.openapi.loader import load_spec


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


MINIMAL = """\
openapi: 3.0.3
info: {title: T, version: 1.0}
paths:
  /things:
    get:
      operationId: listThings
      parameters:
        - $ref: 'parts/params.yaml#/limit'
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: 'parts/thing.yaml'}
"""


def _error(source: Path | str, **kwargs: Any) -> str:
    with pytest.raises(SpecError) as caught:
        convert(load_spec(str(source), **kwargs))
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# --- formats -----------------------------------------------------------------------------------


def test_yaml_values_become_json_values(tmp_path: Path) -> None:
    spec = _write(
        tmp_path / "s.yaml",
        """\
swagger: 2.0
info: {title: Dates, version: 1.0}
paths:
  /x:
    get:
      parameters:
        - {name: since, in: query, type: string, default: 2020-01-02, x-example: 2021-03-04T05:06:07Z}
        - {name: big, in: query, type: integer, maximum: 99999999999999999999}
      responses:
        200: {description: ok}
""",
    )
    loaded = load_spec(str(spec))
    assert loaded.version == "2.0"
    assert list(loaded.document["paths"]["/x"]["get"]["responses"]) == ["200"]  # int key -> "200"
    api = convert(loaded)
    props = api.tools[0].input_schema["properties"]
    assert props["since"]["default"] == "2020-01-02"
    assert props["since"]["examples"] == ["2021-03-04T05:06:07+00:00"]
    assert api.version == "1.0"
    orjson.dumps(loaded.document)  # an int beyond 64 bits became a float, like orjson reads JSON


def test_json_is_read_with_orjson_even_when_yaml_would_choke(tmp_path: Path) -> None:
    doc = {"openapi": "3.1.0", "info": {"title": "Emoji \ud83d\ude00", "version": "1"}, "paths": {}}
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps(doc))  # ASCII with a surrogate pair escape, like twilio's
    assert load_spec(str(spec)).document["info"]["title"] == "Emoji 😀"


def test_json_content_without_json_suffix(tmp_path: Path) -> None:
    spec = _write(
        tmp_path / "spec", '{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}'
    )
    assert load_spec(str(spec)).version == "2.0"


# --- errors -------------------------------------------------------------------------------------


def test_malformed_yaml(tmp_path: Path) -> None:
    spec = _write(tmp_path / "bad.yaml", "openapi: 3.0.0\ninfo: {title: x\npaths: {}\n")
    message = _error(spec)
    assert str(spec) in message and "invalid YAML at line" in message


def test_malformed_json(tmp_path: Path) -> None:
    spec = _write(tmp_path / "bad.json", '{"openapi": "3.0.0",}')
    message = _error(spec)
    assert str(spec) in message and "invalid JSON" in message


def test_not_an_openapi_document(tmp_path: Path) -> None:
    assert "not an OpenAPI or Swagger document" in _error(_write(tmp_path / "a.yaml", "name: x\nvalue: 3\n"))
    assert "not an OpenAPI or Swagger document" in _error(_write(tmp_path / "b.yaml", "- 1\n- 2\n"))
    assert "AsyncAPI" in _error(_write(tmp_path / "c.yaml", "asyncapi: 2.6.0\n"))


@pytest.mark.parametrize(
    "header", ["openapi: 4.0.0", "swagger: '1.2'", "swaggerVersion: '1.2'", "openapi: 2.0"]
)
def test_unsupported_version(tmp_path: Path, header: str) -> None:
    message = _error(
        _write(tmp_path / "s.yaml", f"{header}\ninfo: {{title: t, version: '1'}}\npaths: {{}}\n")
    )
    assert "unsupported" in message and "version" in message


def test_missing_file(tmp_path: Path) -> None:
    message = _error(tmp_path / "nope.yaml")
    assert "file not found" in message and "nope.yaml" in message


def test_ref_to_a_missing_file(tmp_path: Path) -> None:
    spec = _write(tmp_path / "spec.yaml", MINIMAL)
    _write(tmp_path / "parts" / "params.yaml", "limit: {name: limit, in: query, schema: {type: integer}}\n")
    message = _error(spec)
    assert f"{tmp_path}/parts/thing.yaml" in message and "file not found" in message
    assert message.startswith(f"{spec}#/paths/~1things/get/responses/200/content/application~1json/schema")


def test_ref_to_a_missing_pointer(tmp_path: Path) -> None:
    spec = _write(tmp_path / "spec.yaml", MINIMAL)
    _write(tmp_path / "parts" / "params.yaml", "offset: {name: offset, in: query}\n")
    _write(tmp_path / "parts" / "thing.yaml", "type: object\n")
    message = _error(spec)
    assert message.startswith(f"{spec}#/paths/~1things/get/parameters/0")
    assert "parts/params.yaml#/limit" in message and "nothing at #/limit" in message


def test_missing_pointer_deep_inside_a_schema_names_the_exact_place(tmp_path: Path) -> None:
    spec = _write(
        tmp_path / "spec.yaml",
        """\
openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /a:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/A'}
      responses: {'204': {description: none}}
components:
  schemas:
    A:
      type: object
      properties:
        list: {type: array, items: {anyOf: [{type: string}, {$ref: '#/components/schemas/Gone'}]}}
""",
    )
    message = _error(spec)
    assert message.startswith(f"{spec}#/components/schemas/A/properties/list/items/anyOf/1/$ref: ")
    assert "#/components/schemas/Gone" in message


def test_a_file_spec_never_fetches_url_refs(tmp_path: Path) -> None:
    spec = _write(
        tmp_path / "spec.yaml", MINIMAL.replace("parts/thing.yaml", "https://example.com/thing.yaml")
    )
    _write(tmp_path / "parts" / "params.yaml", "limit: {name: limit, in: query, schema: {type: integer}}\n")
    calls: list[str] = []

    def fetch(url: str) -> bytes:
        calls.append(url)
        return b"type: object"

    message = _error(spec, fetch_url=fetch)
    assert "https://example.com/thing.yaml" in message and "from a file" in message
    assert calls == []


# --- multi-file ---------------------------------------------------------------------------------


def test_petstore_separate_multi_file(shared_specs: Path) -> None:
    api = convert(load_spec(str(shared_specs / "petstore-separate-2.0/spec/swagger.yaml")))
    tools = {t.key: t for t in api.tools}
    find = tools["GET /pets"]
    assert [(p.name, p.location, p.kind, p.style, p.explode) for p in find.plan.params] == [
        ("tags", "query", "array", "form", False),  # from parameters.yaml, collectionFormat csv
        ("limit", "query", "primitive", "form", True),
    ]
    add = tools["POST /pets"].input_schema
    assert add["properties"]["body"]["$ref"] == "#/$defs/NewPet"
    assert set(add["$defs"]) == {"NewPet", "Pet"}  # NewPet.yaml's allOf refs Pet.yaml
    assert tools["GET /pets/{id}"].output_schema is not None
    assert tools["GET /pets/{id}"].name == "find_pet_by_id"  # operationId "find pet by id"


def test_refs_on_operations_and_descriptions(tmp_path: Path) -> None:
    _write(
        tmp_path / "ops" / "get.yaml",
        "operationId: getIt\ndescription: {$ref: '../text.yaml#/long'}\n"
        "responses: {'200': {$ref: '../responses.yaml#/ok'}}\n",
    )
    _write(tmp_path / "text.yaml", "long: A description kept in another file.\n")
    _write(
        tmp_path / "responses.yaml",
        "ok:\n  description: ok\n  content:\n    application/json:\n"
        "      schema: {$ref: 'models/item.yaml'}\n",
    )
    _write(tmp_path / "models" / "item.yaml", "type: object\nproperties:\n  child: {$ref: 'item.yaml'}\n")
    _write(tmp_path / "paths.yaml", "item:\n  get: {$ref: 'ops/get.yaml'}\n")
    spec = _write(
        tmp_path / "spec.yaml",
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /it: {$ref: 'paths.yaml#/item'}\n",
    )
    tool = convert(load_spec(str(spec))).tools[0]
    assert tool.name == "getIt" and tool.description == "A description kept in another file."
    assert tool.output_schema is not None
    # responses.yaml refers to models/item.yaml relative to itself; item refers to itself
    assert tool.output_schema["properties"]["child"] == {"$ref": "#/$defs/item"}
    assert tool.output_schema["$defs"]["item"]["properties"]["child"] == {"$ref": "#/$defs/item"}


def test_url_spec_fetches_relative_refs_once_each() -> None:
    files = {
        "https://api.example.com/specs/openapi.yaml": MINIMAL.encode(),
        "https://api.example.com/specs/parts/params.yaml": (
            b"limit: {name: limit, in: query, schema: {$ref: 'thing.yaml#/properties/n'}}"
        ),
        "https://api.example.com/specs/parts/thing.yaml": b"type: object\nproperties: {n: {type: integer}}",
    }
    calls: list[str] = []

    def fetch(url: str) -> bytes:
        calls.append(url)
        return files[url]

    api = convert(load_spec("https://api.example.com/specs/openapi.yaml", fetch_url=fetch))
    assert api.tools[0].input_schema["properties"]["limit"]["$ref"] == "#/$defs/properties_n"
    assert sorted(calls) == sorted(files)  # each document fetched exactly once


def test_url_spec_needs_a_fetcher_and_refuses_file_refs() -> None:
    assert "no URL fetcher" in _error("https://api.example.com/openapi.yaml")
    spec = MINIMAL.replace("parts/thing.yaml", "file:///etc/passwd").encode()
    files = {
        "https://h.example/openapi.yaml": spec,
        "https://h.example/parts/params.yaml": b"limit: {name: limit, in: query}",
    }
    message = _error("https://h.example/openapi.yaml", fetch_url=files.__getitem__)
    assert "file:///etc/passwd" in message and "from a URL" in message


def test_fetch_errors_become_spec_errors() -> None:
    def fetch(url: str) -> bytes:
        raise RuntimeError("connection refused")

    message = _error("https://h.example/openapi.json", fetch_url=fetch)
    assert message == "cannot fetch https://h.example/openapi.json: connection refused"
