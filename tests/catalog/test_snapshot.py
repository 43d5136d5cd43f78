"""The in-memory snapshot: final names, collisions, order, pagination, lazy parsing."""

from __future__ import annotations

import base64
import random
import re

import orjson
import pytest

from catalog.records import CatalogApi, StoredTool, ToolOverrideInfo
from catalog.snapshot import (
    CatalogSnapshot,
    InvalidCursorError,
    build_snapshot,
    encode_cursor,
    generated_name,
)
from connectors.openapi.model import OperationPlan, ParamSpec, SecurityScheme

NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
PLAN = OperationPlan(
    method="GET",
    path="/things/{id}",
    server_url="https://api.example.com",
    params=(ParamSpec(name="id", location="path", arg="id", required=True),),
)


def stored(key: str, name: str, *, output: bool = False) -> StoredTool:
    return StoredTool(
        key=key,
        name=name,
        title=None,
        description=f"does {name}",
        input_schema=orjson.dumps({"type": "object", "properties": {"id": {"type": "string"}}}).decode(),
        output_schema=orjson.dumps({"type": "object"}).decode() if output else None,
        plan=orjson.dumps(PLAN.to_dict()).decode(),
        annotations={"readOnlyHint": True},
        scopes=("read",),
        tags=(),
        deprecated=False,
    )


def api(
    name: str,
    tools: list[StoredTool],
    overrides: list[ToolOverrideInfo] = (),  # type: ignore[assignment]
    *,
    tenant: str = "default",
    credentials: dict[str, str] | None = None,
) -> CatalogApi:
    return CatalogApi(
        tenant=tenant,
        name=name,
        version=1,
        source=f"{name}.yaml",
        title=name.title(),
        base_url="https://api.example.com",
        security_schemes={
            "key": SecurityScheme(name="key", type="apiKey", location="header", param_name="X")
        },
        tools=tuple(tools),
        overrides={o.key: o for o in overrides},
        credentials=credentials,
    )


def names(snapshot: CatalogSnapshot) -> list[str]:
    return [t.name for t in snapshot.tools]


def test_names_are_prefixed_and_sorted() -> None:
    snapshot = build_snapshot(
        [
            api("zoo", [stored("GET /a", "listAnimals")]),
            api("bank", [stored("GET /b", "getBalance"), stored("POST /a", "addAccount")]),
        ],
        revision=7,
    )
    assert snapshot.revision == 7
    assert names(snapshot) == ["bank_addAccount", "bank_getBalance", "zoo_listAnimals"]
    tool = snapshot.get("bank_getBalance")
    assert tool is not None
    assert (tool.api.name, tool.key, tool.tenant) == ("bank", "GET /b", "default")
    assert tool.description == "does getBalance"
    assert tool.annotations == {"readOnlyHint": True} and tool.scopes == ("read",)
    assert snapshot.get("nope") is None
    assert [a.name for a in snapshot.apis] == ["bank", "zoo"]


def test_overrides_rename_redescribe_and_disable() -> None:
    overrides = [
        ToolOverrideInfo(api="bank", key="GET /b", tenant="default", name="balance", description="Money."),
        ToolOverrideInfo(api="bank", key="POST /a", tenant="default", enabled=False),
        # Overrides of operations the current version does not have wait for a later import.
        ToolOverrideInfo(api="bank", key="GET /gone", tenant="default", name="ignored"),
    ]
    snapshot = build_snapshot(
        [api("bank", [stored("GET /b", "getBalance"), stored("POST /a", "addAccount")], overrides)], 1
    )
    assert names(snapshot) == ["balance"]
    assert snapshot.tools[0].description == "Money."


