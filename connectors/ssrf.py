"""SSRF guard: which addresses the hub may open upstream connections to.

The policy is applied where it cannot be bypassed: `GuardedResolver` filters the addresses a
host name resolves to at connect time, so DNS rebinding and redirects to other hosts are
checked on every new connection. IP-literal hosts never reach a resolver (aiohttp skips it), so
the upstream pool checks them with `AddressPolicy.check_host_literal` before it connects.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK = "loopback"
PRIVATE = "private"
SHARED = "shared address space (CGNAT)"
LINK_LOCAL = "link-local"
UNIQUE_LOCAL = "unique local"
MULTICAST = "multicast"
RESERVED = "reserved"
UNSPECIFIED = "unspecified"

# Never useful as a TCP upstream, and 0.0.0.0/:: reach the local host: no allow entry unblocks them.
_NEVER_ALLOWED = frozenset({UNSPECIFIED, MULTICAST})
_EMBEDDED = "embedded"  # marker: the IPv6 address carries an IPv4 address that decides


def _table(rows: Iterable[tuple[str, str]]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(net), category) for net, category in rows)


# First match wins, so more specific networks come first.
_V4_TABLE = _table(
    [
        ("0.0.0.0/32", UNSPECIFIED),
        ("0.0.0.0/8", RESERVED),  # "this network"
        ("10.0.0.0/8", PRIVATE),
        ("100.64.0.0/10", SHARED),
        ("127.0.0.0/8", LOOPBACK),
        ("169.254.0.0/16", LINK_LOCAL),  # cloud metadata (169.254.169.254) lives here
        ("172.16.0.0/12", PRIVATE),
        ("192.0.0.0/24", RESERVED),  # IETF protocol assignments
        ("192.0.2.0/24", RESERVED),  # documentation
        ("192.88.99.0/24", RESERVED),  # deprecated 6to4 relay anycast
        ("192.168.0.0/16", PRIVATE),
        ("198.18.0.0/15", RESERVED),  # benchmarking
        ("198.51.100.0/24", RESERVED),  # documentation
        ("203.0.113.0/24", RESERVED),  # documentation
        ("224.0.0.0/4", MULTICAST),
        ("240.0.0.0/4", RESERVED),  # future use and broadcast
    ]
)

_V6_TABLE = _table(
    [
        ("::/128", UNSPECIFIED),
        ("::1/128", LOOPBACK),
        ("::ffff:0:0/96", _EMBEDDED),  # IPv4-mapped
        ("::/96", RESERVED),  # deprecated IPv4-compatible
        ("64:ff9b::/96", _EMBEDDED),  # NAT64 well-known prefix
        ("64:ff9b:1::/48", PRIVATE),  # local-use NAT64
        ("100::/64", RESERVED),  # discard-only
        ("2001::/23", RESERVED),  # IETF protocol assignments, Teredo
        ("2001:db8::/32", RESERVED),  # documentation
        ("2002::/16", _EMBEDDED),  # 6to4
        ("3fff::/20", RESERVED),  # documentation
        ("5f00::/16", RESERVED),  # SRv6 SIDs
        ("fc00::/7", UNIQUE_LOCAL),
        ("fe80::/10", LINK_LOCAL),
        ("fec0::/10", PRIVATE),  # deprecated site-local
        ("ff00::/8", MULTICAST),
    ]
)
_V6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


class BlockedAddressError(OSError):
    """A URL or address the hub refuses to connect to.

    An OSError so aiohttp treats a refusal from the resolver like a failed lookup (it wraps it in
    ClientConnectorDNSError, whose `os_error` is this exception).
    """


def parse_ip(text: str) -> IPAddress | None:
    """The IP address `text` spells (brackets and IPv6 zone allowed), or None for a host name."""
    text = text.strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def blocked_category(ip: IPAddress) -> tuple[str, IPAddress] | None:
    """Why `ip` is not a public unicast address, and the address that decided it; None if public.

    IPv4-mapped, NAT64 and 6to4 addresses are judged by the IPv4 address they carry.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(ip.packed)  # the zone does not change the category
        for net, category in _V6_TABLE:
            if ip in net:
                if category == _EMBEDDED:
                    return _v4_category(_embedded_v4(ip))
                return category, ip
        return None if ip in _V6_GLOBAL_UNICAST else (RESERVED, ip)
    return _v4_category(ip)


def _v4_category(ip: ipaddress.IPv4Address) -> tuple[str, IPAddress] | None:
    for net, category in _V4_TABLE:
        if ip in net:
            return category, ip
    return None


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    if ip.sixtofour is not None:
        return ip.sixtofour
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)  # mapped and NAT64: the last 32 bits


