"""Signed links of subscribers (confirm, manage): HMAC-SHA256 over purpose, subject, link
generation and expiry.

The secrets come from ``TEC_SIGNING_SECRET``, a comma-separated list: the first signs, every
one verifies, so a new secret is put first and the old one removed once the links it
signed may go (rotation). Without it (development only: production refuses to start) one
secret is generated the first time it is needed and kept in ``TEC_SIGNING_SECRET_FILE``, so
the server, the CLI and the mailer started in the same directory sign and verify alike.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from services.errors import BadUserInput
from services.settings import Settings

logger = logging.getLogger("tec.signing")

CONFIRM = "confirm"  # the subject is a subscription request
MANAGE = "manage"  # the subject is a subscriber: unsubscribe, preferences, export, erasure
_MAC_BYTES = 20
# Development secrets read or written by this process, by absolute file path.
_kept: dict[Path, bytes] = {}


@dataclass(frozen=True)
class SigningKeys:
    """The secrets of the links: ``keys[0]`` signs, each of ``keys`` verifies."""

    keys: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.keys or not all(self.keys):
            raise ValueError("at least one non-empty signing secret is needed")

    @classmethod
    def of(cls, *secrets_: str | bytes) -> SigningKeys:
        return cls(tuple(s.encode() if isinstance(s, str) else s for s in secrets_))

    @property
    def signer(self) -> bytes:
        return self.keys[0]


def signing_keys(settings: Settings) -> SigningKeys:
    """The secrets of ``settings``; without any, the development secret of
    ``settings.security.signing_secret_file`` (created on first use)."""
    if settings.security.signing_secret:
        return SigningKeys.of(*settings.security.signing_secret)
    if settings.security.environment == "production":
        raise RuntimeError("TEC_SIGNING_SECRET is required in production")
    return SigningKeys((_development_secret(settings.security.signing_secret_file),))


def _development_secret(path: Path) -> bytes:
    path = path.absolute()
    found = _kept.get(path)
    if found is None:
        found = _kept[path] = _read_or_create(path)
        logger.warning(
            "TEC_SIGNING_SECRET is not set: subscription links are signed with the development "
            "secret of %s. Set TEC_SIGNING_SECRET whenever mail leaves this machine.",
            path,
        )
    return found


def _read_or_create(path: Path) -> bytes:
    """The secret in ``path``, written first if missing. The new secret goes to a private
    temporary file that is then hard-linked to ``path``: linking fails when the name exists,
    so of two processes starting at once one writes and both read the same complete file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(secrets.token_hex(32) + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        finally:
            temporary.unlink(missing_ok=True)
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < 32:
        raise RuntimeError(
            f"{path} holds no usable signing secret (32 characters or more): delete it to "
            "generate a new one, or set TEC_SIGNING_SECRET"
        )
    return secret.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def sign(
    keys: SigningKeys,
    purpose: str,
    subject_id: int,
    generation: int,
    *,
    expires: dt.datetime | None,
) -> str:
    """A URL-safe token signed with the first secret; ``expires`` None means it does not
    expire (manage links)."""
    stamp = int(expires.timestamp()) if expires else 0
    payload = f"{purpose}:{subject_id}:{generation}:{stamp}".encode()
    return f"{_b64(payload)}.{_b64(_mac(keys.signer, payload))}"


def verify(keys: SigningKeys, token: str, purpose: str, *, now: dt.datetime) -> tuple[int, int]:
    """``(subject id, generation)`` of a token signed with any of ``keys``;
    ``BAD_USER_INPUT`` otherwise."""
    invalid = BadUserInput("Lien invalide ou expiré.", field="token")
    try:
        raw_payload, raw_mac = token.strip().split(".", 1)
        payload = _unb64(raw_payload)
        mac = _unb64(raw_mac)
        kind, raw_id, raw_generation, raw_stamp = payload.decode().split(":")
        subject_id, generation, stamp = int(raw_id), int(raw_generation), int(raw_stamp)
    except (ValueError, UnicodeDecodeError):
        raise invalid from None
    # Every key is tried (no early exit), so timing does not tell which one matched.
    matched = [hmac.compare_digest(mac, _mac(key, payload)) for key in keys.keys]
    if not any(matched) or kind != purpose:
        raise invalid
    if stamp and now.timestamp() > stamp:
        raise BadUserInput("Ce lien a expiré : abonnez-vous de nouveau.", field="token")
    return subject_id, generation
