"""Where webhooks may go: http(s) URLs of public addresses only (no SSRF).

A URL is checked when an endpoint is registered, and its host is resolved again at each
delivery: the sender connects to one of the addresses checked here, never to a name
resolved a second time, so a DNS answer that changes between the check and the
connection (DNS rebinding) cannot reach an internal service. ``TEC_WEBHOOKS_ALLOW_PRIVATE``
lifts the address rule (tests, a partner on the same private network).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from services.errors import BadUserInput

URL_MAX = 2000
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(Exception):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse_url(url: str, *, field: str = "url") -> Target:
    """The parts of a webhook URL; ``BAD_USER_INPUT`` unless it is an absolute http(s)
    URL without credentials or fragment."""
    url = url.strip()
    if not url or len(url) > URL_MAX:
        raise BadUserInput(f"Adresse obligatoire (au plus {URL_MAX} caractères).", field=field)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise BadUserInput("Adresse invalide.", field=field) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadUserInput("Seules les adresses http:// et https:// sont acceptées.", field=field)
    if parts.username or parts.password or parts.fragment:
        raise BadUserInput(
            "L'adresse ne doit contenir ni identifiants ni fragment (#).", field=field
        )
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise BadUserInput(
            "L'adresse contient des espaces ou des caractères de contrôle.", field=field
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port or (443 if parts.scheme == "https" else 80),
        path=path,
    )


def is_public(address: IPAddress) -> bool:
    """Whether an address is one the Internet routes to everyone."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_literal(target: Target, *, allow_private: bool, field: str = "url") -> None:
    """Refuse at registration a URL whose host is a non-public IP address or ``localhost``
    (names are resolved at each delivery)."""
    if allow_private:
        return
    host = target.host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        raise BadUserInput("Adresse locale refusée (localhost).", field=field)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if not is_public(address):
        raise BadUserInput(
            f"Adresse IP non publique refusée ({address}) : privée, locale ou réservée.",
            field=field,
        )


async def resolve(target: Target, *, allow_private: bool) -> list[str]:
    """The addresses to connect to for ``target``, all public unless ``allow_private``;
    :class:`RefusedAddress` when any is not (a name that also points inside is refused)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise RefusedAddress(f"nom introuvable : {target.host} ({error})") from None
    found = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not found:
        raise RefusedAddress(f"nom introuvable : {target.host}")
    if not allow_private:
        for text in found:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if not is_public(address):
                raise RefusedAddress(
                    f"{target.host} désigne une adresse non publique ({address}) : refusée"
                )
    return found
