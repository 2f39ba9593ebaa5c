"""Mail transports: one small protocol (``send``, ``close``) and its implementations —
pooled SMTP connections (aiosmtplib), a directory of ``.eml`` files (the embedded default)
and memory (tests).

Failures come out as :class:`TransientFailure` (4xx: retry later), :class:`PermanentFailure`
(5xx: the address is refused) or :class:`ServerUnavailable` (no connection: nothing was
sent, try again later without counting an attempt).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Protocol

import aiosmtplib

from mailer.message import Envelope
from services.settings import MailSettings


class DeliveryError(Exception):
    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientFailure(DeliveryError):
    """The server refused for now (4xx): retry with backoff."""


class PermanentFailure(DeliveryError):
    """The server refused for good (5xx): do not send to this address again."""


class ServerUnavailable(TransientFailure):
    """No SMTP server to talk to (refused, timed out, disconnected)."""


class MailTransport(Protocol):
    """Sends one message; raises a :class:`DeliveryError` when it is not accepted."""

    async def send(self, envelope: Envelope) -> None: ...

    async def close(self) -> None: ...


def _classify(error: aiosmtplib.SMTPException) -> DeliveryError:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        first = error.recipients[0] if error.recipients else None
        code = first.code if first else 550
        message = first.message if first else str(error)
    elif isinstance(error, aiosmtplib.SMTPResponseException):
        code, message = error.code, error.message
    else:
        return ServerUnavailable(str(error) or type(error).__name__)
    text = f"{code} {message}"
    if 400 <= code < 500:
        return TransientFailure(text, code=code)
    if code >= 500:
        return PermanentFailure(text, code=code)
    return TransientFailure(text, code=code)


class SMTPTransport:
    """Up to ``pool_size`` SMTP connections, opened on demand and reused."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str = "",
        password: str = "",
        tls: str = "none",
        timeout: float = 30.0,
        pool_size: int = 4,
    ) -> None:
        self._options = {
            "hostname": host,
            "port": port,
            "timeout": timeout,
            "use_tls": tls == "tls",
            "start_tls": tls == "starttls",
            "username": username or None,
            "password": password or None,
        }
        self._slots = asyncio.Semaphore(pool_size)
        self._idle: list[aiosmtplib.SMTP] = []

    async def _connection(self) -> aiosmtplib.SMTP:
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:
                return client
        client = aiosmtplib.SMTP(**self._options)  # type: ignore[arg-type]
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise ServerUnavailable(f"SMTP unreachable: {error}") from None
        return client

    async def send(self, envelope: Envelope) -> None:
        async with self._slots:
            client = await self._connection()
            try:
                await client.sendmail(envelope.sender, [envelope.recipient], envelope.data)
            except aiosmtplib.SMTPException as error:
                failure = _classify(error)
                if isinstance(failure, ServerUnavailable) or not client.is_connected:
                    with contextlib.suppress(Exception):
                        client.close()
                    raise failure from None
                # A refused message leaves the session usable once reset.
                with contextlib.suppress(aiosmtplib.SMTPException):
                    await client.rset()
                self._idle.append(client)
                raise failure from None
            except (OSError, TimeoutError) as error:
                with contextlib.suppress(Exception):
                    client.close()
                raise ServerUnavailable(f"SMTP connection lost: {error}") from None
            self._idle.append(client)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            with contextlib.suppress(Exception):
                await client.quit()


class DirectoryTransport:
    """Writes each message as ``<Message-ID>.eml`` in a directory (the embedded default:
    no server; a retry overwrites the same file)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, envelope: Envelope) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = envelope.message_id.strip("<>").replace("/", "_") + ".eml"
        path = self.directory / name
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(envelope.data)
        os.replace(tmp, path)

    async def close(self) -> None:
        return None


class MemoryTransport:
    """Keeps messages in a list; ``fail`` maps an address to the error to raise (tests)."""

    def __init__(self) -> None:
        self.sent: list[Envelope] = []
        self.fail: dict[str, DeliveryError] = {}

    async def send(self, envelope: Envelope) -> None:
        error = self.fail.get(envelope.recipient)
        if error is not None:
            raise error
        self.sent.append(envelope)

    async def close(self) -> None:
        return None


def build_transport(settings: MailSettings) -> MailTransport:
    """SMTP when ``TEC_SMTP_HOST`` is set, else ``.eml`` files in ``TEC_MAIL_DIRECTORY``."""
    if settings.smtp_host:
        return SMTPTransport(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            tls=settings.smtp_tls,
            timeout=settings.smtp_timeout,
            pool_size=settings.smtp_pool_size,
        )
    return DirectoryTransport(settings.mail_directory)
