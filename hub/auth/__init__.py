"""OAuth 2.1 for the hub: resource server, embedded authorization server, per-tool scopes, tenants.

Import from the submodules (`hub.auth.layer`, `hub.auth.scopes`, ...): this package module stays
empty so that reading the settings (`hub.auth.settings`, needed by every CLI command) does not
load the whole server side.
"""
