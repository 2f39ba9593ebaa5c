"""One place where failures become top-level GraphQL errors with a machine code.

A mutation's expected refusals never get here: they are its payload's user errors
(:mod:`schema.payloads`). Domain errors that do — authentication, authorisation, rate
limits, unavailability, and any refusal of a query — keep their message and code;
GraphQL syntax and validation errors get ``GRAPHQL_PARSE_FAILED`` /
``GRAPHQL_VALIDATION_FAILED``; anything unexpected is logged with its stack trace and
reaches the client as ``INTERNAL_SERVER_ERROR`` without detail.
"""

from __future__ import annotations

import logging

from graphql import GraphQLError

from services import db
from services.errors import DomainError

logger = logging.getLogger("tec.graphql")

_GENERIC = "Erreur interne : l'incident a été enregistré, réessayez plus tard."
UNAVAILABLE = "Service momentanément indisponible : réessayez dans quelques secondes."


def error_code(error: GraphQLError) -> str:
    """The machine code the client will see for ``error`` (no logging, no copy)."""
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code
    if original is None:
        code = (error.extensions or {}).get("code")
        if code:
            return str(code)
        if error.message.startswith("Syntax Error"):
            return "GRAPHQL_PARSE_FAILED"
        if error.message.startswith("Variable "):
            return "BAD_USER_INPUT"
        return "GRAPHQL_VALIDATION_FAILED"
    if isinstance(original, GraphQLError):
        return str((error.extensions or {}).get("code", "BAD_USER_INPUT"))
    if _refused_character(original):
        return "BAD_USER_INPUT"
    if db.is_unavailable(original):
        return "SERVICE_UNAVAILABLE"
    return "INTERNAL_SERVER_ERROR"


# SQLSTATEs of text the database cannot store (a NUL character): the client's doing.
_CHARACTER_SQLSTATES = {"22021", "22P05"}


def _refused_character(error: BaseException | None) -> bool:
    """True when ``error`` (or what caused it) is the database refusing a character."""
    seen = 0
    while error is not None and seen < 5:
        if getattr(error, "sqlstate", None) in _CHARACTER_SQLSTATES:
            return True
        error, seen = error.__cause__, seen + 1
    return False


def classify(error: GraphQLError) -> GraphQLError:
    """Return the error as the client must see it (message, ``extensions.code``)."""
    original = error.original_error
    extensions = dict(error.extensions or {})
    if isinstance(original, DomainError):
        # Refusals are logged by code, field and path only: never the variables, which may
        # hold passwords or tokens.
        logger.info(
            "refused %s at %s (field: %s)",
            original.code,
            ".".join(str(p) for p in error.path or ()),
            original.field or "-",
        )
        extensions["code"] = original.code
        if original.field:
            extensions["field"] = original.field
        message = original.message
    elif original is None or isinstance(original, GraphQLError):
        # Syntax, validation and limits; coercion errors raised inside graphql-core (bad
        # variable, bad enum value…).
        extensions["code"] = error_code(error)
        message = error.message
    elif _refused_character(original):
        # PostgreSQL refuses U+0000 in text: the caller sent it (found by fuzzing).
        logger.info("refused BAD_USER_INPUT at %s (character)", error.path)
        extensions = {"code": "BAD_USER_INPUT"}
        message = "Valeur refusée : elle contient un caractère interdit (U+0000)."
    elif db.is_unavailable(original):
        logger.warning("database unavailable at %s: %s", error.path, original)
        extensions = {"code": "SERVICE_UNAVAILABLE"}
        message = UNAVAILABLE
    else:
        logger.error("unexpected error at %s", error.path, exc_info=original)
        extensions = {"code": "INTERNAL_SERVER_ERROR"}
        message = _GENERIC
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )
