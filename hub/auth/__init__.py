"""OAuth 2.1 for the hub: resource server, embedded authorization server, per-tool scopes, tenants."""

from hub.auth.layer import AuthLayer, build_auth
from hub.auth.middleware import principal_of
from hub.auth.principal import Principal, TokenError
from hub.auth.scopes import ScopedViews, Verdict, can_call, check_call, required_scopes
from hub.auth.settings import AuthSettings, ExternalIssuer

__all__ = [
    "AuthLayer",
    "AuthSettings",
    "ExternalIssuer",
    "Principal",
    "ScopedViews",
    "TokenError",
    "Verdict",
    "build_auth",
    "can_call",
    "check_call",
    "principal_of",
    "required_scopes",
]
