"""The SSRF guard: the address policy as pure functions, then end to end against loopback only.

No test opens a connection to a private, link-local or public address: those are judged by
calling the policy directly; the end-to-end tests use loopback targets the policy refuses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from connectors.http import UpstreamBlockedError
from connectors.openapi.executor import OpenApiExecutor
from connectors.ssrf import (
    LINK_LOCAL,
    LOOPBACK,
    MULTICAST,
    PRIVATE,
    RESERVED,
    SHARED,
    UNIQUE_LOCAL,
    UNSPECIFIED,
    AddressPolicy,
    BlockedAddressError,
    GuardedResolver,
    blocked_category,
    check_url,
)
from tests.connectors.executor_support import (
    FakeResolver,
    RecordingUpstream,
    make_op,
    make_pool,
    running_upstream,
    text_of,
)

NOTHING_ALLOWED = AddressPolicy([])


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


@pytest.mark.parametrize(
    ("address", "category"),
    [
        ("127.0.0.1", LOOPBACK),
        ("127.255.0.9", LOOPBACK),
        ("::1", LOOPBACK),
        ("10.1.2.3", PRIVATE),
        ("172.16.0.1", PRIVATE),
        ("172.31.255.255", PRIVATE),
        ("192.168.1.1", PRIVATE),
        ("100.64.0.1", SHARED),
        ("100.127.255.254", SHARED),
        ("169.254.169.254", LINK_LOCAL),
        ("fe80::1", LINK_LOCAL),
        ("fe80::1%eth0", LINK_LOCAL),
        ("fd00:ec2::254", UNIQUE_LOCAL),
        ("fc00::1", UNIQUE_LOCAL),
        ("224.0.0.1", MULTICAST),
        ("ff02::1", MULTICAST),
        ("0.0.0.0", UNSPECIFIED),
        ("::", UNSPECIFIED),
        ("0.1.2.3", RESERVED),
        ("240.0.0.1", RESERVED),
        ("255.255.255.255", RESERVED),
        ("192.0.2.1", RESERVED),
        ("198.18.0.1", RESERVED),
        ("2001:db8::1", RESERVED),
        ("2001::1", RESERVED),  # Teredo
        ("::ffff:127.0.0.1", LOOPBACK),  # IPv4-mapped forms are judged by their IPv4 address
        ("::ffff:169.254.169.254", LINK_LOCAL),
        ("::ffff:10.0.0.1", PRIVATE),
        ("64:ff9b::a9fe:a9fe", LINK_LOCAL),  # NAT64 of 169.254.169.254
        ("64:ff9b::7f00:1", LOOPBACK),
        ("2002:a9fe:a9fe::1", LINK_LOCAL),  # 6to4 of 169.254.169.254
        ("2002:c0a8:101::1", PRIVATE),  # 6to4 of 192.168.1.1
        ("::127.0.0.1", RESERVED),  # deprecated IPv4-compatible
        ("64:ff9b:1::1", PRIVATE),
    ],
)
def test_non_public_addresses_are_classified(address: str, category: str) -> None:
    found = blocked_category(ip(address))
    assert found is not None and found[0] == category
    assert not NOTHING_ALLOWED.allows(ip(address))


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "100.63.255.255",
        "100.128.0.0",
        "172.32.0.1",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert blocked_category(ip(address)) is None
    assert NOTHING_ALLOWED.allows(ip(address))


def test_allow_entries_by_ip_cidr_and_hostname() -> None:
    policy = AddressPolicy(["10.0.0.0/8", "192.168.1.5", "Internal.Example.", "[fd00::1]"])
    assert policy.allows(ip("10.9.9.9"))
    assert policy.allows(ip("::ffff:10.9.9.9"))  # the mapped form of an allowed address
    assert policy.allows(ip("192.168.1.5")) and not policy.allows(ip("192.168.1.6"))
    assert policy.allows(ip("fd00::1")) and not policy.allows(ip("fd00::2"))
    # a host name allow covers whatever private address that name resolves to ...
    assert policy.allows(ip("172.16.0.9"), "internal.example")
    assert policy.allows(ip("127.0.0.1"), "INTERNAL.example.")
    assert not policy.allows(ip("172.16.0.9"), "other.example")
    # ... but never link-local (cloud metadata), multicast or unspecified
    assert not policy.allows(ip("169.254.169.254"), "internal.example")
    assert not policy.allows(ip("fe80::1"), "internal.example")
    assert not policy.allows(ip("0.0.0.0"), "internal.example")


def test_link_local_needs_an_explicit_ip_allow() -> None:
    assert AddressPolicy(["169.254.169.254"]).allows(ip("169.254.169.254"))
    assert AddressPolicy(["169.254.0.0/16"]).allows(ip("::ffff:169.254.1.1"))
    assert not AddressPolicy(["169.254.0.0/16"]).allows(ip("fe80::1"))
    assert not AddressPolicy(["0.0.0.0/0", "::/0"]).allows(ip("0.0.0.0"))  # unspecified: never


def test_check_host_literal() -> None:
    for host in [
        "127.0.0.1",
        "[::1]",
        "169.254.169.254",
        "localhost",
        "LOCALHOST.",
        "api.localhost",
        "127.1",
        "2130706433",
        "0x7f.0.0.1",
        "[::ffff:127.0.0.1]",
    ]:
        with pytest.raises(BlockedAddressError):
            NOTHING_ALLOWED.check_host_literal(host)
    NOTHING_ALLOWED.check_host_literal("api.example.com")  # names are judged when they resolve
    NOTHING_ALLOWED.check_host_literal("8.8.8.8")
    AddressPolicy(["127.0.0.1"]).check_host_literal("localhost")
    AddressPolicy(["localhost"]).check_host_literal("localhost")


def test_check_url() -> None:
    check_url("https://api.example.com/v1")
    check_url("http://127.0.0.1:8080/")  # only the form: addresses are the policy's job
    for bad in [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "http:///nohost",
        "//example.com",
        "gopher://x",
        "http://example.com:99999/",
    ]:
        with pytest.raises(BlockedAddressError):
            check_url(bad)


async def test_guarded_resolver_filters_answers() -> None:
    inner = FakeResolver(
        {
            "mixed.test": ["169.254.169.254", "93.184.216.34"],
            "metadata.test": ["169.254.169.254"],
            "internal.test": ["10.0.0.5", "fe80::1"],
        }
    )
    resolver = GuardedResolver(AddressPolicy(["internal.test"]), inner)
    assert [r["host"] for r in await resolver.resolve("mixed.test", 80)] == ["93.184.216.34"]
    assert [r["host"] for r in await resolver.resolve("internal.test", 80)] == ["10.0.0.5"]
    with pytest.raises(BlockedAddressError, match=r"metadata\.test"):
        await resolver.resolve("metadata.test", 80)


# ---------------------------------------------------------------------------------------------
# end to end, loopback only


@pytest.fixture(scope="module")
async def upstream() -> AsyncIterator[RecordingUpstream]:
    async with running_upstream() as running:
        yield running


async def test_loopback_blocked_when_not_allowed(upstream: RecordingUpstream) -> None:
    pool = make_pool(NOTHING_ALLOWED)
    executor = OpenApiExecutor(pool, max_response_bytes=1000)
    try:
        for base in (
            upstream.url,
            f"http://localhost:{upstream.port}",
            f"http://[::ffff:127.0.0.1]:{upstream.port}",
        ):
            before = len(upstream.seen)
            result = await executor.call(make_op(base), {})
            assert result["isError"]
            assert "blocked by the hub's network policy" in text_of(result)
            assert len(upstream.seen) == before
        with pytest.raises(UpstreamBlockedError):
            await pool.fetch_bytes(f"{upstream.url}/spec.json", max_bytes=1000)
    finally:
        await pool.aclose()


async def test_resolved_names_are_checked_at_connect_time(upstream: RecordingUpstream) -> None:
    """A name resolving to loopback (as in DNS rebinding) is refused by the resolver guard."""
    names = FakeResolver({"rebind.test": ["127.0.0.1"]})
    blocked = make_pool(NOTHING_ALLOWED, resolver=names)
    allowed = make_pool(AddressPolicy(["rebind.test"]), resolver=names)
    try:
        before = len(upstream.seen)
        refused = await OpenApiExecutor(blocked, max_response_bytes=1000).call(
            make_op(f"http://rebind.test:{upstream.port}"), {}
        )
        assert refused["isError"] and "rebind.test" in text_of(refused) and "blocked" in text_of(refused)
        assert len(upstream.seen) == before and names.asked == ["rebind.test"]
        ok = await OpenApiExecutor(allowed, max_response_bytes=1000).call(
            make_op(f"http://rebind.test:{upstream.port}"), {}
        )
        assert not ok["isError"], ok
        assert upstream.last().headers["Host"] == f"rebind.test:{upstream.port}"
    finally:
        await blocked.aclose()
        await allowed.aclose()


async def test_redirect_to_a_blocked_address_is_refused(upstream: RecordingUpstream) -> None:
    pool = make_pool(AddressPolicy(["127.0.0.1/32"]))
    executor = OpenApiExecutor(pool, max_response_bytes=1000)

    @upstream.route("/to-other-loopback")
    async def redirect(_r: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://[::1]:{upstream.port}/secret")

    try:
        result = await executor.call(make_op(upstream.url, path="/to-other-loopback"), {})
        assert result["isError"] and "::1" in text_of(result) and "blocked" in text_of(result)
        assert upstream.last().path == "/to-other-loopback"
        with pytest.raises(UpstreamBlockedError):
            await pool.fetch_bytes(f"{upstream.url}/to-other-loopback", max_bytes=1000)
    finally:
        await pool.aclose()
