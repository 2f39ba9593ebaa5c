"""Signed links of subscribers (confirm, manage): HMAC-SHA256 over purpose, subscriber,
link generation and expiry, with the ``TEC_SIGNING_SECRET``.

Without a configured secret (development only: production refuses to start) a random one
is generated once per process, with a warning: links then die with the process.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import secrets

from services.errors import BadUserInput
from services.settings import Settings

logger = logging.getLogger("tec.signing")

CONFIRM = "confirm"
MANAGE = "manage"  # unsubscribe, preferences, export, erasure
_process_secret: bytes | None = None


def signing_key(settings: Settings) -> bytes:
    """The secret of ``settings``, or this process's generated one (with a warning)."""
    global _process_secret
    if settings.signing_secret:
        return settings.signing_secret.encode()
    if _process_secret is None:
        _process_secret = secrets.token_bytes(32)
        logger.warning(
            "TEC_SIGNING_SECRET is not set: subscription links are signed with a secret "
            "generated for this process only and stop working when it exits. Set it."
        )
    return _process_secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(
    key: bytes, purpose: str, subscriber_id: int, generation: int, *, expires: dt.datetime | None
) -> str:
    """A URL-safe token; ``expires`` None means it does not expire (manage links)."""
    stamp = int(expires.timestamp()) if expires else 0
    payload = f"{purpose}:{subscriber_id}:{generation}:{stamp}".encode()
    mac = hmac.new(key, payload, hashlib.sha256).digest()[:20]
    return f"{_b64(payload)}.{_b64(mac)}"


def verify(key: bytes, token: str, purpose: str, *, now: dt.datetime) -> tuple[int, int]:
    """``(subscriber id, generation)`` of a valid token; ``BAD_USER_INPUT`` otherwise."""
    invalid = BadUserInput("Lien invalide ou expiré.", field="token")
    try:
        raw_payload, raw_mac = token.strip().split(".", 1)
        payload = _unb64(raw_payload)
        mac = _unb64(raw_mac)
        kind, raw_id, raw_generation, raw_stamp = payload.decode().split(":")
        subscriber_id, generation, stamp = int(raw_id), int(raw_generation), int(raw_stamp)
    except (ValueError, UnicodeDecodeError):
        raise invalid from None
    expected = hmac.new(key, payload, hashlib.sha256).digest()[:20]
    if not hmac.compare_digest(mac, expected) or kind != purpose:
        raise invalid
    if stamp and now.timestamp() > stamp:
        raise BadUserInput("Ce lien a expiré : abonnez-vous de nouveau.", field="token")
    return subscriber_id, generation
