"""Typed settings for the LLM router, nested into HubSettings as `llm`.

`model_list` takes a LiteLLM proxy config's entries unchanged (model_name, litellm_params,
model_info); unknown litellm_params are kept and ignored. Our extensions live beside them:
per-group routing strategy and the fallback maps, in the same shapes LiteLLM's router uses.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Strategy = Literal["weighted-random", "lowest-latency", "least-busy", "lowest-cost", "priority"]

# LiteLLM's routing_strategy names, so a proxy config's router_settings carries over.
_LITELLM_STRATEGIES: dict[str, Strategy] = {
    "simple-shuffle": "weighted-random",
    "latency-based-routing": "lowest-latency",
    "least-busy": "least-busy",
    "cost-based-routing": "lowest-cost",
}


class LitellmParams(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    api_base: str | None = None
    api_key: str | None = None  # literal, "os.environ/NAME" or "secret/NAME"
    api_version: str | None = None
    rpm: int | None = None
    tpm: int | None = None
    weight: float = 1.0
    order: int | None = None
    timeout: float | None = None
    stream_timeout: float | None = None
    # AWS and other provider-specific credentials stay in the extra fields, resolved like api_key.


class ModelInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    max_input_tokens: int | None = None
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None


class DeploymentSettings(BaseModel):
    model_name: str
    litellm_params: LitellmParams
    model_info: ModelInfo = Field(default_factory=ModelInfo)
    # Extension: ask OpenAI-compatible upstreams for usage in streams (stream_options.include_usage).
    stream_usage: bool = True


class GroupSettings(BaseModel):
    strategy: Strategy | None = None


class RouterSettings(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    routing_strategy: Strategy = "weighted-random"
    timeout_s: float = Field(60.0, alias="timeout")
    connect_timeout_s: float = 5.0
    # Time to the first streamed byte; after it, `stream_idle_timeout_s` between chunks.
    stream_first_byte_timeout_s: float = 30.0
    stream_idle_timeout_s: float = 60.0
    num_retries: int = 2
    retry_backoff_s: float = 0.2
    retry_backoff_max_s: float = 5.0
    # The whole request (all attempts, waits included) until a response or the first streamed byte.
    deadline_s: float = 90.0
    allowed_fails: int = 3
    cooldown_s: float = Field(30.0, alias="cooldown_time")
    latency_ewma_alpha: float = 0.3
    failure_penalty_s: float = 5.0
    max_connections: int = 200
    groups: dict[str, GroupSettings] = Field(default_factory=dict)
    fallbacks: dict[str, list[str]] = Field(default_factory=dict)
    context_window_fallbacks: dict[str, list[str]] = Field(default_factory=dict)
    content_policy_fallbacks: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("routing_strategy", mode="before")
    @classmethod
    def _litellm_strategy_names(cls, value: Any) -> Any:
        return _LITELLM_STRATEGIES.get(value, value) if isinstance(value, str) else value

    @field_validator("fallbacks", "context_window_fallbacks", "content_policy_fallbacks", mode="before")
    @classmethod
    def _litellm_fallback_lists(cls, value: Any) -> Any:
        # LiteLLM writes fallbacks as a list of one-key mappings: [{"gpt-4": ["gpt-3.5"]}].
        if isinstance(value, list):
            return {key: targets for entry in value for key, targets in entry.items()}
        return value

    def strategy_for(self, group: str) -> Strategy:
        settings = self.groups.get(group)
        return settings.strategy if settings and settings.strategy else self.routing_strategy


class LlmSettings(BaseModel):
    enabled: bool = True
    model_list: list[DeploymentSettings] = Field(default_factory=list)
    router_settings: RouterSettings = Field(default_factory=lambda: RouterSettings.model_validate({}))
    max_body_bytes: int = 16 * 1024 * 1024
    usage_batch_size: int = 100
    usage_flush_interval_s: float = 1.0
    usage_queue_size: int = 100_000
