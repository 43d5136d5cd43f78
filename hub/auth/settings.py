"""Auth configuration: nested in HubSettings as `auth`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator


class ExternalIssuer(BaseModel):
    """A trusted external authorization server. Tokens name it in `iss`; one validation method each."""

    issuer: str
    # JWT access tokens verified against this JWKS (cached; refetched on an unknown `kid`).
    jwks_uri: str | None = None
    # Opaque tokens checked by RFC 7662 introspection (answers cached, see introspection_cache_ttl_s).
    introspection_endpoint: str | None = None
    introspection_client_id: str | None = None
    introspection_client_secret: SecretStr | None = None
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256", "PS256", "EdDSA"])
    # Claims carrying the hub's notions; the IdP may name them differently.
    tenant_claim: str = "tenant"
    default_tenant: str = "default"

    @model_validator(mode="after")
    def _one_method(self) -> ExternalIssuer:
        if (self.jwks_uri is None) == (self.introspection_endpoint is None):
            raise ValueError(f"issuer {self.issuer}: set exactly one of jwks_uri, introspection_endpoint")
        return self


class AuthSettings(BaseModel):
    # "embedded": the hub is its own authorization server. "external": only `issuers` are trusted.
    mode: Literal["embedded", "external"] = "embedded"
    # The URL clients reach the hub at (scheme://host[:port]); issuer and resource derive from it.
    # Default: http://<server.host>:<server.port>. Set it behind a proxy or TLS terminator.
    public_url: str | None = None
    issuers: list[ExternalIssuer] = Field(default_factory=list)
    # Extra accepted audiences besides the resource URL (e.g. an IdP that cannot do RFC 8707).
    extra_audiences: list[str] = Field(default_factory=list)
    access_token_ttl_s: int = 3600
    refresh_token_ttl_s: int = 30 * 24 * 3600
    auth_code_ttl_s: int = 60
    login_request_ttl_s: int = 600
    clock_skew_s: int = 30
    # Scopes the 401 challenge and metadata advertise, and what a client asking for none gets.
    default_scopes: list[str] = Field(default_factory=list)
    admin_scope: str = "mcphub:admin"
    dcr_enabled: bool = True
    cimd_enabled: bool = True
    cimd_max_bytes: int = 64 * 1024
    jwks_cache_ttl_s: float = 300.0
    # An unknown `kid` refetches the JWKS (key rotation), at most this often per issuer.
    jwks_min_refetch_s: float = 10.0
    introspection_cache_ttl_s: float = 60.0
    validation_cache_size: int = 10_000
    # How often a running hub re-reads revoked clients written by other processes (the CLI).
    revocation_poll_interval_s: float = 1.0
    fetch_timeout_s: float = 5.0
