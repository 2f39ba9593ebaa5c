"""GraphQL over HTTP: a request's operations, read from a GET query string or a JSON body.

Whatever a client sends, the answer is either the operations or a :class:`Refusal` with a
code — never an exception: a body that is not UTF-8, JSON that does not parse or nests
too deep, parameters of the wrong type (``variables`` that is not an object, ``extensions``
that is a string…), an empty or oversized batch.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.datastructures import QueryParams

from gateway.guards import Operation, Transport
from gateway.refusals import Refusal

MAX_VARIABLES_DEPTH = 32
"""Deepest nesting of ``variables`` and ``extensions`` (no input of the schema needs more)."""


def _bad(message: str, code: str = "BAD_REQUEST", status: int = 400) -> Refusal:
    return Refusal(code, message, status=status)


def media_type(content_type: str) -> tuple[str, dict[str, str]]:
    """``application/json; charset=UTF-8`` → (``application/json``, {``charset``: ``utf-8``})."""
    kind, *parameters = content_type.split(";")
    options = {}
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        options[name.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), options


def _depth(value: Any) -> int:
    """Nesting depth of a JSON value, walked iteratively (no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item)
    return deepest


def _object_or_null(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad(f"« {name} » doit être un objet JSON (ou null).")
    if _depth(value) > MAX_VARIABLES_DEPTH:
        raise _bad(f"« {name} » est imbriqué trop profondément (au plus {MAX_VARIABLES_DEPTH}).")
    return value


def read_operation(data: Any, transport: Transport) -> Operation:
    """One operation's parameters, checked: ``query``, ``operationName``, ``variables``
    and ``extensions`` of the right types, nesting bounded."""
    if not isinstance(data, dict):
        raise _bad("Chaque opération doit être un objet JSON.")
    query = data.get("query")
    if query is not None and not isinstance(query, str):
        raise _bad("« query » doit être une chaîne (le document GraphQL).")
    name = data.get("operationName")
    if name is not None and not isinstance(name, str):
        raise _bad("« operationName » doit être une chaîne (ou null).")
    operation = Operation(
        transport=transport,
        query=query,
        variables=_object_or_null(data, "variables"),
        operation_name=name or None,
        extensions=_object_or_null(data, "extensions"),
    )
    if operation.query is None and "persistedQuery" not in (operation.extensions or {}):
        raise _bad("Paramètre « query » manquant : envoyez le document GraphQL.")
    return operation


def _json_parameter(params: QueryParams, name: str) -> Any:
    raw = params.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise _bad(f"« {name} » n'est pas du JSON valide.") from None


def from_query_string(params: QueryParams) -> Operation:
    """The operation of a GET request."""
    data = {
        "query": params.get("query"),
        "operationName": params.get("operationName"),
        "variables": _json_parameter(params, "variables"),
        "extensions": _json_parameter(params, "extensions"),
    }
    return read_operation(data, Transport.GET)


def from_body(content_type: str, body: bytes, *, max_batch: int) -> list[Operation] | Operation:
    """The operation (an object) or operations (a batch: an array) of a POST body."""
    kind, options = media_type(content_type)
    if kind != "application/json" or options.get("charset", "utf-8") not in ("utf-8", "utf8"):
        raise _bad("Envoyez Content-Type: application/json (UTF-8).", "UNSUPPORTED_MEDIA_TYPE", 415)
    if not body.strip():
        raise _bad("Corps de requête vide : envoyez un objet JSON avec « query ».")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("Le corps de la requête n'est pas encodé en UTF-8.") from None
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        # orjson also refuses nesting beyond 1,024 levels here, before any recursion.
        raise _bad("Le corps de la requête n'est pas du JSON valide.") from None
    if isinstance(data, list):
        if not data:
            raise _bad("Lot vide : envoyez au moins une opération.")
        if len(data) > max_batch:
            raise _bad(
                f"Trop d'opérations dans le lot : {len(data)} (au plus {max_batch}).",
                "BATCH_TOO_LARGE",
            )
        return [read_operation(item, Transport.BATCH) for item in data]
    if not isinstance(data, dict):
        raise _bad("Le corps doit être un objet JSON (ou un tableau d'objets).")
    return read_operation(data, Transport.POST)
