"""What passes between the endpoints, the router and the provider adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from llm.deployments import Deployment


@dataclass(slots=True)
class ChatRequest:
    body: dict[str, Any]  # the client's JSON; adapters copy before changing it
    stream: bool
    include_usage: bool  # the client asked for a usage chunk (stream_options.include_usage)


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(slots=True)
class Completed:
    """A whole (non-streamed) answer, already in OpenAI's format."""

    body: bytes
    usage: Usage | None


class StreamBroken(Exception):
    """The upstream stream failed after its first event; the message is safe to show."""


@dataclass(slots=True)
class ChatStream:
    """An upstream stream whose first event has already arrived (so failover is over).

    `events` yields OpenAI chunk payloads (JSON, unframed), the first one included. It ends
    normally only when the upstream signalled the end; a cut stream raises StreamBroken.
    """

    events: AsyncIterator[bytes]
    close: Callable[[], None]  # releases the upstream connection; safe to call twice


class Adapter(Protocol):
    """Turns one OpenAI-format request into one attempt at one deployment."""

    async def complete(self, deployment: Deployment, request: ChatRequest, budget_s: float) -> Completed: ...

    async def open_stream(
        self, deployment: Deployment, request: ChatRequest, budget_s: float
    ) -> ChatStream: ...

    async def embed(self, deployment: Deployment, body: dict[str, Any], budget_s: float) -> Completed: ...
