"""Sending one webhook: a small protocol (``post``) and its implementation on asyncio
streams.

The implementation resolves the host itself, checks every address
(:mod:`services.webhooks.addresses`) and connects to a checked address — TLS still
verifies the certificate against the URL's host name. It follows no redirect (a 3xx is a
failure: the partner updates its URL) and reads at most ``max_response_bytes`` of the
answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from typing import Protocol

from services.webhooks.addresses import RefusedAddress, parse_url, resolve

USER_AGENT = "TerritoiresEnCommun-Webhooks/1"


@dataclass(frozen=True)
class Response:
    status: int
    body: str


class TransportError(Exception):
    """No answer: refused address, connection failure, timeout, malformed response."""


class WebhookTransport(Protocol):
    async def post(
        self, url: str, *, headers: dict[str, str], body: bytes, timeout: float
    ) -> Response: ...


class StreamTransport:
    """HTTP/1.1 POST over a fresh connection per delivery (``Connection: close``)."""

    def __init__(
        self,
        *,
        allow_private: bool,
        max_response_bytes: int = 4096,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.max_response_bytes = max_response_bytes
        # The system's trusted authorities; tests pass a context trusting their own.
        self._tls = tls or ssl.create_default_context()

    async def post(
        self, url: str, *, headers: dict[str, str], body: bytes, timeout: float
    ) -> Response:
        try:
            async with asyncio.timeout(timeout):
                return await self._post(url, headers=headers, body=body)
        except TimeoutError:
            raise TransportError(f"pas de réponse en {timeout:g} s (délai dépassé)") from None
        except RefusedAddress as error:
            raise TransportError(str(error)) from None
        except (OSError, ssl.SSLError, ValueError) as error:
            raise TransportError(f"{type(error).__name__}: {error}") from None

    async def _post(self, url: str, *, headers: dict[str, str], body: bytes) -> Response:
        target = parse_url(url)
        addresses = await resolve(target, allow_private=self.allow_private)
        tls = self._tls if target.scheme == "https" else None
        last: OSError | None = None
        for address in addresses:
            try:
                reader, writer = await asyncio.open_connection(
                    address, target.port, ssl=tls, server_hostname=target.host if tls else None
                )
                break
            except OSError as error:
                last = error
        else:
            raise last or OSError("no address")
        try:
            host = f"[{target.host}]" if ":" in target.host else target.host
            default_port = 443 if target.scheme == "https" else 80
            if target.port != default_port:
                host += f":{target.port}"
            lines = [
                f"POST {target.path} HTTP/1.1",
                f"Host: {host}",
                f"User-Agent: {USER_AGENT}",
                "Content-Type: application/json",
                f"Content-Length: {len(body)}",
                "Connection: close",
                *(f"{name}: {value}" for name, value in headers.items()),
            ]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            return await self._read(reader)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read(self, reader: asyncio.StreamReader) -> Response:
        status_line = await reader.readline()
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ValueError(f"réponse HTTP illisible : {status_line[:80]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        limit = self.max_response_bytes
        if headers.get("transfer-encoding", "").lower() == "chunked":
            data = await self._chunks(reader, limit)
        elif "content-length" in headers and headers["content-length"].isdigit():
            data = await reader.read(min(int(headers["content-length"]), limit))
        else:
            data = await reader.read(limit)
        return Response(status, data[:limit].decode("utf-8", "replace"))

    async def _chunks(self, reader: asyncio.StreamReader, limit: int) -> bytes:
        data = b""
        while len(data) < limit:
            size_line = await reader.readline()
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                break
            data += await reader.readexactly(size)
            await reader.readline()
        return data
