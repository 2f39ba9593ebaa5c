"""Typed mutation results: every mutation returns a payload ``{ <object>, errors }``.

Expected failures of a mutation — invalid input, ``NOT_FOUND``, ``CONFLICT``, a round that
is closed, a seat taken… — come back as data: one :class:`UserError` per problem, with the
path of the input field it concerns, a code of :data:`ErrorCode` and a French message, and
the payload's object left null. A form shows every bad field after one round trip and a
client (Apollo, urql) keeps ``data``. Only what no form can fix stays a top-level error:
authentication, authorisation, rate limits, unavailability (:data:`TOP_LEVEL`) and
internal failures.

- :func:`payload_mutation` declares a mutation: its resolver returns the object (or the
  payload itself), the decorator wraps it, and turns a :class:`~services.errors.DomainError`
  into the payload's ``errors``;
- :func:`object_payload` makes a payload type carrying one object;
- :data:`ErrorCode` lists the codes of every :class:`~services.errors.DomainError` subclass
  but the top-level ones, so a new error class is a new enum value.
"""

from __future__ import annotations

import enum
import functools
import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

import mailer
import search
import services
from schema.strawberry_compat import input_field_names
from services.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    RateLimited,
    Unauthenticated,
    Unavailable,
)

logger = logging.getLogger("tec.graphql")

_TOP_LEVEL_CODES = frozenset({"SEARCH_UNAVAILABLE"})
TOP_LEVEL: tuple[type[DomainError], ...] = (Unauthenticated, Forbidden, RateLimited, Unavailable)
"""Refusals that stay top-level errors (with ``extensions.code``) even in a mutation: who
asks, how often, and whether the service can answer at all — nothing the input can fix.
``SEARCH_UNAVAILABLE`` (the search engine is down) is one too."""


def top_level(error: DomainError) -> bool:
    """True when ``error`` is a top-level error rather than a payload's user error."""
    return isinstance(error, TOP_LEVEL) or error.code in _TOP_LEVEL_CODES


def _declare_errors() -> None:
    """Import the modules that declare domain errors: every ``errors`` module of
    ``services``, ``search`` and ``mailer``, and the modules of the two lower packages
    that keep their errors beside the code raising them."""
    for package in (services, search, mailer):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if module.name.rsplit(".", 1)[-1] == "errors":
                importlib.import_module(module.name)
    for name in ("search.port", "mailer.render", "mailer.message"):
        importlib.import_module(name)


def domain_error_classes() -> list[type[DomainError]]:
    """:class:`DomainError` and every subclass imported so far, depth first."""
    found: list[type[DomainError]] = []
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def user_error_codes() -> list[str]:
    """Codes a payload may carry: those of every domain error but the top-level ones."""
    codes: list[str] = []
    for cls in domain_error_classes():
        if issubclass(cls, TOP_LEVEL) or cls.code in _TOP_LEVEL_CODES:
            continue
        if cls.code not in codes:
            codes.append(cls.code)
    return sorted(codes)


def _meaning(code: str) -> str:
    """What ``code`` means: the first sentence of the first error class carrying it."""
    cls = next(cls for cls in domain_error_classes() if cls.code == code)
    if cls is DomainError:
        return "Refused for a reason the message gives."
    text = " ".join((cls.__doc__ or "").split())
    return text.split(". ")[0].rstrip(".") + "."


_declare_errors()

ErrorCode = strawberry.enum(
    enum.Enum(  # type: ignore[misc]
        "ErrorCode",
        {
            code: strawberry.enum_value(code, description=_meaning(code))
            for code in user_error_codes()
        },
    ),
    description="Why a mutation refused: the code of each user error. Top-level errors "
    "(UNAUTHENTICATED, FORBIDDEN, RATE_LIMITED, SERVICE_UNAVAILABLE, SEARCH_UNAVAILABLE, "
    "INTERNAL_SERVER_ERROR…) carry theirs in `extensions.code` instead.",
)


@strawberry.type(
    description="Something a mutation refused, as data: fix it and send the mutation again."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path of the argument or input field concerned, as named in the schema "
        '(`["input", "title"]`, `["version"]`); null when it concerns no field in particular.'
    )
    code: ErrorCode = strawberry.field(description="Machine code.")  # type: ignore[valid-type]
    message: str = strawberry.field(description="Message to show, in French.")


