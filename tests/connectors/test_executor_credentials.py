"""Upstream credentials on the wire: apiKey, bearer, basic, OAuth2 client credentials, static values."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import pytest
from aiohttp import web

from connectors.openapi.credentials import OAuth2Client, TokenCache, UpstreamCredentials
from connectors.openapi.executor import OpenApiExecutor
from connectors.openapi.model import ParamSpec, SecurityScheme
from tests.connectors.executor_support import RecordingUpstream, make_op, make_pool, running_upstream, text_of

SCHEMES = {
    "headerKey": SecurityScheme("headerKey", "apiKey", location="header", param_name="X-API-Key"),
    "queryKey": SecurityScheme("queryKey", "apiKey", location="query", param_name="api_key"),
    "cookieKey": SecurityScheme("cookieKey", "apiKey", location="cookie", param_name="session"),
    "bearer": SecurityScheme("bearer", "http", scheme="bearer"),
    "basic": SecurityScheme("basic", "http", scheme="basic"),
    "oauth": SecurityScheme("oauth", "oauth2", token_url="PLACEHOLDER", scopes=("read", "write")),
}


@dataclass
class TokenServer:
    """OAuth2 token endpoint + protected resource, both on the recording upstream."""

    issued: list[str] = field(default_factory=list)
    requests: list[dict[str, list[str]]] = field(default_factory=list)
    auth_headers: list[str | None] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)
    fail: bool = False

    async def token(self, request: web.Request) -> web.Response:
        form = parse_qs((await request.read()).decode())
        self.requests.append(form)
        self.auth_headers.append(request.headers.get("Authorization"))
        await asyncio.sleep(0.05)  # slow enough that concurrent callers would overlap
        if self.fail:
            return web.json_response(
                {"error": "invalid_client", "error_description": "bad client"}, status=401
            )
        token = f"tok-{len(self.issued) + 1}"
        self.issued.append(token)
        self.valid.add(token)
        return web.json_response({"access_token": token, "token_type": "bearer", "expires_in": 3600})

    async def protected(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.valid:
            return web.json_response({"error": "invalid_token"}, status=401)
        return web.json_response({"hello": "world"})


@pytest.fixture(scope="module")
async def upstream() -> AsyncIterator[RecordingUpstream]:
    async with running_upstream() as running:
        yield running


@pytest.fixture
def tokens(upstream: RecordingUpstream) -> TokenServer:
    server = TokenServer()
    upstream.routes["/token"] = server.token
    upstream.routes["/protected"] = server.protected
    return server


@pytest.fixture
async def executor() -> AsyncIterator[OpenApiExecutor]:
    pool = make_pool()  # a fresh executor per test: its token cache starts empty
    yield OpenApiExecutor(pool, max_response_bytes=1 << 20)
    await pool.aclose()


def oauth_credentials(upstream: RecordingUpstream, **extra: object) -> UpstreamCredentials:
    return UpstreamCredentials(
        oauth2_client_id="client 1",
        oauth2_client_secret="s3cret:x",
        oauth2_token_url=f"{upstream.url}/token",
        oauth2_scopes=("read",),
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("scheme", "where", "expected"),
    [
        ("headerKey", "X-API-Key", "k 1"),
        ("queryKey", "query", "api_key=k%201&q=x"),
        ("cookieKey", "Cookie", "session=k%201; c=v"),
    ],
)
async def test_api_key_in_header_query_and_cookie(
    executor: OpenApiExecutor, upstream: RecordingUpstream, scheme: str, where: str, expected: str
) -> None:
    op = make_op(
        upstream.url,
        params=(ParamSpec("q", "query", "q"), ParamSpec("c", "cookie", "c")),
        security=((scheme,),),
        schemes=SCHEMES,
        credentials=UpstreamCredentials(api_key="k 1"),
    )
    result = await executor.call(op, {"q": "x", "c": "v"})
    assert not result["isError"], result
    seen = upstream.last()
    assert (seen.query if where == "query" else seen.headers.get(where)) == expected


async def test_bearer_basic_and_api_key_as_bearer(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    cases = [
        ("bearer", UpstreamCredentials(bearer_token="tok", api_key="ignored"), "Bearer tok"),
        ("bearer", UpstreamCredentials(api_key="key-as-bearer"), "Bearer key-as-bearer"),
        (
            "basic",
            UpstreamCredentials(basic_username="ann", basic_password="p:w é"),
            "Basic " + base64.b64encode("ann:p:w é".encode()).decode(),
        ),
    ]
    for scheme, creds, expected in cases:
        op = make_op(upstream.url, security=((scheme,),), schemes=SCHEMES, credentials=creds)
        await executor.call(op, {})
        assert upstream.last().headers.getall("Authorization") == [expected]


async def test_first_fillable_alternative_wins(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    creds = UpstreamCredentials(api_key="k", basic_username="u", basic_password="p")
    op = make_op(
        upstream.url,
        security=(("oauth",), ("headerKey", "basic"), ("bearer",)),
        schemes=SCHEMES,
        credentials=creds,
    )
    await executor.call(op, {})
    seen = upstream.last()
    assert seen.headers["X-API-Key"] == "k"
    assert seen.headers.getall("Authorization") == ["Basic " + base64.b64encode(b"u:p").decode()]


async def test_optional_security_still_sends_credentials(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    op = make_op(
        upstream.url,
        security=((), ("headerKey",)),
        schemes=SCHEMES,
        credentials=UpstreamCredentials(api_key="k"),
    )
    await executor.call(op, {})
    assert upstream.last().headers["X-API-Key"] == "k"


async def test_static_values_always_apply_scheme_values_only_when_declared(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    creds = UpstreamCredentials(
        headers={"X-Tenant": "t1"}, query={"account": "a b"}, api_key="k", bearer_token="b"
    )
    op = make_op(upstream.url, credentials=creds, params=(ParamSpec("q", "query", "q"),))
    await executor.call(op, {"q": "1"})
    seen = upstream.last()
    assert seen.headers["X-Tenant"] == "t1"
    assert seen.query == "account=a%20b&q=1"
    assert "Authorization" not in seen.headers and "X-API-Key" not in seen.headers


async def test_client_authorization_argument_cannot_override_credentials(
    executor: OpenApiExecutor, upstream: RecordingUpstream
) -> None:
    creds = UpstreamCredentials(bearer_token="stored")
    op = make_op(upstream.url, security=(("bearer",),), schemes=SCHEMES, credentials=creds)
    await executor.call(op, {"Authorization": "Bearer from-client", "authorization": "x"})
    assert upstream.last().headers.getall("Authorization") == ["Bearer stored"]

    declared = make_op(
        upstream.url,
        params=(ParamSpec("Authorization", "header", "Authorization"),),
        security=(("bearer",),),
        schemes=SCHEMES,
        credentials=creds,
    )
    await executor.call(declared, {"Authorization": "Token declared"})
    assert upstream.last().headers.getall("Authorization") == ["Token declared"]
    await executor.call(declared, {})
    assert upstream.last().headers.getall("Authorization") == ["Bearer stored"]


async def test_oauth2_token_fetched_once_and_cached(
    executor: OpenApiExecutor, upstream: RecordingUpstream, tokens: TokenServer
) -> None:
    creds = oauth_credentials(upstream)
    ops = [
        make_op(upstream.url, path="/protected", security=(("oauth",),), schemes=SCHEMES, credentials=creds)
        for _ in range(2)  # two tools of the same API share the token
    ]
    results = await asyncio.gather(*(executor.call(ops[i % 2], {}) for i in range(10)))
    results.append(await executor.call(ops[0], {}))
    assert all(not r["isError"] for r in results), results
    assert tokens.issued == ["tok-1"]
    assert tokens.requests == [{"grant_type": ["client_credentials"], "scope": ["read"]}]
    expected_basic = base64.b64encode(b"client+1:s3cret%3Ax").decode()  # RFC 6749 §2.3.1 form-encoding
    assert tokens.auth_headers == [f"Basic {expected_basic}"]
    assert upstream.last().headers["Authorization"] == "Bearer tok-1"


async def test_oauth2_client_secret_in_body(
    executor: OpenApiExecutor, upstream: RecordingUpstream, tokens: TokenServer
) -> None:
    creds = oauth_credentials(upstream, oauth2_client_auth="body")
    op = make_op(upstream.url, path="/protected", security=(("oauth",),), schemes=SCHEMES, credentials=creds)
    assert not (await executor.call(op, {}))["isError"]
    assert tokens.auth_headers == [None]
    assert tokens.requests[0]["client_id"] == ["client 1"]
    assert tokens.requests[0]["client_secret"] == ["s3cret:x"]


async def test_oauth2_refetches_once_on_401(
    executor: OpenApiExecutor, upstream: RecordingUpstream, tokens: TokenServer
) -> None:
    op = make_op(
        upstream.url,
        path="/protected",
        security=(("oauth",),),
        schemes=SCHEMES,
        credentials=oauth_credentials(upstream),
    )
    assert not (await executor.call(op, {}))["isError"]
    tokens.valid.clear()  # the upstream revokes tok-1
    result = await executor.call(op, {})
    assert not result["isError"], result
    assert tokens.issued == ["tok-1", "tok-2"]
    assert upstream.last().headers["Authorization"] == "Bearer tok-2"

    before = len(upstream.seen)
    tokens.valid.clear()
    tokens.valid.add("never-issued")
    upstream.routes["/token"] = lambda request: _revoking(tokens, request)
    failed = await executor.call(op, {})
    assert failed["isError"] and text_of(failed).startswith("HTTP 401")
    # one call, one refetch, one retry: no loop
    assert [s.path for s in upstream.seen[before:]] == ["/protected", "/token", "/protected"]


async def _revoking(tokens: TokenServer, request: web.Request) -> web.StreamResponse:
    response = await tokens.token(request)
    tokens.valid.discard(tokens.issued[-1])
    return response


async def test_oauth2_token_endpoint_failure_is_a_clear_tool_error(
    executor: OpenApiExecutor, upstream: RecordingUpstream, tokens: TokenServer
) -> None:
    tokens.fail = True
    op = make_op(
        upstream.url,
        path="/protected",
        security=(("oauth",),),
        schemes=SCHEMES,
        credentials=oauth_credentials(upstream),
    )
    result = await executor.call(op, {})
    text = text_of(result)
    assert result["isError"]
    assert "OAuth2 token request" in text and "HTTP 401" in text and "bad client" in text
    assert "s3cret" not in text and "/protected" not in [s.path for s in upstream.seen[-1:]]


async def test_oauth2_scheme_token_url_and_bearer_fallback(
    executor: OpenApiExecutor, upstream: RecordingUpstream, tokens: TokenServer
) -> None:
    schemes = {"oauth": SecurityScheme("oauth", "oauth2", token_url=f"{upstream.url}/token")}
    creds = UpstreamCredentials(oauth2_client_id="c", oauth2_client_secret="s")
    op = make_op(upstream.url, path="/protected", security=(("oauth",),), schemes=schemes, credentials=creds)
    assert not (await executor.call(op, {}))["isError"]
    assert tokens.issued == ["tok-1"]
    static = make_op(
        upstream.url,
        security=(("oauth",),),
        schemes=schemes,
        credentials=UpstreamCredentials(bearer_token="pre-issued"),
    )
    await executor.call(static, {})
    assert upstream.last().headers["Authorization"] == "Bearer pre-issued"


async def test_token_cache_renews_shortly_before_expiry() -> None:
    now = [1000.0]
    fetched: list[str] = []

    async def fetch(client: OAuth2Client) -> tuple[str, float | None]:
        fetched.append(client.client_id)
        return f"t{len(fetched)}", 100.0

    cache = TokenCache(fetch, clock=lambda: now[0])
    client = OAuth2Client("http://127.0.0.1/token", "id", "secret")
    assert await cache.token(client) == "t1"
    now[0] += 89.0  # 100 s lifetime, renewed 10 s early
    assert await cache.token(client) == "t1"
    now[0] += 2.0
    assert await cache.token(client) == "t2"
    cache.invalidate(client, "t1")  # stale invalidation does not drop the newer token
    assert await cache.token(client) == "t2"
    cache.invalidate(client, "t2")
    assert await cache.token(client) == "t3"


def test_credentials_repr_redacts_secrets() -> None:
    creds = UpstreamCredentials(
        headers={"X-API-Key": "hdr-secret"},
        query={"key": "qry-secret"},
        api_key="api-secret",
        bearer_token="bearer-secret",
        basic_username="user-secret",
        basic_password="pw-secret",
        oauth2_client_id="id-secret",
        oauth2_client_secret="client-secret",
        oauth2_token_url="https://auth.example/token",
    )
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert "secret" not in text.replace("client_secret", ""), text
        assert "X-API-Key" in text and "<redacted>" in text
    assert "s3cret" not in repr(OAuth2Client("u", "id", "s3cret"))


def test_credentials_round_trip_and_tolerant_loading() -> None:
    creds = UpstreamCredentials(
        headers={"A": "1"},
        query={"q": "2"},
        api_key="k",
        oauth2_client_id="c",
        oauth2_client_secret="s",
        oauth2_token_url="https://auth.example/token",
        oauth2_scopes=("a", "b"),
        oauth2_client_auth="body",
    )
    assert UpstreamCredentials.from_dict(creds.to_dict()) == creds
    assert UpstreamCredentials.from_dict(None) == UpstreamCredentials()
    assert (
        UpstreamCredentials.from_dict({"headers": None, "future_field": 1, "api_key": ""})
        == UpstreamCredentials()
    )
