"""One place where failures become GraphQL errors with a machine code.

Domain errors keep their message and code; GraphQL syntax and validation errors get
``GRAPHQL_PARSE_FAILED`` / ``GRAPHQL_VALIDATION_FAILED``; anything unexpected is logged
with its stack trace and reaches the client as ``INTERNAL_SERVER_ERROR`` without detail.
"""

from __future__ import annotations

import logging

from graphql import GraphQLError

from services.errors import DomainError

logger = logging.getLogger("tec.graphql")

_GENERIC = "Erreur interne : l'incident a été enregistré, réessayez plus tard."


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
    elif original is None:
        if "code" not in extensions:
            if error.message.startswith("Syntax Error"):
                extensions["code"] = "GRAPHQL_PARSE_FAILED"
            elif error.message.startswith("Variable "):
                extensions["code"] = "BAD_USER_INPUT"
            else:
                extensions["code"] = "GRAPHQL_VALIDATION_FAILED"
        message = error.message
    elif isinstance(original, GraphQLError):
        # Coercion errors raised inside graphql-core (bad variable, bad enum value…).
        extensions.setdefault("code", "BAD_USER_INPUT")
        message = error.message
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
