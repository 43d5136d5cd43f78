"""Acceptance 3: each routing strategy chooses or distributes as specified."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

from llm.config import LlmSettings
from llm.deployments import Deployment, DeploymentTable
from llm.router import Router

N = 4000


def table(strategy: str, *deployments: dict[str, Any]) -> tuple[Router, DeploymentTable]:
    model_list = [
        {
            "model_name": "g",
            "litellm_params": {"model": "openai/m", "api_base": "http://127.0.0.1:9/v1", **params},
            "model_info": {"id": name, **info},
        }
        for name, params, info in ((d["id"], d.get("params", {}), d.get("info", {})) for d in deployments)
    ]
    settings = LlmSettings.model_validate(
        {"model_list": model_list, "router_settings": {"routing_strategy": strategy}}
    )
    built = DeploymentTable.build(settings, None)
    return Router(built, settings.router_settings, random.Random(7)), built


async def pick(router: Router) -> str:
    async def call(deployment: Deployment, budget: float) -> str:
        return deployment.id

    routed = await router.route("g", call)
    routed.release()
    return routed.result


async def picks(router: Router, n: int = N) -> Counter[str]:
    return Counter([await pick(router) for _ in range(n)])


async def test_weighted_random_follows_weights() -> None:
    router, _ = table(
        "weighted-random", {"id": "a", "params": {"weight": 1}}, {"id": "b", "params": {"weight": 3}}
    )
    counts = await picks(router)
    assert abs(counts["b"] / N - 0.75) < 0.03  # ~6 standard deviations at N=4000


async def test_weighted_random_equal_weights_spread_evenly() -> None:
    router, _ = table("simple-shuffle", {"id": "a"}, {"id": "b"}, {"id": "c"})  # LiteLLM's name
    counts = await picks(router, 3000)
    assert all(abs(counts[k] / 3000 - 1 / 3) < 0.04 for k in "abc")


async def test_priority_takes_the_lowest_order_first() -> None:
    router, _ = table("priority", {"id": "a", "params": {"order": 2}}, {"id": "b", "params": {"order": 1}})
    assert await picks(router, 200) == Counter({"b": 200})


async def test_lowest_latency_prefers_the_fastest_and_penalises_failures() -> None:
    router, built = table("latency-based-routing", {"id": "fast"}, {"id": "slow"}, {"id": "flaky"})
    built.by_id["fast"].health.latency_s = 0.05
    built.by_id["slow"].health.latency_s = 0.4
    built.by_id["flaky"].health.latency_s = 0.01
    router._breaker.failed(built.by_id["flaky"].health, 0.0, 0.01, None)  # +5 s penalty in its EWMA
    counts = await picks(router, 200)
    assert counts["fast"] >= 190  # its EWMA moves with each (instant) call but stays lowest


async def test_least_busy_picks_the_fewest_in_flight() -> None:
    router, built = table("least-busy", {"id": "a"}, {"id": "b"}, {"id": "c"})
    built.by_id["a"].health.in_flight = 5
    built.by_id["b"].health.in_flight = 1
    built.by_id["c"].health.in_flight = 3
    assert await picks(router, 100) == Counter({"b": 100})


async def test_least_busy_spreads_concurrent_requests() -> None:
    router, _ = table("least-busy", {"id": "a"}, {"id": "b"})

    async def slow(deployment: Deployment, budget: float) -> str:
        await asyncio.sleep(0.05)
        return deployment.id

    async def one() -> str:
        routed = await router.route("g", slow)
        routed.release()
        return routed.result

    assert Counter(await asyncio.gather(*(one() for _ in range(10)))) == Counter({"a": 5, "b": 5})


async def test_lowest_cost_uses_prices() -> None:
    router, _ = table(
        "cost-based-routing",
        {"id": "pricey", "info": {"input_cost_per_token": 1e-5, "output_cost_per_token": 3e-5}},
        {"id": "cheap", "info": {"input_cost_per_token": 1e-7, "output_cost_per_token": 4e-7}},
        {"id": "unknown"},
    )
    assert await picks(router, 100) == Counter({"cheap": 100})


async def test_lowest_cost_from_litellms_cost_map() -> None:
    from llm.deployments import fill_from_cost_map
    from llm.routes import _read_cost_map

    router, built = table(
        "lowest-cost",
        {"id": "4o", "params": {"model": "openai/gpt-4o"}},
        {"id": "mini", "params": {"model": "openai/gpt-4o-mini"}},
    )
    cost_map = _read_cost_map()
    for deployment in built.all():
        fill_from_cost_map(deployment, cost_map)
    assert await picks(router, 50) == Counter({"mini": 50})


async def test_a_request_may_name_a_concrete_deployment() -> None:
    router, _ = table("weighted-random", {"id": "a"}, {"id": "b"})

    async def call(deployment: Deployment, budget: float) -> str:
        return deployment.id

    assert {(await router.route("b", call)).result for _ in range(50)} == {"b"}
