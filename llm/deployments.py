"""Deployments built from configuration: provider, upstream model, credentials, costs, health."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llm.config import DeploymentSettings, LlmSettings
from llm.health import Health
from llm.secrets import SecretLookup, resolve

# Settings that are routing data, not provider parameters.
_ROUTING_PARAMS = frozenset(
    {
        "model",
        "api_base",
        "api_key",
        "api_version",
        "rpm",
        "tpm",
        "weight",
        "order",
        "timeout",
        "stream_timeout",
    }
)


@dataclass(eq=False, slots=True)
class Deployment:
    id: str
    group: str
    provider: str
    model: str  # the provider's model name, without the provider prefix
    litellm_model: str  # as configured, e.g. "anthropic/claude-3-5-haiku"
    api_base: str | None
    api_key: str | None = field(repr=False)
    api_version: str | None
    weight: float
    order: int
    timeout_s: float | None
    stream_timeout_s: float | None
    stream_usage: bool
    max_input_tokens: int | None = None
    input_cost: float | None = None  # USD per token
    output_cost: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)  # provider parameters, resolved
    health: Health = field(default_factory=Health)

    @property
    def cost_per_token(self) -> float | None:
        if self.input_cost is None and self.output_cost is None:
            return None
        return (self.input_cost or 0.0) + (self.output_cost or 0.0)


def split_provider(model: str) -> tuple[str, str]:
    """("anthropic", "claude-x") from "anthropic/claude-x"; bare names are inferred as LiteLLM does."""
    provider, sep, rest = model.partition("/")
    if sep:
        return provider, rest
    return ("anthropic" if model.startswith("claude") else "openai"), model


def build_deployment(index: int, entry: DeploymentSettings, lookup: SecretLookup | None) -> Deployment:
    params = entry.litellm_params
    provider, model = split_provider(params.model)
    extra = {
        k: _resolve_any(v, lookup) for k, v in (params.model_extra or {}).items() if k not in _ROUTING_PARAMS
    }
    return Deployment(
        id=entry.model_info.id or f"{entry.model_name}@{index}",
        group=entry.model_name,
        provider=provider,
        model=model,
        litellm_model=params.model,
        api_base=resolve(params.api_base, lookup),
        api_key=resolve(params.api_key, lookup),
        api_version=resolve(params.api_version, lookup),
        weight=params.weight,
        order=params.order if params.order is not None else 1_000_000,
        timeout_s=params.timeout,
        stream_timeout_s=params.stream_timeout,
        stream_usage=entry.stream_usage,
        max_input_tokens=entry.model_info.max_input_tokens,
        input_cost=entry.model_info.input_cost_per_token,
        output_cost=entry.model_info.output_cost_per_token,
        extra=extra,
    )


def _resolve_any(value: Any, lookup: SecretLookup | None) -> Any:
    return resolve(value, lookup) if isinstance(value, str) else value


def fill_from_cost_map(deployment: Deployment, cost_map: Mapping[str, Mapping[str, Any]]) -> None:
    """Costs and context size from litellm's cost map where the configuration does not give them."""
    info = _model_info(deployment, cost_map)
    if deployment.input_cost is None:
        deployment.input_cost = info.get("input_cost_per_token")
    if deployment.output_cost is None:
        deployment.output_cost = info.get("output_cost_per_token")
    if deployment.max_input_tokens is None:
        deployment.max_input_tokens = info.get("max_input_tokens")


def _model_info(deployment: Deployment, cost_map: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any]:
    keys = (deployment.litellm_model, f"{deployment.provider}/{deployment.model}", deployment.model)
    return next((cost_map[key] for key in keys if key in cost_map), {})


@dataclass(slots=True)
class DeploymentTable:
    """Model groups (by model_name) and every deployment by id; a request may name either."""

    groups: dict[str, list[Deployment]]
    by_id: dict[str, Deployment]

    @classmethod
    def build(cls, settings: LlmSettings, lookup: SecretLookup | None) -> DeploymentTable:
        groups: dict[str, list[Deployment]] = {}
        by_id: dict[str, Deployment] = {}
        for index, entry in enumerate(settings.model_list):
            deployment = build_deployment(index, entry, lookup)
            if deployment.id in by_id:
                raise ValueError(f"duplicate deployment id {deployment.id!r}")
            groups.setdefault(deployment.group, []).append(deployment)
            by_id[deployment.id] = deployment
        return cls(groups, by_id)

    def all(self) -> list[Deployment]:
        return list(self.by_id.values())