def test_long_names_are_cut_to_64_and_stay_distinct() -> None:
    api_name = "a" * 32
    tools = [stored(f"GET /{i}", "x" * 47 + str(i)) for i in range(3)]
    snapshot = build_snapshot([api(api_name, tools)], 1)
    assert len(set(names(snapshot))) == 3
    assert all(len(n) <= 64 and NAME_RE.fullmatch(n) for n in names(snapshot))
    assert generated_name(api_name, "x" * 48) == generated_name(api_name, "x" * 48)  # stable


def test_invalid_characters_are_replaced() -> None:
    assert generated_name("api", "weird name/with:chars") == "api_weird_name_with_chars"


def test_collisions_resolve_deterministically_by_api_then_key() -> None:
    # "a_b" + "c" and "a" + "b_c" both want "a_b_c".
    apis = [api("a_b", [stored("GET /1", "c")]), api("a", [stored("GET /2", "b_c"), stored("GET /3", "b_c")])]
    snapshot = build_snapshot(apis, 1)
    by_identity = {(t.api.name, t.key): t.name for t in snapshot.tools}
    assert by_identity[("a", "GET /2")] == "a_b_c"  # first by API name, then key
    assert by_identity[("a", "GET /3")].startswith("a_b_c_")
    assert by_identity[("a_b", "GET /1")].startswith("a_b_c_")
    assert len(set(by_identity.values())) == 3
    assert all(NAME_RE.fullmatch(n) for n in by_identity.values())

    for _ in range(5):  # the order the catalog arrives in does not matter
        shuffled = [api(a.name, random.sample(list(a.tools), len(a.tools))) for a in random.sample(apis, 2)]
        assert names(build_snapshot(shuffled, 1)) == names(snapshot)


def test_suffixes_do_not_depend_on_unrelated_tools() -> None:
    base = [api("c", [stored("GET /1", "x")]), api("d", [stored("GET /1", "x")])]
    clash = [api("a", [stored("GET /1", "b_x")]), api("a_b", [stored("GET /1", "x")])]
    first = {(t.api.name, t.key): t.name for t in build_snapshot(clash, 1).tools}
    second = {(t.api.name, t.key): t.name for t in build_snapshot([*clash, *base], 1).tools}
    assert first.items() <= second.items()


def test_explicit_names_win_over_generated_ones() -> None:
    override = ToolOverrideInfo(api="z", key="GET /1", tenant="default", name="a_x")
    apis = [api("a", [stored("GET /1", "x")]), api("z", [stored("GET /1", "y")], [override])]
    snapshot = build_snapshot(apis, 1)
    by_api = {t.api.name: t.name for t in snapshot.tools}
    assert by_api["z"] == "a_x"
    assert by_api["a"].startswith("a_x_") and len(by_api["a"]) == len("a_x_") + 6


def test_suffixed_names_never_take_a_name_another_tool_asked_for() -> None:
    twins = [stored("GET /1", "x"), stored("GET /2", "x")]
    suffixed = build_snapshot([api("a", twins)], 1).get  # GET /2 lost: it is "a_x_<hash>"
    loser = next(t.name for t in build_snapshot([api("a", twins)], 1).tools if t.key == "GET /2")
    assert suffixed("a_x") is not None and loser.startswith("a_x_")
    # A tool that is naturally called like that suffixed name keeps it; the loser moves on.
    natural = stored("GET /3", loser.removeprefix("a_"))
    by_key = {t.key: t.name for t in build_snapshot([api("a", [*twins, natural])], 1).tools}
    assert by_key["GET /3"] == loser
    assert by_key["GET /2"] not in (loser, "a_x") and by_key["GET /2"].startswith("a_x_")


def test_pages_walk_every_tool_once_with_stable_cursors() -> None:
    tools = [stored(f"GET /{i:03}", f"op{i:03}") for i in range(23)]
    snapshot = build_snapshot([api("big", tools)], 1)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page, cursor = snapshot.page(cursor, 5)
        seen.extend(t.name for t in page)
        pages += 1
        if cursor is None:
            break
        assert isinstance(cursor, str) and "big" not in cursor  # opaque
        assert snapshot.page(cursor, 5) == snapshot.page(cursor, 5)  # stable
    assert seen == names(snapshot) and pages == 5

    whole, next_cursor = snapshot.page(None, 100)
    assert [t.name for t in whole] == names(snapshot) and next_cursor is None
    exact, next_cursor = snapshot.page(None, 23)
    assert len(exact) == 23 and next_cursor is None


