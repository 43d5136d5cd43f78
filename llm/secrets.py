"""Provider credentials referenced from configuration, resolved once at start-up and never logged."""

from __future__ import annotations

import os
from collections.abc import Callable

# Looks a name up in the hub's secret store; None when unknown.
SecretLookup = Callable[[str], str | None]

ENV_PREFIX = "os.environ/"
STORE_PREFIX = "secret/"


class MissingSecretError(Exception):
    """A referenced credential is not set. The message names the reference, never a value."""


def resolve(value: str | None, lookup: SecretLookup | None) -> str | None:
    """`os.environ/NAME` (as LiteLLM writes it) or `secret/NAME` become the value; literals stay."""
    if value is None:
        return None
    if value.startswith(ENV_PREFIX):
        return _required(os.environ.get(value[len(ENV_PREFIX) :]), value)
    if value.startswith(STORE_PREFIX):
        found = lookup(value[len(STORE_PREFIX) :]) if lookup else None
        return _required(found, value)
    return value


def _required(found: str | None, reference: str) -> str:
    if found is None:
        raise MissingSecretError(f"credential {reference} is not set")
    return found
