"""Acceptance 1: the official openai SDK against the router, with fake upstreams over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest

from tests.llm.conftest import Fakes, deployment
from tests.llm.server import RunningRouter, serve_router

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]
HELLO = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def router(_served_fakes: Fakes) -> Iterator[RunningRouter]:
    fakes = _served_fakes
    settings = {
        "model_list": [
            deployment("gpt", fakes.a.base_url + "/v1"),
            deployment("embed", fakes.b.base_url + "/v1", model="openai/text-embedding-3-small"),
            deployment(
                "claude",
                fakes.claude.base_url,
                model="anthropic/claude-3-5-haiku-20241022",
                model_info={"id": "claude-eu"},
            ),
        ]
    }
    with serve_router(settings) as running:
        yield running


@pytest.fixture
def client(router: RunningRouter, fakes: Fakes) -> openai.OpenAI:
    return openai.OpenAI(base_url=router.base_url, api_key="unused", max_retries=0, timeout=20)


def last_record(router: RunningRouter, before: int):  # type: ignore[no-untyped-def]
    return router.records(count=before + 1)[-1]


def test_chat_non_streaming(client: openai.OpenAI, router: RunningRouter, fakes: Fakes) -> None:
    before = len(router.sink.records)
    reply = client.chat.completions.create(model="gpt", messages=HELLO)
    assert reply.choices[0].message.content == "hello from upstream-a"
    assert reply.usage is not None and reply.usage.total_tokens == 18
    assert fakes.a.bodies[-1]["model"] == "gpt-4o-mini"  # the provider prefix is stripped
    record = last_record(router, before)
    assert (record.group, record.provider, record.status) == ("gpt", "openai", 200)
    assert (record.prompt_tokens, record.completion_tokens) == (11, 7)
    assert record.cost_usd is not None and record.cost_usd > 0  # from litellm's cost map


def test_chat_streaming_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt", messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "hello from upstream-a"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 7


def test_stream_usage_recorded_even_when_client_did_not_ask(
    client: openai.OpenAI, router: RunningRouter, fakes: Fakes
) -> None:
    before = len(router.sink.records)
    chunks = list(client.chat.completions.create(model="gpt", messages=HELLO, stream=True))
    assert all(c.usage is None for c in chunks)  # the usage chunk the router asked for is not passed on
    assert fakes.a.bodies[-1]["stream_options"] == {"include_usage": True}
    record = last_record(router, before)
    assert record.stream and record.ttft_s is not None and record.error is None
    assert (record.prompt_tokens, record.completion_tokens) == (11, 7)


def test_tool_calls(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="gpt", messages=HELLO, tools=TOOLS)  # type: ignore[arg-type]
    call = reply.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}


def test_tool_calls_streaming(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="gpt", messages=HELLO, tools=TOOLS, stream=True))  # type: ignore[arg-type]
    calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert calls[0].function.name == "get_weather"  # type: ignore[union-attr]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_response_format_passes_through(client: openai.OpenAI, fakes: Fakes) -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    client.chat.completions.create(model="gpt", messages=HELLO, response_format=schema)  # type: ignore[arg-type]
    assert fakes.a.bodies[-1]["response_format"] == schema


def test_embeddings(client: openai.OpenAI, router: RunningRouter, fakes: Fakes) -> None:
    result = client.embeddings.create(model="embed", input=["a", "b"])
    assert [d.index for d in result.data] == [0, 1] and result.data[0].embedding == [0.1, 0.2, 0.3]
    assert fakes.b.bodies[-1]["model"] == "text-embedding-3-small"


def test_models(client: openai.OpenAI) -> None:
    assert sorted(m.id for m in client.models.list()) == ["claude", "embed", "gpt"]


def test_anthropic_chat(client: openai.OpenAI, router: RunningRouter, fakes: Fakes) -> None:
    before = len(router.sink.records)
    reply = client.chat.completions.create(
        model="claude", messages=[{"role": "system", "content": "be brief"}, *HELLO], max_tokens=50
    )
    assert reply.choices[0].message.content == "hello from claude"
    sent = fakes.claude.bodies[-1]
    assert sent["system"][0]["text"] == "be brief" and sent["max_tokens"] == 50
    record = last_record(router, before)
    assert (record.provider, record.prompt_tokens, record.completion_tokens) == ("anthropic", 12, 6)


def test_anthropic_streaming(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="claude", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() == "hello from claude"
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 12


def test_anthropic_tool_calls(client: openai.OpenAI, fakes: Fakes) -> None:
    reply = client.chat.completions.create(model="claude-eu", messages=HELLO, tools=TOOLS)  # type: ignore[arg-type]
    call = reply.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    assert fakes.claude.bodies[-1]["tools"][0]["name"] == "get_weather"


def test_anthropic_tool_calls_streaming(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="claude", messages=HELLO, tools=TOOLS, stream=True))  # type: ignore[arg-type]
    calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    arguments = "".join(tc.function.arguments or "" for tc in calls if tc.function)
    assert calls[0].function.name == "get_weather" and json.loads(arguments) == {"city": "Paris"}  # type: ignore[union-attr]


def test_unknown_model_is_404_in_openai_format(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="nope", messages=HELLO)
    assert caught.value.code == "model_not_found"


def test_invalid_body_is_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt", messages="not a list")  # type: ignore[arg-type]
    assert caught.value.body["param"] == "messages"  # type: ignore[index]


def test_upstream_request_errors_are_passed_on(client: openai.OpenAI, fakes: Fakes) -> None:
    fakes.a.mode = "policy"
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt", messages=HELLO)
    assert "flagged" in caught.value.message and fakes.a.hits == 1  # not retried
