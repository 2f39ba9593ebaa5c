"""The client's address behind trusted proxies.

A proxy appends the address it received the request from to ``X-Forwarded-For``, so the
header reads ``client, proxy1, proxy2`` and only its right-hand part can be believed:
everything left of the first hop we do not trust may have been written by the client.
The client is therefore the right-most untrusted hop, as uvicorn's
``ProxyHeadersMiddleware`` does with ``--forwarded-allow-ips``. When the peer itself is
not a trusted proxy, the header is ignored and the peer is the client.

The middleware writes the result into ``scope["client"]``, so everything below it —
rate limits, consent proofs, logs — reads one address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_MAX_HOPS = 32


def parse_networks(entries: Iterable[str]) -> list[_Network]:
    """``["10.0.0.0/8", "127.0.0.1"]`` → networks; raises ``ValueError`` on a bad entry."""
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()]


class TrustedProxies:
    """Which peers may tell us who the client is."""

    def __init__(self, networks: Sequence[_Network]) -> None:
        self.networks = tuple(networks)

    def trusts(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: Sequence[str]) -> str:
        """The client address for a request from ``peer`` carrying ``forwarded_for``."""
        if not self.networks or not self.trusts(peer):
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        hops = [hop for hop in hops if hop][-_MAX_HOPS:]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return _normalise(hop)
        # Every hop is a proxy of ours: the left-most one is the closest to the client.
        return _normalise(hops[0]) if hops else peer


def _normalise(hop: str) -> str:
    try:
        return str(ipaddress.ip_address(hop))
    except ValueError:
        return hop[:64]  # not an address: still the client's own words, kept short


class ClientAddressMiddleware:
    """Sets ``scope["client"]`` to the client's address as :class:`TrustedProxies` sees it."""

    def __init__(self, app: ASGIApp, *, proxies: TrustedProxies) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.proxies.networks:
            peer = (scope.get("client") or ("", 0))[0]
            forwarded = [
                value.decode("latin-1")
                for name, value in scope.get("headers", ())
                if name == b"x-forwarded-for"
            ]
            if forwarded:
                scope = dict(scope)
                scope["client"] = (self.proxies.client(peer, forwarded), 0)
        await self.app(scope, receive, send)
