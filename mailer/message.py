"""Building messages: headers checked against injection, MIME assembled by hand once per
issue so that each recipient costs two substitutions and a base64 encoding.

Every message of an issue has a stable Message-ID per (issue, subscriber): a retry or a
resend after a crash carries the same one, so receiving systems can drop duplicates. Every
message is list mail (issues, test sends, confirmations): it carries ``List-Id`` and, when
it has one, the RFC 8058 one-click ``List-Unsubscribe``.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import re
import time
from dataclasses import dataclass
from email.header import Header

from services.accounts.service import normalize_email
from services.errors import BadUserInput

_CRLF = re.compile(r"[\r\n\x00]")
LIST_NAME = "Territoires en Commun"


class HeaderInjection(BadUserInput):
    """A header value holds CR, LF or NUL: refused, never cleaned up silently."""


def check_header(value: str, *, field: str) -> str:
    if _CRLF.search(value):
        raise HeaderInjection(
            f"« {field} » contient un retour à la ligne : refusé (injection d'en-tête).",
            field=field,
        )
    return value


def encode_header(value: str, *, field: str) -> str:
    """A header value, RFC 2047-encoded when not plain ASCII."""
    check_header(value, field=field)
    if value.isascii():
        return value
    return Header(value, "utf-8").encode()


def format_address(name: str, address: str, *, field: str) -> str:
    """``Name <address>`` with the name encoded and both checked."""
    check_header(name, field=field)
    check_header(address, field=field)
    address = normalize_email(address)
    return email.utils.formataddr((name, address), charset="utf-8")


def parse_sender(value: str) -> tuple[str, str]:
    """``(display name, address)`` of TEC_MAIL_FROM, checked."""
    check_header(value, field="TEC_MAIL_FROM")
    name, address = email.utils.parseaddr(value)
    return name, normalize_email(address)


def message_id(issue_id: int | str, subscriber_id: int | str, domain: str) -> str:
    return f"<newsletter-{issue_id}.{subscriber_id}@{domain}>"


def list_id(name: str, domain: str) -> str:
    """RFC 2919 ``List-Id`` of the newsletter sent from ``domain``."""
    return f"{name} <newsletter.{domain}>"


def _b64(text: str) -> bytes:
    # b64encode + slicing is faster than encodebytes (a Python loop over 57-byte chunks).
    encoded = base64.b64encode(text.encode("utf-8"))
    return b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + b"\r\n"


@dataclass(frozen=True)
class Envelope:
    """What a transport sends: SMTP envelope and the raw message."""

    sender: str
    recipient: str
    data: bytes
    message_id: str


class MessageFactory:
    """Headers common to all messages of an issue, prepared once."""

    def __init__(
        self, *, sender: str, subject: str, domain_key: str, list_name: str = LIST_NAME
    ) -> None:
        name, address = parse_sender(sender)
        self.envelope_from = address
        self.domain = address.rsplit("@", 1)[1]
        self.domain_key = domain_key
        self.boundary = f"=_tec_{domain_key}_{int(time.time())}"
        common = [
            f"From: {format_address(name, address, field='from')}",
            f"Subject: {encode_header(subject, field='subject')}",
            "MIME-Version: 1.0",
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"',
            "Auto-Submitted: auto-generated",
            f"List-Id: {encode_header(list_id(list_name, self.domain), field='list_id')}",
        ]
        self.common = "\r\n".join(common).encode()
        self._date_second = 0
        self._date = b""

    def _now_header(self) -> bytes:
        second = int(time.time())
        if second != self._date_second:
            self._date_second = second
            moment = dt.datetime.fromtimestamp(second, dt.UTC)
            self._date = f"Date: {email.utils.format_datetime(moment)}".encode()
        return self._date

    def build(
        self,
        *,
        to_name: str,
        to_address: str,
        subscriber_key: int | str,
        html: str,
        text: str,
        unsubscribe_url: str | None = None,
    ) -> Envelope:
        """One recipient's message (multipart/alternative: text then HTML)."""
        mid = message_id(self.domain_key, subscriber_key, self.domain)
        lines = [
            self.common,
            self._now_header(),
            f"To: {format_address(to_name, to_address, field='to')}".encode(),
            f"Message-ID: {mid}".encode(),
        ]
        if unsubscribe_url:
            check_header(unsubscribe_url, field="unsubscribe_url")
            lines.append(f"List-Unsubscribe: <{unsubscribe_url}>".encode())
            lines.append(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        b = self.boundary.encode()
        data = b"".join(
            (
                b"\r\n".join(lines),
                b"\r\n\r\n--",
                b,
                b"\r\nContent-Type: text/plain; charset=utf-8\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n",
                _b64(text),
                b"\r\n--",
                b,
                b"\r\nContent-Type: text/html; charset=utf-8\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n",
                _b64(html),
                b"\r\n--",
                b,
                b"--\r\n",
            )
        )
        return Envelope(self.envelope_from, to_address, data, mid)
