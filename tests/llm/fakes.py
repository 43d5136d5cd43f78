"""Fake OpenAI-compatible and Anthropic upstreams (real HTTP on 127.0.0.1), with switchable faults."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# ok | error500 | rate_limited | hang | close | cut | truncate | context | policy


@dataclass
class FakeUpstream:
    name: str
    mode: str = "ok"
    fail_times: int | None = None  # the mode applies to this many requests, then "ok"; None: all
    retry_after: str = "1"
    port: int = 0
    hits: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        self.mode, self.fail_times, self.retry_after, self.hits = "ok", None, "1", 0
        self.bodies.clear()

    def app(self) -> web.Application:
        raise NotImplementedError

    async def _fault(self, request: web.Request) -> web.StreamResponse | None:
        self.hits += 1
        self.bodies.append(await request.json())
        if self.fail_times is not None and self.hits > self.fail_times:
            self.mode = "ok"
        if self.mode == "error500":
            return web.json_response({"error": {"message": "boom", "type": "server_error"}}, status=500)
        if self.mode == "rate_limited":
            error = {"error": {"message": "slow down", "type": "rate_limit"}}
            return web.json_response(error, status=429, headers={"Retry-After": self.retry_after})
        if self.mode == "context":
            error = {
                "error": {"message": "maximum context length exceeded", "code": "context_length_exceeded"}
            }
            return web.json_response(error, status=400)
        if self.mode == "policy":
            error = {"error": {"message": "flagged", "code": "content_policy_violation"}}
            return web.json_response(error, status=400)
        for _ in range(600):  # hang (30 s at most) until a test resets the mode
            if self.mode != "hang":
                break
            await asyncio.sleep(0.05)
        if self.mode == "close":
            assert request.transport is not None
            request.transport.close()
            raise ConnectionResetError
        return None


class FakeOpenAI(FakeUpstream):
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        return app

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        fault = await self._fault(request)
        if fault is not None:
            return fault
        body = self.bodies[-1]
        if body.get("stream"):
            return await self._stream(request, body)
        return web.json_response(completion(body, self.name))

    async def _stream(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        include_usage = (body.get("stream_options") or {}).get("include_usage")
        for index, chunk in enumerate(chunks(body, self.name)):
            if self.mode == "cut" and index == 2:  # the connection breaks
                assert request.transport is not None
                request.transport.close()
                return response
            if self.mode == "truncate" and index == 2:  # a clean end, but without [DONE]
                return response
            if include_usage:
                chunk["usage"] = None
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        if include_usage:
            usage_chunk = {**chunk_base(self.name), "choices": [], "usage": USAGE}
            await response.write(f"data: {json.dumps(usage_chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        return response

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        fault = await self._fault(request)
        if fault is not None:
            return fault
        inputs = self.bodies[-1]["input"]
        items = [inputs] if isinstance(inputs, str) else inputs
        data = [{"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]} for i in range(len(items))]
        usage = {"prompt_tokens": 4, "total_tokens": 4}
        return web.json_response(
            {"object": "list", "data": data, "model": self.bodies[-1]["model"], "usage": usage}
        )


USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
WEATHER_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


def chunk_base(name: str) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": name}


def completion(body: dict[str, Any], name: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": f"hello from {name}"}
    finish = "stop"
    if body.get("tools"):
        message = {"role": "assistant", "content": None, "tool_calls": [WEATHER_CALL]}
        finish = "tool_calls"
    choice = {"index": 0, "message": message, "finish_reason": finish}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": name,
        "choices": [choice],
        "usage": USAGE,
    }


def chunks(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    if body.get("tools"):
        call = {"index": 0, **WEATHER_CALL}
        deltas = [{"role": "assistant", "tool_calls": [call]}]
        finish = "tool_calls"
    else:
        deltas = [{"role": "assistant", "content": ""}, *({"content": w} for w in ["hello ", "from ", name])]
        finish = "stop"
    out = [{**chunk_base(name), "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    out.append({**chunk_base(name), "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    return out


class FakeAnthropic(FakeUpstream):
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        return app

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        fault = await self._fault(request)
        if fault is not None:
            return fault
        body = self.bodies[-1]
        content: list[dict[str, Any]] = [{"type": "text", "text": f"hello from {self.name}"}]
        if body.get("tools"):
            content = [
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
            ]
        if body.get("stream"):
            return await self._stream(request, body, content)
        stop = "tool_use" if body.get("tools") else "end_turn"
        message = {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop,
            "usage": {"input_tokens": 12, "output_tokens": 6},
        }
        return web.json_response(message)

    async def _stream(
        self, request: web.Request, body: dict[str, Any], content: list[dict[str, Any]]
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for event in anthropic_events(body["model"], content):
            await response.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
        return response


def anthropic_events(model: str, content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    start = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "usage": {"input_tokens": 12, "output_tokens": 1},
    }
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}, {"type": "ping"}]
    block = content[0]
    if block["type"] == "text":
        events.append(
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
        )
        for word in block["text"].split(" "):
            delta = {"type": "text_delta", "text": word + " "}
            events.append({"type": "content_block_delta", "index": 0, "delta": delta})
        stop = "end_turn"
    else:
        tool = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        events.append({"type": "content_block_start", "index": 0, "content_block": tool})
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        events.append({"type": "content_block_delta", "index": 0, "delta": delta})
        stop = "tool_use"
    events.append({"type": "content_block_stop", "index": 0})
    events.append({"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 6}})
    events.append({"type": "message_stop"})
    return events


@contextmanager
def serve_fakes(*fakes: FakeUpstream) -> Iterator[None]:
    """Serve the fakes on 127.0.0.1 from one background event loop."""
    loop = asyncio.new_event_loop()
    runners: list[web.AppRunner] = []
    ready = threading.Event()

    async def start() -> None:
        for fake in fakes:
            runner = web.AppRunner(fake.app(), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            fake.port = runner.addresses[0][1]
            runners.append(runner)
        ready.set()

    thread = threading.Thread(
        target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True
    )
    thread.start()
    ready.wait(10)
    try:
        yield
    finally:

        async def stop() -> None:
            for runner in runners:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
