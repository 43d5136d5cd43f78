"""Route selection and failover: which deployment serves a request, and what happens when it fails.

One request walks its model group in the order the group's strategy ranks it. A retryable
failure (connection, timeout, 429, 5xx) falls over to the next deployment at once; when every
available deployment has failed, the walk waits (exponential backoff with full jitter, or the
upstream's Retry-After) and starts another round, `num_retries` times at most. A context-window
failure narrows the walk to deployments with a larger context. When the group is exhausted the
configured fallback groups for that kind of failure get their turn. Everything, waits included,
stays inside the request's deadline.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from llm.config import RouterSettings
from llm.deployments import Deployment, DeploymentTable
from llm.errors import Failure, LlmError, UpstreamFailure
from llm.health import Breaker
from llm.strategies import RANKERS

T = TypeVar("T")
# One attempt at one deployment, given the seconds left before the deadline.
Call = Callable[[Deployment, float], Awaitable[T]]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(slots=True)
class Routed(Generic[T]):
    """A successful attempt. `release()` ends its in-flight count (streams hold it until the end)."""

    deployment: Deployment
    result: T
    attempts: int

    def release(self) -> None:
        self.deployment.health.in_flight -= 1


@dataclass(slots=True)
class _Run:
    deadline: float
    attempts: int = 0


class Router:
    def __init__(
        self,
        table: DeploymentTable,
        settings: RouterSettings,
        rng: random.Random,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._table = table
        self._settings = settings
        self._rng = rng
        self._clock = clock
        self._sleep = sleep
        self._breaker = Breaker(
            settings.allowed_fails,
            settings.cooldown_s,
            settings.latency_ewma_alpha,
            settings.failure_penalty_s,
        )

    def resolve(self, name: str) -> tuple[str, list[Deployment]]:
        """The group a model name denotes, or the one deployment a deployment id denotes."""
        if name in self._table.groups:
            return name, self._table.groups[name]
        deployment = self._table.by_id.get(name)
        if deployment is None:
            raise LlmError(404, f"The model `{name}` does not exist", code="model_not_found", param="model")
        return deployment.group, [deployment]

    async def route(self, name: str, call: Call[T]) -> Routed[T]:
        group, pool = self.resolve(name)
        run = _Run(deadline=self._clock() + self._settings.deadline_s)
        try:
            return await self._walk(group, pool, call, run)
        except UpstreamFailure as failure:
            return await self._fall_back(group, failure, call, run)

    async def _fall_back(self, group: str, failure: UpstreamFailure, call: Call[T], run: _Run) -> Routed[T]:
        for fallback in self._fallback_groups(group, failure.kind):
            pool = self._table.groups.get(fallback)
            if not pool:
                continue
            try:
                return await self._walk(fallback, pool, call, run)
            except UpstreamFailure as next_failure:
                failure = next_failure
        raise failure

    def _fallback_groups(self, group: str, kind: Failure) -> list[str]:
        maps = {
            Failure.RETRYABLE: self._settings.fallbacks,
            Failure.CONTEXT_WINDOW: self._settings.context_window_fallbacks,
            Failure.CONTENT_POLICY: self._settings.content_policy_fallbacks,
        }
        chosen = maps.get(kind)
        return [g for g in chosen.get(group, []) if g != group] if chosen else []

    async def _walk(self, group: str, pool: list[Deployment], call: Call[T], run: _Run) -> Routed[T]:
        rank = RANKERS[self._settings.strategy_for(group)]
        eligible = list(pool)
        last: UpstreamFailure | None = None
        for round_no in range(self._settings.num_retries + 1):
            if round_no and not await self._wait_between_rounds(round_no, eligible, run):
                break
            ready = [d for d in eligible if self._breaker.available(d.health, self._clock())]
            for deployment in rank(ready, self._rng):
                if deployment not in eligible:
                    continue  # dropped by a context-window failure earlier in this round
                try:
                    return await self._attempt(deployment, call, run)
                except UpstreamFailure as failure:
                    last = failure
                    eligible = self._still_eligible(eligible, deployment, failure)
        raise last or self._none_available(group, pool)

    def _still_eligible(
        self, eligible: list[Deployment], failed: Deployment, failure: UpstreamFailure
    ) -> list[Deployment]:
        if failure.kind is Failure.RETRYABLE:
            return eligible
        if failure.kind is Failure.CONTEXT_WINDOW:
            larger = [d for d in eligible if (d.max_input_tokens or 0) > (failed.max_input_tokens or 0)]
            if larger:
                return larger
        raise failure

    async def _wait_between_rounds(self, round_no: int, eligible: list[Deployment], run: _Run) -> bool:
        """Wait before another round; False when the wait would pass the cap or the deadline."""
        now = self._clock()
        cap = self._settings.retry_backoff_max_s
        backoff = self._rng.uniform(0, min(cap, self._settings.retry_backoff_s * 2 ** (round_no - 1)))
        reopen = min((d.health.open_until for d in eligible), default=now) - now
        wait = max(backoff, reopen)
        if wait > cap or now + wait >= run.deadline:
            return False
        await self._sleep(wait)
        return True

    async def _attempt(self, deployment: Deployment, call: Call[T], run: _Run) -> Routed[T]:
        start = self._clock()
        remaining = run.deadline - start
        if remaining <= 0:
            raise UpstreamFailure(
                Failure.RETRYABLE, 504, f"request deadline of {self._settings.deadline_s}s exceeded"
            )
        run.attempts += 1
        deployment.health.in_flight += 1
        try:
            result = await call(deployment, remaining)
        except UpstreamFailure as failure:
            deployment.health.in_flight -= 1
            if failure.kind is Failure.RETRYABLE:
                now = self._clock()
                self._breaker.failed(deployment.health, now, now - start, failure.retry_after_s)
            raise
        except BaseException:
            deployment.health.in_flight -= 1
            raise
        self._breaker.succeeded(deployment.health, self._clock() - start)
        return Routed(deployment, result, run.attempts)

    def _none_available(self, group: str, pool: list[Deployment]) -> UpstreamFailure:
        reopen = min(d.health.open_until for d in pool) - self._clock()
        message = f"no deployment of `{group}` is available (all cooling down)"
        return UpstreamFailure(Failure.RETRYABLE, 503, message, retry_after_s=max(reopen, 0.0))