_ERRORS_DESCRIPTION = "What was refused, one entry per problem; empty on success."


def object_payload(name: str, field: str, type_: Any, description: str) -> type:
    """A payload type ``name`` with ``field: type_`` (null when refused) and ``errors``;
    ``field`` is the Python name (``shared_project``)."""
    namespace: dict[str, Any] = {
        "__annotations__": {field: type_ | None, "errors": list[UserError]},
        "__module__": __name__,
        "__payload_field__": field,
        field: strawberry.field(default=None, description=description),
        "errors": strawberry.field(default_factory=list, description=_ERRORS_DESCRIPTION),
    }
    return strawberry.type(
        type(name, (), namespace),
        description=f"Result of a mutation: {description[0].lower()}{description[1:]}",
    )


@strawberry.type(description="Result of a deletion.")
class DeletePayload:
    __payload_field__ = "deleted_id"
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="ID of the deleted object; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description=_ERRORS_DESCRIPTION
    )


def _camel(name: str) -> str:
    return to_camel_case(name) if "_" in name else name


def field_path(field: str | None, arguments: dict[str, Any]) -> list[str] | None:
    """The schema path of ``field`` (as the services name it: ``insee_code``, ``endsOn``)
    among the mutation's ``arguments``: ``["id"]`` for an argument, ``["input",
    "inseeCode"]`` for a field of an input argument, ``["inseeCode"]`` when neither. A
    dotted field names a place inside a list argument: ``sections.2.title`` is
    ``["sections", "2", "title"]``."""
    if not field:
        return None
    head, *rest = field.split(".")
    inside = [_camel(part) for part in rest]
    name = _camel(head)
    if name in {_camel(argument) for argument in arguments}:
        return [name, *inside]
    for argument, value in arguments.items():
        if name in input_field_names(value):
            return [_camel(argument), name, *inside]
    return [name, *inside]


def user_errors(error: DomainError, arguments: dict[str, Any]) -> list[UserError]:
    """One :class:`UserError` per problem of ``error`` (each bad field of an
    :class:`InvalidInput`)."""
    problems = error.errors if isinstance(error, InvalidInput) else [error]
    return [
        UserError(
            field=field_path(problem.field, arguments),
            code=ErrorCode[problem.code],
            message=problem.message,
        )
        for problem in problems
    ]


def _payload_of(payload: type, value: Any) -> Any:
    if isinstance(value, payload):
        return value
    return payload(**{payload.__payload_field__: value})  # type: ignore[attr-defined]


def payload_mutation(
    payload: type, *, description: str, **options: Any
) -> Callable[[Callable[..., Awaitable[Any]]], Any]:
    """Declare a mutation returning ``payload``. The resolver returns the payload's object
    (or a ``payload`` itself); a :class:`DomainError` it raises becomes the payload's
    ``errors`` — logged by code, path and field, never the variables — unless it is one of
    :data:`TOP_LEVEL`. What the service did is rolled back by then: its transaction ended
    with the exception."""

    def declare(resolver: Callable[..., Awaitable[Any]]) -> Any:
        @functools.wraps(resolver)
        async def resolve(*args: Any, **kwargs: Any) -> Any:
            try:
                return _payload_of(payload, await resolver(*args, **kwargs))
            except DomainError as error:
                if top_level(error):
                    raise
                info = kwargs.get("info")
                path = ".".join(str(p) for p in info.path.as_list()) if info else "-"
                arguments = {k: v for k, v in kwargs.items() if k != "info"}
                found = user_errors(error, arguments)
                for user_error in found:
                    logger.info(
                        "refused %s at %s (field: %s)",
                        user_error.code.value,
                        path,
                        ".".join(user_error.field or ()) or "-",
                    )
                return payload(errors=found)

        return strawberry.mutation(
            resolve, description=description, graphql_type=payload, **options
        )

    return declare


__all__ = [
    "TOP_LEVEL",
    "DeletePayload",
    "ErrorCode",
    "UserError",
    "domain_error_classes",
    "field_path",
    "object_payload",
    "payload_mutation",
    "top_level",
    "user_error_codes",
    "user_errors",
]
