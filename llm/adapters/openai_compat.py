"""Passthrough to OpenAI-compatible upstreams (OpenAI, Azure OpenAI, Azure AI Foundry, Mistral,
Gemini's OpenAI endpoint, vLLM and other custom endpoints).

The client's JSON goes out with only `model` (and stream_options) changed and the answer comes
back byte for byte: no litellm on this path, since its call path costs ~5 ms CPU per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson

from llm.calls import ChatRequest, ChatStream, Completed, StreamBroken, Usage
from llm.deployments import Deployment
from llm.errors import Failure, UpstreamFailure
from llm.upstream import Timeouts, Upstream, first_event, no_first_byte

DEFAULT_BASES = {
    "openai": "https://api.openai.com/v1",
    "mistral": "https://api.mistral.ai/v1",
    "gemini": "https://generativelanguage.googleapis.com/v1beta/openai",
    "groq": "https://api.groq.com/openai/v1",
    "deepseek": "https://api.deepseek.com/v1",
    "xai": "https://api.x.ai/v1",
    "together_ai": "https://api.together.xyz/v1",
    "fireworks_ai": "https://api.fireworks.ai/inference/v1",
    "openrouter": "https://openrouter.ai/api/v1",
}
PROVIDERS = frozenset(DEFAULT_BASES) | {"azure", "azure_ai", "hosted_vllm", "custom_openai", "openai_like"}
# Upstreams that reject stream_options; they report stream usage on their own or not at all.
_NO_STREAM_OPTIONS = frozenset({"mistral"})
AZURE_API_VERSION = "2024-10-21"
AZURE_AI_API_VERSION = "2024-05-01-preview"
DONE = b"[DONE]"


@dataclass(frozen=True, slots=True)
class Endpoint:
    chat_url: str
    embeddings_url: str
    headers: dict[str, str]


def endpoint_for(deployment: Deployment) -> Endpoint:
    base = (deployment.api_base or DEFAULT_BASES.get(deployment.provider, "")).rstrip("/")
    if not base:
        raise ValueError(f"deployment {deployment.id!r} needs an api_base")
    headers = {"Content-Type": "application/json", **_auth_header(deployment, base)}
    headers.update(deployment.extra.get("extra_headers") or {})
    if deployment.provider == "azure" and not base.endswith("/openai/v1"):
        version = deployment.api_version or AZURE_API_VERSION
        prefix = f"{base}/openai/deployments/{deployment.model}"
        return Endpoint(
            f"{prefix}/chat/completions?api-version={version}",
            f"{prefix}/embeddings?api-version={version}",
            headers,
        )
    if deployment.provider == "azure_ai" and "services.ai.azure.com" in base and "/models" not in base:
        version = deployment.api_version or AZURE_AI_API_VERSION
        return Endpoint(
            f"{base}/models/chat/completions?api-version={version}",
            f"{base}/models/embeddings?api-version={version}",
            headers,
        )
    return Endpoint(f"{base}/chat/completions", f"{base}/embeddings", headers)


def _auth_header(deployment: Deployment, base: str) -> dict[str, str]:
    if not deployment.api_key:
        return {}
    if deployment.provider == "azure" or (deployment.provider == "azure_ai" and ".azure.com" in base):
        return {"api-key": deployment.api_key}
    return {"Authorization": f"Bearer {deployment.api_key}"}


def usage_of(data: Any) -> Usage | None:
    usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict):
        return None
    return Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))


class OpenAICompatAdapter:
    def __init__(self, upstream: Upstream, timeouts: Timeouts, deployments: list[Deployment]) -> None:
        self._upstream = upstream
        self._timeouts = timeouts
        self._endpoints = {d.id: endpoint_for(d) for d in deployments}

    async def complete(self, deployment: Deployment, request: ChatRequest, budget_s: float) -> Completed:
        endpoint = self._endpoints[deployment.id]
        body = orjson.dumps({**request.body, "model": deployment.model})
        raw = await self._post(deployment, endpoint.chat_url, endpoint.headers, body, budget_s)
        return Completed(raw, usage_of(_loads(raw)))

    async def embed(self, deployment: Deployment, body: dict[str, Any], budget_s: float) -> Completed:
        endpoint = self._endpoints[deployment.id]
        payload = orjson.dumps({**body, "model": deployment.model})
        raw = await self._post(deployment, endpoint.embeddings_url, endpoint.headers, payload, budget_s)
        return Completed(raw, usage_of(_loads(raw)))

    async def _post(
        self, deployment: Deployment, url: str, headers: dict[str, str], body: bytes, budget_s: float
    ) -> bytes:
        timeout_s = min(deployment.timeout_s or self._timeouts.total_s, budget_s)
        return await self._upstream.post_json(url, headers, body, timeout_s, self._timeouts.connect_s)

    async def open_stream(self, deployment: Deployment, request: ChatRequest, budget_s: float) -> ChatStream:
        endpoint = self._endpoints[deployment.id]
        body = orjson.dumps(self._stream_body(deployment, request))
        first_byte_s = min(deployment.stream_timeout_s or self._timeouts.first_byte_s, budget_s)
        timeouts = Timeouts(self._timeouts.connect_s, budget_s, first_byte_s, self._timeouts.idle_s)
        try:
            async with asyncio.timeout(first_byte_s):
                response, payloads = await self._upstream.open_sse(
                    endpoint.chat_url, endpoint.headers, body, timeouts
                )
                first = await first_event(payloads, response.close)
        except TimeoutError as exc:
            raise no_first_byte(first_byte_s) from exc
        return ChatStream(_until_done(first, payloads), response.close)

    def _stream_body(self, deployment: Deployment, request: ChatRequest) -> dict[str, Any]:
        body = {**request.body, "model": deployment.model}
        if deployment.stream_usage and deployment.provider not in _NO_STREAM_OPTIONS:
            # Ask for usage even if the client did not, for accounting; the relay drops that chunk.
            body["stream_options"] = {**(request.body.get("stream_options") or {}), "include_usage": True}
        return body


async def _until_done(first: bytes, payloads: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Payloads up to `[DONE]`; a stream that ends without it was cut short."""
    if first == DONE:
        return
    yield first
    async for payload in payloads:
        if payload == DONE:
            return
        yield payload
    raise StreamBroken("upstream stream ended before [DONE]")


def _loads(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UpstreamFailure(Failure.RETRYABLE, 502, "upstream answered with invalid JSON") from exc
