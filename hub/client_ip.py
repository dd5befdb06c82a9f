"""The address a request came from, as rate limits and audit entries need it.

Behind a reverse proxy every request comes from the proxy, so the client's own
address is the last one the trusted proxies added to ``X-Forwarded-For``. The
header is read only when the peer is a configured trusted proxy; anyone else
could write whatever address they liked into it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(items: Iterable[str]) -> tuple[Network, ...]:
    """``server.trusted_proxies`` as networks (validated by the config already)."""
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def within(address: str, networks: tuple[Network, ...]) -> bool:
    """Whether ``address`` lies in one of ``networks``; False for anything not an address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: web.BaseRequest, proxies: tuple[Network, ...]) -> str:
    """The client's address: the peer, or the nearest untrusted hop of X-Forwarded-For."""
    peer = request.remote or ""
    if not proxies or not within(peer, proxies):
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getall("X-Forwarded-For", [])
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not within(hop, proxies):
            return hop
    return hops[0] if hops else peer
