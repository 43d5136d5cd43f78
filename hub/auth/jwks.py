"""Where JWT verification keys come from: the embedded AS's own keys, or a cached remote JWKS."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from jwt import PyJWK, PyJWKSet
from jwt.exceptions import PyJWKError, PyJWKSetError

from hub.auth.keys import SigningKey
from hub.auth.principal import TokenError

logger = logging.getLogger(__name__)

FetchJson = Callable[[str], Awaitable[Any]]  # async GET url -> parsed JSON


class KeySource(Protocol):
    async def key_for(self, kid: str | None) -> PyJWK: ...


class LocalKeys:
    """The embedded AS's public keys: no network, ever."""

    def __init__(self, keys: Sequence[SigningKey]) -> None:
        self._by_kid = {k.kid: PyJWK(k.public_jwk()) for k in keys}

    async def key_for(self, kid: str | None) -> PyJWK:
        key = self._by_kid.get(kid or "")
        if key is None:
            raise TokenError("unknown signing key")
        return key


class RemoteJwks:
    """A remote JWKS, cached for `ttl_s`. An unknown `kid` means the IdP rotated: refetch, at most
    every `min_refetch_s`, so a flood of forged kids cannot turn into a flood of fetches."""

    def __init__(self, url: str, fetch: FetchJson, ttl_s: float, min_refetch_s: float) -> None:
        self._url = url
        self._fetch = fetch
        self._ttl_s = ttl_s
        self._min_refetch_s = min_refetch_s
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str | None) -> PyJWK:
        now = time.monotonic()
        if now - self._fetched_at > self._ttl_s:
            await self._refresh(now)
        key = self._lookup(kid)
        if key is None and time.monotonic() - self._fetched_at > self._min_refetch_s:
            await self._refresh(time.monotonic())
            key = self._lookup(kid)
        if key is None:
            raise TokenError("unknown signing key")
        return key

    def _lookup(self, kid: str | None) -> PyJWK | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))  # a single-key IdP may omit kid
        return self._keys.get(kid or "")

    async def refresh(self) -> None:
        await self._refresh(time.monotonic())

    async def _refresh(self, requested_at: float) -> None:
        async with self._lock:
            if self._fetched_at >= requested_at:
                return  # another request refreshed while this one waited
            try:
                self._keys = parse_jwks(await self._fetch(self._url))
            except Exception as exc:
                # Keep the old keys: an IdP blip must not log everyone out.
                logger.warning("JWKS fetch from %s failed: %s", self._url, exc)
            self._fetched_at = time.monotonic()


def parse_jwks(document: Any) -> dict[str, PyJWK]:
    if not isinstance(document, dict):
        raise ValueError("JWKS is not a JSON object")
    try:
        key_set = PyJWKSet.from_dict(document)
    except (PyJWKError, PyJWKSetError) as exc:
        raise ValueError(f"bad JWKS: {exc}") from exc
    return {k.key_id: k for k in key_set.keys if k.key_id and k.public_key_use in (None, "sig")}
