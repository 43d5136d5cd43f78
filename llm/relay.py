"""Relays a routed upstream stream to the client as OpenAI server-sent events.

Failover is over by the time a stream gets here (its first event has arrived). From now on a
broken upstream ends the client's stream with an error event, never with `[DONE]`, so a cut
answer cannot pass for a complete one; the openai SDK raises on such an event.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import orjson

from llm.calls import ChatStream, StreamBroken, Usage
from llm.errors import LlmError

DONE_EVENT = b"data: [DONE]\n\n"


@dataclass(slots=True)
class StreamOutcome:
    usage: Usage | None = None
    ttft_s: float | None = None
    error: str | None = None
    payloads: list[bytes] = field(default_factory=list)  # kept for offline counting when usage is missing


def error_event(message: str) -> bytes:
    error = LlmError(502, message, code="upstream_stream_error")
    return b"data: " + error.to_json() + b"\n\n"


async def relay(
    stream: ChatStream, include_usage: bool, started: float, on_end: Callable[[StreamOutcome], None]
) -> AsyncIterator[bytes]:
    outcome = StreamOutcome()
    try:
        async for payload in stream.events:
            if outcome.ttft_s is None:
                outcome.ttft_s = time.perf_counter() - started
            if not _keep(payload, include_usage, outcome):
                continue
            yield b"data: " + payload + b"\n\n"
        yield DONE_EVENT
    except StreamBroken as exc:
        outcome.error = str(exc)
        yield error_event(str(exc))
    except BaseException:
        outcome.error = "client went away"
        raise
    finally:
        stream.close()
        on_end(outcome)


def _keep(payload: bytes, include_usage: bool, outcome: StreamOutcome) -> bool:
    """Capture usage; drop the usage-only chunk the router asked for when the client did not."""
    if b'"usage":{' not in payload and b'"usage": {' not in payload:
        outcome.payloads.append(payload)
        return True
    chunk = orjson.loads(payload)
    usage = chunk["usage"]
    outcome.usage = Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
    outcome.payloads.clear()
    return include_usage or bool(chunk.get("choices"))
