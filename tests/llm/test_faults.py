"""Acceptance 2: faulty upstreams give the documented outcome within a bounded time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import openai
import pytest

from tests.llm.conftest import Fakes, deployment
from tests.llm.server import RunningRouter, serve_router

HELLO = [{"role": "user", "content": "hi"}]
# Time bounds in the asserts are generous: the machine running the tests is shared and busy.
FAST = {
    "timeout": 1.0,
    "stream_first_byte_timeout_s": 1.0,
    "retry_backoff_s": 0.05,
    "deadline_s": 4.0,
    "num_retries": 2,
}

RouterFactory = Callable[..., AbstractContextManager[RunningRouter]]


@pytest.fixture
def pair(fakes: Fakes) -> Iterator[RunningRouter]:
    """Group "pair": upstream a first (priority), b second."""
    settings = {
        "model_list": [
            deployment("pair", fakes.a.base_url + "/v1", order=1),
            deployment("pair", fakes.b.base_url + "/v1", order=2),
        ],
        "router_settings": {**FAST, "routing_strategy": "priority"},
    }
    with serve_router(settings) as running:
        yield running


def make_client(router: RunningRouter) -> openai.OpenAI:
    return openai.OpenAI(base_url=router.base_url, api_key="unused", max_retries=0, timeout=30)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start


def ask(client: openai.OpenAI, model: str = "pair") -> str:
    reply = client.chat.completions.create(model=model, messages=HELLO)  # type: ignore[arg-type]
    return reply.choices[0].message.content or ""


def ask_stream(client: openai.OpenAI, model: str = "pair") -> str:
    stream = client.chat.completions.create(model=model, messages=HELLO, stream=True)  # type: ignore[arg-type]
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


def test_500_fails_over_to_the_next_deployment(pair: RunningRouter, fakes: Fakes) -> None:
    fakes.a.mode = "error500"
    text, elapsed = timed(lambda: ask(make_client(pair)))
    assert text == "hello from upstream-b" and fakes.a.hits == 1 and elapsed < 3.0


def test_429_fails_over_and_keeps_the_deployment_out_for_retry_after(
    pair: RunningRouter, fakes: Fakes
) -> None:
    fakes.a.mode, fakes.a.retry_after = "rate_limited", "30"
    client = make_client(pair)
    assert ask(client) == "hello from upstream-b"
    assert ask(client) == "hello from upstream-b"
    assert fakes.a.hits == 1  # its Retry-After opened its breaker


def test_429_on_the_only_deployment_waits_for_retry_after(fakes: Fakes) -> None:
    fakes.c.mode, fakes.c.fail_times, fakes.c.retry_after = "rate_limited", 1, "1"
    settings = {"model_list": [deployment("solo", fakes.c.base_url + "/v1")], "router_settings": FAST}
    with serve_router(settings) as router:
        text, elapsed = timed(lambda: ask(make_client(router), "solo"))
    assert text == "hello from upstream-c" and fakes.c.hits == 2
    assert 1.0 <= elapsed < 3.5


def test_429_longer_than_the_wait_cap_is_passed_on_with_retry_after(fakes: Fakes) -> None:
    fakes.c.mode, fakes.c.retry_after = "rate_limited", "120"
    settings = {"model_list": [deployment("solo", fakes.c.base_url + "/v1")], "router_settings": FAST}
    with serve_router(settings) as router, pytest.raises(openai.RateLimitError) as caught:
        timed(lambda: ask(make_client(router), "solo"))
    assert caught.value.response.headers["retry-after"] == "120" and fakes.c.hits == 1


def test_hang_past_the_timeout_fails_over(pair: RunningRouter, fakes: Fakes) -> None:
    fakes.a.mode = "hang"
    text, elapsed = timed(lambda: ask(make_client(pair)))
    assert text == "hello from upstream-b" and 1.0 <= elapsed < 3.5


def test_hang_before_the_first_streamed_byte_fails_over(pair: RunningRouter, fakes: Fakes) -> None:
    fakes.a.mode = "hang"
    text, elapsed = timed(lambda: ask_stream(make_client(pair)))
    assert text == "hello from upstream-b" and 1.0 <= elapsed < 3.5


@pytest.mark.parametrize("streaming", [False, True])
def test_connection_closed_before_the_first_byte_fails_over(
    pair: RunningRouter, fakes: Fakes, streaming: bool
) -> None:
    fakes.a.mode = "close"
    client = make_client(pair)
    text, elapsed = timed(lambda: ask_stream(client) if streaming else ask(client))
    assert text == "hello from upstream-b" and fakes.a.hits == 1 and elapsed < 3.0


@pytest.mark.parametrize(("mode", "message"), [("cut", "broke"), ("truncate", "ended before [DONE]")])
def test_stream_cut_midway_ends_with_an_error_event(
    pair: RunningRouter, fakes: Fakes, mode: str, message: str
) -> None:
    fakes.a.mode = mode
    before = len(pair.sink.records)
    received: list[str] = []
    start = time.monotonic()
    with pytest.raises(openai.APIError) as caught:
        stream = make_client(pair).chat.completions.create(model="pair", messages=HELLO, stream=True)  # type: ignore[arg-type]
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert time.monotonic() - start < 3.0
    assert message in caught.value.message and received  # some content came first, then the error
    assert fakes.b.hits == 0  # no failover once bytes reached the client
    record = pair.records(count=before + 1)[-1]
    assert record.error is not None and message in record.error


def test_every_deployment_hanging_ends_at_the_deadline(fakes: Fakes) -> None:
    fakes.a.mode = fakes.b.mode = "hang"
    settings = {
        "model_list": [
            deployment("pair", fakes.a.base_url + "/v1"),
            deployment("pair", fakes.b.base_url + "/v1"),
        ],
        "router_settings": {**FAST, "deadline_s": 2.5, "num_retries": 5},
    }
    with serve_router(settings) as router:
        start = time.monotonic()
        with pytest.raises(openai.APIStatusError) as caught:
            ask(make_client(router))
        elapsed = time.monotonic() - start
    assert caught.value.status_code == 504 and 2.0 <= elapsed < 5.0


def test_every_deployment_failing_gives_the_upstream_error(fakes: Fakes) -> None:
    fakes.a.mode = fakes.b.mode = "error500"
    settings = {
        "model_list": [
            deployment("pair", fakes.a.base_url + "/v1"),
            deployment("pair", fakes.b.base_url + "/v1"),
        ],
        "router_settings": FAST,
    }
    with serve_router(settings) as router, pytest.raises(openai.InternalServerError):
        ask(make_client(router))
    assert fakes.a.hits + fakes.b.hits == 6  # 3 rounds (num_retries=2) over 2 deployments


def test_context_window_error_falls_over_to_a_larger_context(fakes: Fakes) -> None:
    fakes.a.mode = "context"
    settings = {
        "model_list": [
            deployment("ctx", fakes.a.base_url + "/v1", order=1, model_info={"max_input_tokens": 8000}),
            deployment("ctx", fakes.c.base_url + "/v1", order=2, model_info={"max_input_tokens": 4000}),
            deployment("ctx", fakes.b.base_url + "/v1", order=3, model_info={"max_input_tokens": 128000}),
        ],
        "router_settings": {**FAST, "routing_strategy": "priority"},
    }
    with serve_router(settings) as router:
        assert ask(make_client(router), "ctx") == "hello from upstream-b"
    assert fakes.c.hits == 0  # smaller context: skipped


def test_content_policy_error_goes_to_the_configured_fallback(fakes: Fakes) -> None:
    fakes.a.mode = "policy"
    settings = {
        "model_list": [
            deployment("strict", fakes.a.base_url + "/v1"),
            deployment("lenient", fakes.b.base_url + "/v1"),
        ],
        "router_settings": {**FAST, "content_policy_fallbacks": [{"strict": ["lenient"]}]},
    }
    with serve_router(settings) as router:
        assert ask(make_client(router), "strict") == "hello from upstream-b"


def test_general_fallback_group_after_the_group_is_exhausted(fakes: Fakes) -> None:
    fakes.a.mode = "error500"
    settings = {
        "model_list": [
            deployment("main", fakes.a.base_url + "/v1"),
            deployment("backup", fakes.b.base_url + "/v1"),
        ],
        "router_settings": {**FAST, "num_retries": 0, "fallbacks": [{"main": ["backup"]}]},
    }
    with serve_router(settings) as router:
        assert ask(make_client(router), "main") == "hello from upstream-b"


def test_breaker_opens_after_allowed_fails(fakes: Fakes) -> None:
    fakes.a.mode = "error500"
    settings = {
        "model_list": [
            deployment("pair", fakes.a.base_url + "/v1", order=1),
            deployment("pair", fakes.b.base_url + "/v1", order=2),
        ],
        "router_settings": {**FAST, "routing_strategy": "priority", "allowed_fails": 2},
    }
    with serve_router(settings) as router:
        client = make_client(router)
        for _ in range(4):
            assert ask(client) == "hello from upstream-b"
    assert fakes.a.hits == 2
