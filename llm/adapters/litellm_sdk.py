"""Every other litellm provider (AWS Bedrock, Vertex AI, native Gemini, Cohere...) through
`litellm.acompletion` / `aembedding`.

This is litellm's full call path, ~5 ms CPU per request: used only where no cheaper adapter
exists, e.g. for Bedrock's SigV4 signing and binary event streams. litellm's own retries are
off; the router does failover.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson

from llm.calls import ChatRequest, ChatStream, Completed, StreamBroken, Usage
from llm.deployments import Deployment
from llm.errors import Failure, UpstreamFailure, classify_status
from llm.litellm_env import load
from llm.upstream import Timeouts, first_event, no_first_byte

_FAILURE_KINDS = {
    "ContextWindowExceededError": Failure.CONTEXT_WINDOW,
    "ContentPolicyViolationError": Failure.CONTENT_POLICY,
    "Timeout": Failure.RETRYABLE,
    "APIConnectionError": Failure.RETRYABLE,
    "RateLimitError": Failure.RETRYABLE,
    "ServiceUnavailableError": Failure.RETRYABLE,
    "InternalServerError": Failure.RETRYABLE,
}


class LitellmSdkAdapter:
    def __init__(self, timeouts: Timeouts) -> None:
        self._timeouts = timeouts
        self._litellm = load("litellm")

    async def complete(self, deployment: Deployment, request: ChatRequest, budget_s: float) -> Completed:
        kwargs = self._kwargs(
            deployment, request.body, min(deployment.timeout_s or self._timeouts.total_s, budget_s)
        )
        kwargs["stream"] = False
        response = await self._call(self._litellm.acompletion, kwargs)
        return _completed(response)

    async def embed(self, deployment: Deployment, body: dict[str, Any], budget_s: float) -> Completed:
        kwargs = self._kwargs(deployment, body, min(deployment.timeout_s or self._timeouts.total_s, budget_s))
        return _completed(await self._call(self._litellm.aembedding, kwargs))

    async def open_stream(self, deployment: Deployment, request: ChatRequest, budget_s: float) -> ChatStream:
        first_byte_s = min(deployment.stream_timeout_s or self._timeouts.first_byte_s, budget_s)
        kwargs = self._kwargs(deployment, request.body, self._timeouts.idle_s)
        kwargs.update(stream=True, stream_options={"include_usage": True})
        try:
            async with asyncio.timeout(first_byte_s):
                chunks = _payloads(await self._call(self._litellm.acompletion, kwargs))
                first = await first_event(chunks, lambda: None)
        except TimeoutError as exc:
            raise no_first_byte(first_byte_s) from exc
        return ChatStream(_replay(first, chunks), lambda: None)

    def _kwargs(self, deployment: Deployment, body: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        credentials = {
            "api_key": deployment.api_key,
            "api_base": deployment.api_base,
            "api_version": deployment.api_version,
        }
        return {
            **body,
            **deployment.extra,
            **{k: v for k, v in credentials.items() if v is not None},
            "model": deployment.litellm_model,
            "timeout": timeout_s,
            "num_retries": 0,
            "drop_params": True,
        }

    async def _call(self, function: Any, kwargs: dict[str, Any]) -> Any:
        try:
            return await function(**kwargs)
        except Exception as exc:  # litellm maps provider errors to its own classes
            raise _failure(exc) from exc


def _failure(exc: Exception) -> UpstreamFailure:
    status = int(getattr(exc, "status_code", 0) or 500)
    kind = next(
        (k for name, k in _FAILURE_KINDS.items() if name in {c.__name__ for c in type(exc).__mro__}), None
    )
    message = str(getattr(exc, "message", "") or exc).splitlines()[0][:500]
    return UpstreamFailure(kind or classify_status(status, message), status, f"upstream failed: {message}")


def _completed(response: Any) -> Completed:
    data = response.model_dump(exclude_none=True)
    usage = data.get("usage") or {}
    return Completed(
        orjson.dumps(data), Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0))
    )


async def _payloads(stream: Any) -> AsyncIterator[bytes]:
    try:
        async for chunk in stream:
            yield orjson.dumps(chunk.model_dump(exclude_none=True))
    except Exception as exc:
        raise StreamBroken(f"upstream stream broke: {type(exc).__name__}") from exc


async def _replay(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk
