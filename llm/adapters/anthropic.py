"""Anthropic through litellm's transformation classes, sent with our own pooled client.

litellm's AnthropicConfig translates the OpenAI request and response and its stream iterator
parses events; `litellm.acompletion` is not used, so its logging and cost machinery (~5 ms CPU
per call) stays off the hot path. The translation itself costs ~1 ms per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from llm.calls import ChatRequest, ChatStream, Completed, StreamBroken, Usage
from llm.deployments import Deployment
from llm.errors import Failure, UpstreamFailure
from llm.litellm_env import load
from llm.upstream import Timeouts, Upstream, first_event, no_first_byte

DEFAULT_URL = "https://api.anthropic.com/v1/messages"
_REVERSE_TOOL_NAMES = "_anthropic_tool_name_map"  # where transform_request leaves renamed tools


class _NoLogging:
    """transform_response reports to a litellm logging object; the router accounts on its own."""

    def post_call(self, *args: Any, **kwargs: Any) -> None:
        return None


class AnthropicAdapter:
    def __init__(self, upstream: Upstream, timeouts: Timeouts) -> None:
        self._upstream = upstream
        self._timeouts = timeouts
        self._config = load("litellm.llms.anthropic.chat.transformation").AnthropicConfig()
        self._iterator_cls = load("litellm.llms.anthropic.chat.handler").ModelResponseIterator
        self._model_response_cls = load("litellm.types.utils").ModelResponse
        self._httpx = load("httpx")

    async def complete(self, deployment: Deployment, request: ChatRequest, budget_s: float) -> Completed:
        prepared = self._prepare(deployment, request.body, stream=False)
        timeout_s = min(deployment.timeout_s or self._timeouts.total_s, budget_s)
        raw = await self._upstream.post_json(
            prepared.url, prepared.headers, prepared.body, timeout_s, self._timeouts.connect_s
        )
        response = self._translate_response(deployment, prepared, raw)
        usage = response.get("usage") or {}
        return Completed(
            orjson.dumps(response), Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0))
        )

    async def embed(self, deployment: Deployment, body: dict[str, Any], budget_s: float) -> Completed:
        raise UpstreamFailure(Failure.FATAL, 400, f"`{deployment.group}` does not serve embeddings")

    async def open_stream(self, deployment: Deployment, request: ChatRequest, budget_s: float) -> ChatStream:
        prepared = self._prepare(deployment, request.body, stream=True)
        first_byte_s = min(deployment.stream_timeout_s or self._timeouts.first_byte_s, budget_s)
        timeouts = Timeouts(self._timeouts.connect_s, budget_s, first_byte_s, self._timeouts.idle_s)
        parser = self._iterator_cls(
            streaming_response=None,
            sync_stream=False,
            json_mode=prepared.json_mode,
            tool_name_reverse_map=prepared.litellm_params.get(_REVERSE_TOOL_NAMES),
        )
        try:
            async with asyncio.timeout(first_byte_s):
                response, payloads = await self._upstream.open_sse(
                    prepared.url, prepared.headers, prepared.body, timeouts
                )
                chunks = _openai_chunks(payloads, parser.chunk_parser)
                first = await first_event(chunks, response.close)
        except TimeoutError as exc:
            raise no_first_byte(first_byte_s) from exc
        return ChatStream(_replay(first, chunks), response.close)

    def _prepare(self, deployment: Deployment, body: dict[str, Any], stream: bool) -> _Prepared:
        messages = list(body.get("messages") or [])
        supported = set(self._config.get_supported_openai_params(deployment.model)) - {"stream"}
        openai_params = {k: v for k, v in body.items() if k in supported}
        optional = self._config.map_openai_params(
            non_default_params=openai_params, optional_params={}, model=deployment.model, drop_params=True
        )
        json_mode = bool(optional.pop("json_mode", False))
        litellm_params: dict[str, Any] = {}
        headers = self._config.validate_environment(
            headers={},
            model=deployment.model,
            messages=messages,
            optional_params=optional,
            litellm_params=litellm_params,
            api_key=deployment.api_key,
            api_base=deployment.api_base,
        )
        data = self._config.transform_request(
            model=deployment.model,
            messages=messages,
            optional_params=optional,
            litellm_params=litellm_params,
            headers=headers,
        )
        if stream:
            data["stream"] = True
        return _Prepared(
            messages_url(deployment),
            headers,
            orjson.dumps(data),
            data,
            messages,
            optional,
            litellm_params,
            json_mode,
        )

    def _translate_response(self, deployment: Deployment, prepared: _Prepared, raw: bytes) -> dict[str, Any]:
        http_response = self._httpx.Response(
            200,
            content=raw,
            headers={"content-type": "application/json"},
            request=self._httpx.Request("POST", prepared.url),
        )
        try:
            model_response = self._config.transform_response(
                model=deployment.model,
                raw_response=http_response,
                model_response=self._model_response_cls(),
                logging_obj=_NoLogging(),
                request_data=prepared.data,
                messages=prepared.messages,
                optional_params=prepared.optional,
                litellm_params=prepared.litellm_params,
                encoding=None,
                api_key=None,
                json_mode=prepared.json_mode,
            )
        except Exception as exc:  # litellm raises its own error classes for unparseable answers
            raise UpstreamFailure(Failure.RETRYABLE, 502, "upstream answer could not be translated") from exc
        result: dict[str, Any] = model_response.model_dump(exclude_none=True)
        return result


@dataclass(slots=True)
class _Prepared:
    url: str
    headers: dict[str, str]
    body: bytes
    data: dict[str, Any]
    messages: list[Any]
    optional: dict[str, Any]
    litellm_params: dict[str, Any]
    json_mode: bool


def messages_url(deployment: Deployment) -> str:
    base = (deployment.api_base or "").rstrip("/")
    if not base:
        return DEFAULT_URL
    return base if base.endswith("/messages") else f"{base.removesuffix('/v1')}/v1/messages"


async def _openai_chunks(
    payloads: AsyncIterator[bytes], parse: Callable[[dict[str, Any]], Any]
) -> AsyncIterator[bytes]:
    """Anthropic events as OpenAI chunk payloads; usage moves to one final chunk, as OpenAI sends it."""
    usage: dict[str, Any] | None = None
    template: dict[str, Any] = {}
    async for payload in payloads:
        event = orjson.loads(payload)
        kind = event.get("type")
        if kind == "ping":
            continue
        if kind == "error":
            raise StreamBroken(
                f"upstream stream error: {(event.get('error') or {}).get('message', 'unknown')}"
            )
        if kind == "message_stop":
            yield orjson.dumps({**template, "choices": [], "usage": usage})
            return
        chunk = parse(event).model_dump(exclude_none=True)
        usage = chunk.pop("usage", None) or usage
        template = {k: chunk[k] for k in ("id", "object", "created", "model") if k in chunk}
        yield orjson.dumps(chunk)
    raise StreamBroken("upstream stream ended before message_stop")


async def _replay(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk
