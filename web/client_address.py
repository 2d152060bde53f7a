"""The client's address, as every throttle and the audit log read it.

Behind a reverse proxy the socket's peer is the proxy, and every visitor would share one throttle counter. The
address a proxy reports in X-Forwarded-For is believed only when the peer is one of settings.trusted_proxies: the
client is then the last address in the chain (read from the right, the end our own proxies append to) that is
not a trusted proxy. Addresses further left were written by the client itself and could be anything, so they are
never read. With no trusted proxies configured, X-Forwarded-For is ignored altogether.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from aiohttp import web

from web.keys import SETTINGS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


def client_address(request: web.Request) -> str:
    """The address of the client behind this request (at most 64 characters, as the tables keep it)."""
    trusted = trusted_networks(request.app[SETTINGS].trusted_proxies)
    return forwarded_client(request.remote, request.headers.getall("X-Forwarded-For", []), trusted)


def trusted_networks(proxies: Iterable[str]) -> list[IPNetwork]:
    """The configured proxies as networks (a single address is a network of one)."""
    return [ipaddress.ip_network(proxy.strip(), strict=False) for proxy in proxies]


def _parsed(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; one client must have one address.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def forwarded_client(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> str:
    """The client's address from the socket's peer and the X-Forwarded-For header lines, believing only the
    trusted proxies; a malformed entry ends the walk at the proxy that passed it on."""
    current = _parsed(peer or "")
    if current is None:
        return (peer or UNKNOWN)[:64]
    chain = [hop for line in forwarded_for for hop in line.split(",")]
    while any(current in network for network in trusted) and chain:
        previous = _parsed(chain.pop())
        if previous is None:
            break
        current = previous
    return str(current)