def normalize_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


class AddressPolicy:
    """Which non-public addresses the operator allows (`network.allow_private`).

    Public unicast addresses are always allowed. Loopback, private, CGNAT, unique-local and
    reserved addresses are allowed when an allow entry covers them: a host name (exact,
    case-insensitive) the connection was made to, or an IP/CIDR containing the address.
    Link-local addresses (cloud metadata) need an IP/CIDR entry: a host name is not enough,
    because a name the operator trusts may still be re-pointed at 169.254.169.254.
    Unspecified and multicast addresses are never allowed.
    """

    __slots__ = ("_hostnames", "_networks")

    def __init__(self, allow: Sequence[str] = ()) -> None:
        networks: list[IPNetwork] = []
        hostnames: set[str] = set()
        for entry in allow:
            text = normalize_host(entry)
            if not text:
                continue
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                hostnames.add(text)
        self._networks = tuple(networks)
        self._hostnames = frozenset(hostnames)

    def __repr__(self) -> str:
        allowed = [str(n) for n in self._networks] + sorted(self._hostnames)
        return f"AddressPolicy(allow={allowed!r})"

    def allows(self, ip: IPAddress, host: str | None = None) -> bool:
        """May a connection made to `host` go to `ip`?"""
        return self.refusal(ip, host) is None

    def refusal(self, ip: IPAddress, host: str | None = None) -> str | None:
        """Why `ip` is refused (its category), or None when it is allowed."""
        found = blocked_category(ip)
        if found is None:
            return None
        category, decided = found
        if category in _NEVER_ALLOWED:
            return category
        if self._covers(ip) or self._covers(decided):
            return None
        if category != LINK_LOCAL and host is not None and normalize_host(host) in self._hostnames:
            return None
        return category

    def check_address(self, ip: IPAddress, host: str | None = None) -> None:
        category = self.refusal(ip, host)
        if category is not None:
            raise BlockedAddressError(_blocked_message(host or str(ip), ip, category))

    def check_host_literal(self, host: str) -> None:
        """Check what can be judged without DNS: IP literals and `localhost` names.

        Host names are judged again, address by address, when the connection is made.
        """
        name = normalize_host(host)
        ip = parse_ip(name)
        if ip is not None:
            self.check_address(ip)
        elif _is_legacy_ipv4(name):
            raise BlockedAddressError(f"refusing non-canonical IPv4 address {host!r}")
        elif (name == "localhost" or name.endswith(".localhost")) and not self._allows_localhost(name):
            raise BlockedAddressError(_blocked_message(host, None, LOOPBACK))

    def _allows_localhost(self, name: str) -> bool:
        if name in self._hostnames:
            return True
        return self._covers(ipaddress.IPv4Address("127.0.0.1")) or self._covers(ipaddress.IPv6Address("::1"))

    def _covers(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self._networks)


def _blocked_message(host: str, ip: IPAddress | None, category: str) -> str:
    where = f"{host} ({ip})" if ip is not None and host != str(ip) else host
    return (
        f"refusing to connect to {where}: {category} addresses are blocked by the hub's network policy "
        "(network.allow_private)"
    )


def _is_legacy_ipv4(name: str) -> bool:
    """Forms like 127.1, 2130706433 or 0x7f.0.0.1 that C resolvers read as IPv4 addresses."""
    if not name or not all(c in "0123456789abcdefx." for c in name):
        return False
    try:
        socket.inet_aton(name)
    except OSError:
        return False
    return True


def check_url(url: str) -> None:
    """Refuse URLs that are not absolute http(s) URLs with a host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise BlockedAddressError(f"invalid URL {url!r}: {exc}") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise BlockedAddressError(f"refusing URL {url!r}: only http and https URLs are allowed")
    if not host:
        raise BlockedAddressError(f"refusing URL {url!r}: it has no host")


class GuardedResolver(AbstractResolver):
    """Resolves with the default resolver, then drops every address the policy refuses.

    aiohttp resolves (or reads its short DNS cache of already-filtered answers) for every new
    connection, so this also covers DNS rebinding and redirects to other host names.
    """

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed: list[ResolveResult] = []
        refused: list[str] = []
        for result in results:
            ip = parse_ip(result["host"])
            reason = "unparsable address" if ip is None else self._policy.refusal(ip, host)
            if reason is None:
                allowed.append(result)
            else:
                refused.append(f"{result['host']}: {reason}")
        if not allowed:
            raise BlockedAddressError(
                f"refusing to connect to {host}: it resolves only to blocked addresses "
                f"({', '.join(refused) or 'none'}); see network.allow_private"
            )
        return allowed

    async def close(self) -> None:
        await self._inner.close()
