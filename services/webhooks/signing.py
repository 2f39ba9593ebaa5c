"""Standard Webhooks signatures (symmetric, ``v1``).

The secret is shown as ``whsec_`` + base64 of its random bytes; each delivery carries
``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``: ``v1,`` +
base64 of HMAC-SHA256(secret bytes, ``"{id}.{timestamp}.{body}"``), one per secret in
use, space-separated (a rotated secret keeps signing beside the new one for a while, so
receivers can switch without losing a message).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64


def generate_secret() -> str:
    """A new endpoint secret, ``whsec_`` + base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(PREFIX)
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def sign(secret: str, msg_id: str, timestamp: int, body: str | bytes) -> str:
    """``v1,<base64 signature>`` of one message."""
    payload = body.encode() if isinstance(body, str) else body
    content = f"{msg_id}.{timestamp}.".encode() + payload
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(
    secrets_in_use: Iterable[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets_in_use),
    }


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """True when one of the ``v1`` signatures is ``secret``'s (constant-time comparison;
    the timestamp's tolerance is the receiver's business)."""
    found = {k.lower(): v for k, v in headers.items()}
    msg_id, timestamp = found.get("webhook-id", ""), found.get("webhook-timestamp", "")
    if not msg_id or not timestamp.isdigit():
        return False
    expected = sign(secret, msg_id, int(timestamp), body)
    return any(
        hmac.compare_digest(expected, candidate)
        for candidate in found.get("webhook-signature", "").split(" ")
        if candidate.startswith("v1,")
    )