def test_cursor_survives_a_reload() -> None:
    tools = [stored(f"GET /{i}", f"op{i}") for i in range(6)]
    first = build_snapshot([api("a", tools)], 1)
    _, cursor = first.page(None, 3)
    assert cursor is not None
    reloaded = build_snapshot([api("a", tools[:2] + tools[3:])], 2)  # a tool on page one vanished
    rest, _ = reloaded.page(cursor, 10)
    assert [t.name for t in rest] == names(first)[3:]


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "x" * 300,
        base64.urlsafe_b64encode(b"2:op1").decode(),
        base64.urlsafe_b64encode(b"1:has space").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_invalid_cursors_are_refused(cursor: str) -> None:
    snapshot = build_snapshot([api("a", [stored("GET /1", "op1")])], 1)
    with pytest.raises(InvalidCursorError):
        snapshot.page(cursor, 10)


def test_page_size_must_be_positive_and_empty_snapshot_pages() -> None:
    empty = build_snapshot([], revision=-1)
    assert empty.page(None, 10) == ((), None)
    assert empty.tools == () and len(empty) == 0
    with pytest.raises(ValueError):
        empty.page(None, 0)
    assert encode_cursor("op1").rstrip("=") == encode_cursor("op1")


def test_schemas_and_plan_parse_lazily_once() -> None:
    snapshot = build_snapshot([api("a", [stored("GET /1", "op", output=True), stored("GET /2", "bare")])], 1)
    tool, bare = snapshot.get("a_op"), snapshot.get("a_bare")
    assert tool is not None and bare is not None
    assert isinstance(tool.raw_input_schema, str)
    assert tool.input_schema == {"type": "object", "properties": {"id": {"type": "string"}}}
    assert tool.input_schema is tool.input_schema  # parsed once, then shared
    assert tool.output_schema == {"type": "object"} and bare.output_schema is None
    assert tool.plan == PLAN and tool.plan is tool.plan
    with pytest.raises(AttributeError):
        tool.name = "other"  # type: ignore[misc]


def test_secrets_stay_out_of_reprs() -> None:
    snapshot = build_snapshot([api("a", [stored("GET /1", "op")], credentials={"api_key": "s3cr3t"})], 1)
    tool = snapshot.tools[0]
    assert tool.api.credentials == {"api_key": "s3cr3t"}
    assert "s3cr3t" not in repr(tool) and "s3cr3t" not in repr(tool.api) and "s3cr3t" not in repr(snapshot)
    assert tool.api.security_schemes["key"].param_name == "X"


def test_tenants_share_one_namespace() -> None:
    snapshot = build_snapshot(
        [api("a", [stored("GET /1", "x")]), api("a", [stored("GET /1", "x")], tenant="acme")], 1
    )
    assert len(set(names(snapshot))) == 2
    assert {t.tenant for t in snapshot.tools} == {"default", "acme"}


def test_github_sized_snapshot_builds() -> None:

    properties = {f"p{i}": {"type": "string"} for i in range(200)}
    big = orjson.dumps({"type": "object", "properties": properties}).decode()
    tools = [
        StoredTool(
            key=f"GET /repos/{i}", name=f"repos_op_{i}", title=None, description="d" * 300, input_schema=big,
            output_schema=big, plan=orjson.dumps(PLAN.to_dict()).decode(), annotations={}, scopes=(), tags=(),
            deprecated=False,
        )
        for i in range(1223)
    ]
    snapshot = build_snapshot([api("github", tools)], 1)
    assert len(snapshot.tools) == 1223
