"""The hub's one typed configuration model: a YAML/TOML file, then `MCPHUB_*` environment, then flags."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hub.auth.settings import AuthSettings
from llm.config import LlmSettings

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    # Host header allow-list (DNS-rebinding protection); "*" as port matches any port.
    allowed_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1:*", "localhost:*", "[::1]:*"])
    allowed_origins: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    )
    max_body_bytes: int = 4 * 1024 * 1024
    admin_max_body_bytes: int = 64 * 1024 * 1024
    tools_page_size: int = 100
    # Serve plain tools/call and tools/list without the SDK's per-message machinery (same answers).
    fast_path: bool = True


class UpstreamSettings(BaseModel):
    connect_timeout_s: float = 5.0
    timeout_s: float = 30.0
    max_response_bytes: int = 1024 * 1024
    max_connections_per_upstream: int = 100


class NetworkSettings(BaseModel):
    # Hosts/addresses/CIDRs that specs and upstreams may reach although they are private or loopback.
    # Link-local (cloud metadata) ranges stay blocked unless listed here explicitly.
    allow_private: list[str] = Field(default_factory=list)
    spec_fetch_max_bytes: int = 64 * 1024 * 1024


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MCPHUB_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None  # default: SQLite in the data dir
    secret_key: SecretStr | None = None  # default: generated into the data dir
    insecure_no_auth: bool = False
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    catalog_poll_interval_s: float = 1.0
    server: ServerSettings = Field(default_factory=ServerSettings)
    upstream: UpstreamSettings = Field(default_factory=UpstreamSettings)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Flags (init) beat the environment, which beats the config file (also passed as init data).
        return init_settings, env_settings

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'catalog.db').resolve()}"


def read_config_file(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"config file {path} must hold a mapping at the top level")
    return data


def load_settings(config_file: Path | None = None, **overrides: Any) -> HubSettings:
    """File values first, environment over them, explicit overrides (CLI flags) over both."""
    file_values = read_config_file(config_file) if config_file else {}
    env_values = HubSettings().model_dump(exclude_unset=True)
    merged = _deep_merge(
        _deep_merge(file_values, env_values), {k: v for k, v in overrides.items() if v is not None}
    )
    return HubSettings(**merged)


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
