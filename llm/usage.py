"""Usage accounting: one record per request, finished and written by a background task.

The request path only enqueues (a non-blocking put). The worker fills in what the provider did
not report (tokens counted offline, cost from the deployment's prices), hands batches to the
sink, and settles each record with the policy hook. A full queue drops records (and counts
them) rather than slowing requests down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from llm.tokens import count_completion, count_prompt

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class UsageRecord:
    request_id: str
    created_at: float  # epoch seconds when the request arrived
    endpoint: str  # "chat.completions" or "embeddings"
    requested_model: str
    group: str | None
    deployment_id: str | None
    provider: str | None
    model: str | None  # as configured, e.g. "anthropic/claude-3-5-haiku-20241022"
    stream: bool
    status: int  # HTTP status the client got (200 also for a stream that later broke)
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_estimated: bool = False  # counted offline because the provider reported none
    cost_usd: float | None = None
    latency_s: float = 0.0  # until the whole answer was sent
    ttft_s: float | None = None  # streams: until the first chunk was sent
    attempts: int = 0
    principal: str | None = None  # whoever the policy hook admitted, when it says

    @property
    def total_tokens(self) -> int | None:
        if self.prompt_tokens is None and self.completion_tokens is None:
            return None
        return (self.prompt_tokens or 0) + (self.completion_tokens or 0)


@dataclass(slots=True)
class CountMaterial:
    """What offline token counting needs when the provider gave no usage."""

    model: str
    prompt: Any = None  # chat messages, or the embeddings input
    completion_payloads: list[bytes] = field(default_factory=list)  # streamed OpenAI chunks


class UsageSink(Protocol):
    async def write(self, records: Sequence[UsageRecord]) -> None: ...


class MemoryUsageSink:
    """Keeps the latest records in memory (for tests, and until the catalog DB sink is wired)."""

    def __init__(self, max_records: int = 10_000) -> None:
        self.records: deque[UsageRecord] = deque(maxlen=max_records)

    async def write(self, records: Sequence[UsageRecord]) -> None:
        self.records.extend(records)


Prices = Callable[[str], tuple[float | None, float | None]]  # deployment id -> USD per input/output token
Settle = Callable[[UsageRecord], Any]  # the policy hook's settle()


class UsageRecorder:
    def __init__(
        self,
        sink: UsageSink,
        prices: Prices,
        settle: Settle,
        batch_size: int,
        flush_interval_s: float,
        queue_size: int,
    ) -> None:
        self._sink = sink
        self._prices = prices
        self._settle = settle
        self._batch_size = batch_size
        self._interval = flush_interval_s
        self._queue: asyncio.Queue[tuple[UsageRecord, CountMaterial | None]] = asyncio.Queue(queue_size)
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def submit(self, record: UsageRecord, material: CountMaterial | None = None) -> None:
        try:
            self._queue.put_nowait((record, material))
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                logger.warning("usage queue full: %d records dropped so far", self.dropped)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="llm-usage-recorder")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.drain()

    async def drain(self) -> None:
        """Write everything queued so far (shutdown, tests)."""
        while not self._queue.empty():
            await self._flush(self._take(self._batch_size))

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            batch += self._take(self._batch_size - 1)
            if len(batch) < self._batch_size:
                await asyncio.sleep(self._interval)  # let a batch gather
                batch += self._take(self._batch_size - len(batch))
            await self._flush(batch)

    def _take(self, limit: int) -> list[tuple[UsageRecord, CountMaterial | None]]:
        items: list[tuple[UsageRecord, CountMaterial | None]] = []
        while len(items) < limit and not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items

    async def _flush(self, batch: list[tuple[UsageRecord, CountMaterial | None]]) -> None:
        if any(material is not None for _, material in batch):
            await asyncio.to_thread(_count_missing, batch)  # tokenizers are CPU work: off the loop
        records = [record for record, _ in batch]
        for record in records:
            self._price(record)
        try:
            await self._sink.write(records)
            for record in records:
                await self._settle(record)
        except Exception:
            logger.exception("usage sink failed; %d records lost", len(records))

    def _price(self, record: UsageRecord) -> None:
        if record.deployment_id is None or record.total_tokens is None:
            return
        input_cost, output_cost = self._prices(record.deployment_id)
        if input_cost is None and output_cost is None:
            return
        record.cost_usd = (record.prompt_tokens or 0) * (input_cost or 0.0) + (
            record.completion_tokens or 0
        ) * (output_cost or 0.0)


def _count_missing(batch: list[tuple[UsageRecord, CountMaterial | None]]) -> None:
    for record, material in batch:
        if material is None:
            continue
        if record.prompt_tokens is None and material.prompt is not None:
            record.prompt_tokens = count_prompt(material.model, material.prompt)
            record.tokens_estimated = True
        if record.completion_tokens is None and material.completion_payloads:
            record.completion_tokens = count_completion(material.model, material.completion_payloads)
            record.tokens_estimated = True
