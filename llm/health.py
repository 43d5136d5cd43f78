"""Per-deployment health: in-flight count, latency EWMA and a circuit breaker with cooldown."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Health:
    in_flight: int = 0
    latency_s: float | None = None  # EWMA of latency (time to first byte when streaming)
    failures: int = 0  # consecutive retryable failures
    open_until: float = 0.0  # monotonic time the breaker closes again


@dataclass(frozen=True, slots=True)
class Breaker:
    """Opens a deployment's circuit after `allowed_fails` consecutive failures, for `cooldown_s`.

    After the cooldown the next request is a trial (half-open): one more failure reopens it at
    once, a success closes it. A Retry-After from the upstream opens it for that long right away.
    """

    allowed_fails: int
    cooldown_s: float
    ewma_alpha: float
    failure_penalty_s: float

    def available(self, health: Health, now: float) -> bool:
        return now >= health.open_until

    def succeeded(self, health: Health, latency_s: float) -> None:
        health.failures = 0
        self._observe(health, latency_s)

    def failed(self, health: Health, now: float, latency_s: float, retry_after_s: float | None) -> None:
        health.failures += 1
        # A failure counts as a slow answer, so lowest-latency routing steers away from it.
        self._observe(health, latency_s + self.failure_penalty_s)
        if health.failures >= self.allowed_fails:
            health.open_until = now + self.cooldown_s
        if retry_after_s is not None:
            health.open_until = max(health.open_until, now + retry_after_s)

    def _observe(self, health: Health, sample: float) -> None:
        previous = health.latency_s
        health.latency_s = sample if previous is None else previous + self.ewma_alpha * (sample - previous)
