"""The seam for cost control: every request is admitted before routing and settled after usage.

The default admits everything. A later policy (budgets, quotas, per-key limits) implements the
same two methods: `admit` runs on the request path before any upstream call and refuses by
raising LlmError (e.g. 429 or 403); `settle` runs in the usage worker, off the request path,
with the finished record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from llm.usage import UsageRecord


@dataclass(slots=True)
class RequestContext:
    request_id: str
    endpoint: str  # "chat.completions" or "embeddings"
    model: str  # as the client named it
    stream: bool
    body: dict[str, Any]
    headers: Mapping[str, str]
    principal: str | None = None  # a policy may set who is paying; it lands in the usage record


class Policy(Protocol):
    async def admit(self, context: RequestContext) -> None: ...

    async def settle(self, record: UsageRecord) -> None: ...


class AllowAll:
    async def admit(self, context: RequestContext) -> None:
        return None

    async def settle(self, record: UsageRecord) -> None:
        return None
