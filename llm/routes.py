"""The OpenAI-compatible endpoints: /v1/chat/completions, /v1/embeddings and /v1/models.

Request → policy admit → route selection and failover (router) → deployment call (adapter) →
upstream; usage is enqueued for the background recorder once the answer is out.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from llm.adapters.openai_compat import PROVIDERS as OPENAI_COMPATIBLE
from llm.adapters.openai_compat import OpenAICompatAdapter
from llm.calls import Adapter, ChatRequest, ChatStream, Completed
from llm.config import LlmSettings
from llm.deployments import Deployment, DeploymentTable, fill_from_cost_map
from llm.errors import LlmError, UpstreamFailure
from llm.litellm_env import cost_map_path
from llm.policy import AllowAll, Policy, RequestContext
from llm.relay import StreamOutcome, relay
from llm.router import Routed, Router
from llm.secrets import SecretLookup
from llm.upstream import Timeouts, Upstream
from llm.usage import CountMaterial, UsageRecord, UsageRecorder, UsageSink

_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class LlmRouterApp:
    def __init__(
        self,
        settings: LlmSettings,
        usage_sink: UsageSink,
        secret_lookup: SecretLookup | None = None,
        policy: Policy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        router_settings = settings.router_settings
        self._table = DeploymentTable.build(settings, secret_lookup)
        self._policy = policy or AllowAll()
        self._router = Router(self._table, router_settings, rng or random.Random())
        self._upstream = Upstream(router_settings.max_connections)
        self._timeouts = Timeouts(
            router_settings.connect_timeout_s,
            router_settings.timeout_s,
            router_settings.stream_first_byte_timeout_s,
            router_settings.stream_idle_timeout_s,
        )
        self._adapters: dict[str, Adapter] = {}
        self._recorder = UsageRecorder(
            usage_sink,
            self._prices,
            self._policy.settle,
            settings.usage_batch_size,
            settings.usage_flush_interval_s,
            settings.usage_queue_size,
        )
        self._models_body = _models_body(self._table)

    @property
    def router(self) -> Router:
        return self._router

    @property
    def recorder(self) -> UsageRecorder:
        return self._recorder

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/chat/completions", self._chat, methods=["POST"]),
            Route("/v1/embeddings", self._embeddings, methods=["POST"]),
            Route("/v1/models", self._models, methods=["GET"]),
        ]

    async def startup(self) -> None:
        await self._upstream.start()
        cost_map = await asyncio.to_thread(_read_cost_map)
        for deployment in self._table.all():
            fill_from_cost_map(deployment, cost_map)
        # Adapters that need litellm import it here, once, off the event loop.
        self._adapters = await asyncio.to_thread(self._build_adapters)
        self._recorder.start()

    async def aclose(self) -> None:
        await self._recorder.aclose()
        await self._upstream.aclose()

    def _build_adapters(self) -> dict[str, Adapter]:
        deployments = self._table.all()
        passthrough = OpenAICompatAdapter(
            self._upstream, self._timeouts, [d for d in deployments if d.provider in OPENAI_COMPATIBLE]
        )
        adapters: dict[str, Adapter] = {}
        for deployment in deployments:
            adapters[deployment.id] = (
                passthrough
                if deployment.provider in OPENAI_COMPATIBLE
                else (self._translated_adapter(deployment, adapters))
            )
        return adapters

    def _translated_adapter(self, deployment: Deployment, built: dict[str, Adapter]) -> Adapter:
        if deployment.provider == "anthropic":
            from llm.adapters.anthropic import AnthropicAdapter

            existing = next((a for a in built.values() if isinstance(a, AnthropicAdapter)), None)
            return existing or AnthropicAdapter(self._upstream, self._timeouts)
        from llm.adapters.litellm_sdk import LitellmSdkAdapter

        existing_sdk = next((a for a in built.values() if isinstance(a, LitellmSdkAdapter)), None)
        return existing_sdk or LitellmSdkAdapter(self._timeouts)

    def _prices(self, deployment_id: str) -> tuple[float | None, float | None]:
        deployment = self._table.by_id.get(deployment_id)
        return (deployment.input_cost, deployment.output_cost) if deployment else (None, None)

    async def _models(self, request: Request) -> Response:
        return Response(self._models_body, media_type="application/json")

    async def _chat(self, request: Request) -> Response:
        started_at, started = time.time(), time.perf_counter()
        try:
            body = await _json_object(request)
            _require(body, "messages", list)
            chat = ChatRequest(body, bool(body.get("stream")), _include_usage(body))
            context = await self._admit(request, "chat.completions", body, chat.stream)
        except LlmError as exc:
            return error_response(exc)
        record = _record(context, started_at)
        if chat.stream:
            return await self._chat_stream(chat, context, record, started)
        try:
            routed = await self._router.route(context.model, self._complete_call(chat))
        except (LlmError, UpstreamFailure) as exc:
            return self._failed(record, exc, started)
        routed.release()
        return self._answered(record, routed, started, body["messages"])

    def _complete_call(self, chat: ChatRequest) -> Callable[[Deployment, float], Any]:
        return lambda deployment, budget: self._adapters[deployment.id].complete(deployment, chat, budget)

    async def _chat_stream(
        self, chat: ChatRequest, context: RequestContext, record: UsageRecord, started: float
    ) -> Response:
        def call(deployment: Deployment, budget: float) -> Any:
            return self._adapters[deployment.id].open_stream(deployment, chat, budget)

        try:
            routed: Routed[ChatStream] = await self._router.route(context.model, call)
        except (LlmError, UpstreamFailure) as exc:
            return self._failed(record, exc, started)
        _describe(record, routed)

        def on_end(outcome: StreamOutcome) -> None:
            routed.release()
            self._stream_ended(record, outcome, started, chat)

        stream = relay(routed.result, chat.include_usage, started, on_end)
        return StreamingResponse(stream, media_type="text/event-stream", headers=_SSE_HEADERS)

    def _stream_ended(
        self, record: UsageRecord, outcome: StreamOutcome, started: float, chat: ChatRequest
    ) -> None:
        record.latency_s = time.perf_counter() - started
        record.ttft_s = outcome.ttft_s
        record.error = outcome.error
        material = None
        if outcome.usage is not None:
            record.prompt_tokens, record.completion_tokens = (
                outcome.usage.prompt_tokens,
                outcome.usage.completion_tokens,
            )
        else:
            material = CountMaterial(record.model or "", chat.body["messages"], outcome.payloads)
        self._recorder.submit(record, material)

    async def _embeddings(self, request: Request) -> Response:
        started_at, started = time.time(), time.perf_counter()
        try:
            body = await _json_object(request)
            _require(body, "input", (str, list))
            context = await self._admit(request, "embeddings", body, False)
        except LlmError as exc:
            return error_response(exc)
        record = _record(context, started_at)

        def call(deployment: Deployment, budget: float) -> Any:
            return self._adapters[deployment.id].embed(deployment, body, budget)

        try:
            routed: Routed[Completed] = await self._router.route(context.model, call)
        except (LlmError, UpstreamFailure) as exc:
            return self._failed(record, exc, started)
        routed.release()
        return self._answered(record, routed, started, body["input"])

    async def _admit(
        self, request: Request, endpoint: str, body: dict[str, Any], stream: bool
    ) -> RequestContext:
        model = _require(body, "model", str)
        context = RequestContext(secrets.token_hex(12), endpoint, model, stream, body, request.headers)
        await self._policy.admit(context)
        self._router.resolve(model)  # unknown models fail before any upstream work
        return context

    def _answered(
        self, record: UsageRecord, routed: Routed[Completed], started: float, prompt: Any
    ) -> Response:
        _describe(record, routed)
        record.latency_s = time.perf_counter() - started
        usage = routed.result.usage
        material = None
        if usage is not None:
            record.prompt_tokens, record.completion_tokens = usage.prompt_tokens, usage.completion_tokens
        else:
            material = CountMaterial(routed.deployment.litellm_model, prompt, [routed.result.body])
        self._recorder.submit(record, material)
        return Response(
            routed.result.body, media_type="application/json", headers={"x-request-id": record.request_id}
        )

    def _failed(self, record: UsageRecord, exc: LlmError | UpstreamFailure, started: float) -> Response:
        error = exc.to_client() if isinstance(exc, UpstreamFailure) else exc
        record.status, record.error = error.status, error.message
        record.latency_s = time.perf_counter() - started
        self._recorder.submit(record)
        return error_response(error)


def _describe(record: UsageRecord, routed: Routed[Any]) -> None:
    deployment = routed.deployment
    record.group, record.deployment_id = deployment.group, deployment.id
    record.provider, record.model, record.attempts = (
        deployment.provider,
        deployment.litellm_model,
        routed.attempts,
    )


def _record(context: RequestContext, started_at: float) -> UsageRecord:
    return UsageRecord(
        request_id=context.request_id,
        created_at=started_at,
        endpoint=context.endpoint,
        requested_model=context.model,
        group=None,
        deployment_id=None,
        provider=None,
        model=None,
        stream=context.stream,
        status=200,
        principal=context.principal,
    )


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise LlmError(400, f"the request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise LlmError(400, "the request body must be a JSON object")
    return body


def _require(body: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(name)
    if not isinstance(value, kind):
        raise LlmError(400, f"`{name}` is missing or of the wrong type", code="invalid_value", param=name)
    return value


def _include_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


def error_response(error: LlmError) -> Response:
    headers = {"Retry-After": str(max(1, round(error.retry_after_s)))} if error.retry_after_s else None
    return Response(error.to_json(), status_code=error.status, media_type="application/json", headers=headers)


def _models_body(table: DeploymentTable) -> bytes:
    data = [{"id": name, "object": "model", "created": 0, "owned_by": "mcphub"} for name in table.groups]
    return orjson.dumps({"object": "list", "data": data})


def _read_cost_map() -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(cost_map_path().read_bytes())
    return data


def build_llm_app(
    settings: LlmSettings,
    usage_sink: UsageSink,
    secret_lookup: SecretLookup | None = None,
    policy: Policy | None = None,
) -> LlmRouterApp:
    return LlmRouterApp(settings, usage_sink, secret_lookup, policy)
