"""The hub serves the LLM router's OpenAI-compatible endpoint when models are configured."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
import yaml

from tests.llm.fakes import FakeOpenAI, serve_fakes
from tests.support.hub_process import RunningHub, free_port, hub_env


@pytest.fixture(scope="module")
def llm_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHub, FakeOpenAI]]:
    fake = FakeOpenAI("fake-openai")
    data_dir = tmp_path_factory.mktemp("llmhub")
    with serve_fakes(fake):
        config = {
            "llm": {
                "model_list": [
                    {
                        "model_name": "chat",
                        "litellm_params": {
                            "model": "openai/gpt-4o-mini",
                            "api_base": f"{fake.base_url}/v1",
                            "api_key": "os.environ/FAKE_OPENAI_KEY",
                        },
                    }
                ]
            }
        }
        config_path = data_dir / "hub.yaml"
        config_path.write_text(yaml.safe_dump(config))
        env = hub_env({"FAKE_OPENAI_KEY": "sk-upstream"})
        hub = RunningHub(
            data_dir=data_dir, port=free_port(), env=env, extra_args=["--config", str(config_path)]
        )
        hub.start()
        try:
            yield hub, fake
        finally:
            hub.stop()


def test_openai_sdk_chats_through_the_hub(llm_hub: tuple[RunningHub, FakeOpenAI]) -> None:
    hub, fake = llm_hub
    client = openai.OpenAI(base_url=f"{hub.base_url}/v1", api_key="unused-in-dev-mode")
    assert [m.id for m in client.models.list().data] == ["chat"]
    reply = client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content
    streamed = client.chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert "".join(chunk.choices[0].delta.content or "" for chunk in streamed if chunk.choices)
    assert fake.hits == 2 and fake.bodies[-1]["model"] == "gpt-4o-mini"


def test_unknown_model_is_an_openai_error(llm_hub: tuple[RunningHub, FakeOpenAI]) -> None:
    hub, _ = llm_hub
    client = openai.OpenAI(base_url=f"{hub.base_url}/v1", api_key="x")
    with pytest.raises(openai.NotFoundError) as error:
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])
    assert error.value.status_code == 404
