"""A refusal: what a guard answers instead of running an operation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Refusal(Exception):
    """An operation or request refused by a guard, with its code and French message.

    ``status`` is the HTTP status to answer with; ``None`` marks a GraphQL request error
    (a document that does not parse, is not allowed, or is over a limit), answered with
    200 under ``application/json`` and 400 under ``application/graphql-response+json``.
    ``step`` names the guard that refused (:data:`gateway.guards.STEPS`)."""

    code: str
    message: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    step: str = ""
    extensions: dict[str, Any] = field(default_factory=dict)

    def error(self) -> dict[str, Any]:
        """The refusal as one GraphQL error object."""
        return {"message": self.message, "extensions": {**self.extensions, "code": self.code}}


def unavailable() -> Refusal:
    """The refusal while the database cannot be reached: retry in a few seconds."""
    return Refusal(
        "SERVICE_UNAVAILABLE",
        "Service momentanément indisponible : réessayez dans quelques secondes.",
        status=503,
        headers={"Retry-After": "5"},
    )
