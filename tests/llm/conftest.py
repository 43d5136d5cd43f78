"""Fixtures: fake upstreams for the whole session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.llm.fakes import FakeAnthropic, FakeOpenAI, serve_fakes


class Fakes:
    def __init__(self) -> None:
        self.a = FakeOpenAI("upstream-a")
        self.b = FakeOpenAI("upstream-b")
        self.c = FakeOpenAI("upstream-c")
        self.claude = FakeAnthropic("claude")

    def all(self) -> list[FakeOpenAI | FakeAnthropic]:
        return [self.a, self.b, self.c, self.claude]


@pytest.fixture(scope="session")
def _served_fakes() -> Iterator[Fakes]:
    fakes = Fakes()
    with serve_fakes(*fakes.all()):
        yield fakes


@pytest.fixture
def fakes(_served_fakes: Fakes) -> Iterator[Fakes]:
    yield _served_fakes
    for fake in _served_fakes.all():
        fake.reset()


def deployment(name: str, base_url: str, **params: object) -> dict[str, object]:
    model = params.pop("model", "openai/gpt-4o-mini")
    info = params.pop("model_info", {})
    return {
        "model_name": name,
        "litellm_params": {"model": model, "api_base": base_url, "api_key": "sk-test", **params},
        "model_info": info,
    }
