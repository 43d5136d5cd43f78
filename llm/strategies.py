"""Routing strategies: each ranks a group's available deployments, best first.

The router tries them in that order, so the ranking is both the choice and the failover order.
Ties are broken at random so equal deployments share the load.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from llm.config import Strategy
from llm.deployments import Deployment

Ranker = Callable[[Sequence[Deployment], random.Random], list[Deployment]]


def weighted_random(candidates: Sequence[Deployment], rng: random.Random) -> list[Deployment]:
    # Efraimidis-Spirakis: sorting by u**(1/w) samples without replacement in proportion to weight.
    keyed = [(rng.random() ** (1.0 / d.weight) if d.weight > 0 else 0.0, d) for d in candidates]
    return [d for _, d in sorted(keyed, key=lambda pair: pair[0], reverse=True)]


def priority(candidates: Sequence[Deployment], rng: random.Random) -> list[Deployment]:
    shuffled = weighted_random(candidates, rng)
    return sorted(shuffled, key=lambda d: d.order)  # stable: equal orders keep the weighted draw


def lowest_latency(candidates: Sequence[Deployment], rng: random.Random) -> list[Deployment]:
    # Unmeasured deployments rank first, so every deployment gets measured.
    return _by(candidates, rng, lambda d: d.health.latency_s or 0.0)


def least_busy(candidates: Sequence[Deployment], rng: random.Random) -> list[Deployment]:
    return _by(candidates, rng, lambda d: float(d.health.in_flight))


def lowest_cost(candidates: Sequence[Deployment], rng: random.Random) -> list[Deployment]:
    # Deployments of unknown cost rank last: choosing them would not be "lowest cost".
    return _by(candidates, rng, lambda d: d.cost_per_token if d.cost_per_token is not None else float("inf"))


def _by(
    candidates: Sequence[Deployment], rng: random.Random, key: Callable[[Deployment], float]
) -> list[Deployment]:
    return sorted(rng.sample(list(candidates), len(candidates)), key=key)


RANKERS: dict[Strategy, Ranker] = {
    "weighted-random": weighted_random,
    "priority": priority,
    "lowest-latency": lowest_latency,
    "least-busy": least_busy,
    "lowest-cost": lowest_cost,
}
