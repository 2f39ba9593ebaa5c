"""Who is calling: the ``Authorization: Bearer …`` header turned into a viewer."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from services.accounts.service import resolve_bearer
from services.errors import Unauthenticated
from services.viewer import ANONYMOUS, Viewer


def bearer_secret(connection: HTTPConnection) -> str | None:
    """The secret of an ``Authorization: Bearer`` header, if one was sent."""
    header = connection.headers.get("authorization")
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("En-tête Authorization attendu sous la forme « Bearer <jeton> ».")
    return secret.strip()


async def viewer_for(connection: HTTPConnection) -> Viewer:
    """The viewer of a request: anonymous without a header; ``UNAUTHENTICATED`` when the
    header carries an unknown, revoked or expired secret (never silently anonymous)."""
    secret = bearer_secret(connection)
    if secret is None:
        return ANONYMOUS
    return await resolve_bearer(secret)
