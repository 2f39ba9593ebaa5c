"""GraphQL over HTTP on ``/graphql``: GET, POST and batched POST, through the guard pipeline.

Media types and status codes follow the GraphQL-over-HTTP specification (checked by the
graphql-http audit in the tests): under ``application/json`` a request error (the document
does not parse, is invalid, is over a limit, its variables do not coerce) is a 200 with
``errors``; under ``application/graphql-response+json`` it is a 400 without ``data``.
Refusals before GraphQL (authentication, rate limit, malformed bodies) have their own
status. Every answer is JSON with a code; no exception escapes as a plain-text 500.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from strawberry.types.graphql import OperationType

from gateway.cache import ResponseCache
from gateway.graphql_request import from_body, from_query_string
from gateway.guards import Caller, Guards, Operation, Transport
from gateway.ide import render_ide_html
from gateway.metrics import Metrics
from gateway.refusals import Refusal, unavailable
from schema import Schema
from schema.context import Context
from schema.errors import classify, error_code
from services import db
from services.settings import Settings

logger = logging.getLogger("tec.graphql")

GRAPHQL_RESPONSE = "application/graphql-response+json"
ContextFactory = Callable[[Request, Caller], Context]
_ALLOWED = {
    "GET": (OperationType.QUERY,),
    "POST": (OperationType.QUERY, OperationType.MUTATION),
}


def wants_graphql_response(accept: str) -> bool:
    """True when the client prefers ``application/graphql-response+json``."""
    media = [part.split(";")[0].strip() for part in accept.split(",")]
    if GRAPHQL_RESPONSE in media:
        return "application/json" not in media or (
            media.index(GRAPHQL_RESPONSE) < media.index("application/json")
        )
    return False


def _accepts_html(accept: str) -> bool:
    return "text/html" in accept


class _Answer:
    """One operation's response payload, and whether it is a request error."""

    __slots__ = ("payload", "request_error")

    def __init__(self, payload: dict[str, Any], *, request_error: bool) -> None:
        self.payload = payload
        self.request_error = request_error


class GraphQLHTTP:
    """The HTTP transport of ``/graphql``."""

    def __init__(
        self,
        *,
        schema: Schema,
        settings: Settings,
        guards: Guards,
        metrics: Metrics,
        context: ContextFactory,
        cache: ResponseCache | None,
    ) -> None:
        self.schema = schema
        self.settings = settings
        self.guards = guards
        self.metrics = metrics
        self.context = context
        self.cache = cache

    async def __call__(self, request: Request) -> Response:
        accept = request.headers.get("accept", "")
        graphql_response = wants_graphql_response(accept)
        try:
            if self._asks_for_ide(request, accept):
                return self._ide(request)
            operations = await self._read(request)
            caller = await self.guards.authenticate(
                request.headers.get("authorization"), _address(request)
            )
            if isinstance(operations, list):
                spent = await self.guards.charge(caller, len(operations))
                answers = await asyncio.gather(
                    *(self._answer(request, caller, op) for op in operations)
                )
                response = self._respond(
                    [a.payload for a in answers],
                    graphql_response,
                    request_error=all(a.request_error for a in answers),
                )
            else:
                spent = await self.guards.charge(caller)
                response = await self._single(request, caller, operations, graphql_response)
        except Refusal as refusal:
            return self._refused(refusal, graphql_response)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read an answer
        except Exception as error:
            if not db.is_unavailable(error):
                raise
            logger.warning("database unavailable: %s", error)
            return self._refused(unavailable(), graphql_response)
        response.headers.update(spent.headers())
        return response

    def _asks_for_ide(self, request: Request, accept: str) -> bool:
        params = request.query_params
        return (
            request.method == "GET"
            and self.settings.graphql.graphql_ide
            and _accepts_html(accept)
            and "query" not in params
            and "extensions" not in params
        )

    async def _read(self, request: Request) -> list[Operation] | Operation:
        if request.method == "GET":
            return from_query_string(request.query_params)
        if request.method != "POST":
            raise Refusal(
                "METHOD_NOT_ALLOWED",
                "GraphQL se demande en GET ou en POST.",
                status=405,
                headers={"Allow": "GET, POST"},
            )
        return from_body(
            request.headers.get("content-type", ""),
            await request.body(),
            max_batch=self.settings.graphql.max_batch_size,
        )

    async def _single(
        self, request: Request, caller: Caller, operation: Operation, graphql_response: bool
    ) -> Response:
        async def run(_: Request) -> Response:
            answer = await self._answer(request, caller, operation)
            return self._respond(
                answer.payload, graphql_response, request_error=answer.request_error
            )

        if self.cache is not None:
            try:
                self.guards.admit(operation)
            except Refusal:
                pass  # answered by _answer below, through the same step
            else:
                visibility = self.cache.visibility(operation, caller.viewer)
                if visibility is not None:
                    return await self.cache.serve(request, operation, visibility, run)
        response = await run(request)
        response.headers.setdefault("Cache-Control", "private, no-store")
        return response

    async def _answer(self, request: Request, caller: Caller, operation: Operation) -> _Answer:
        """Run one operation through the remaining steps and execution."""
        try:
            if operation.document is None:
                self.guards.admit(operation)
            self._check_transport(request.method, operation)
        except Refusal as refusal:
            if refusal.status is not None and operation.transport is not Transport.BATCH:
                raise
            return _Answer({"errors": [refusal.error()]}, request_error=True)
        started = time.perf_counter()
        result = await self.schema.execute(
            operation.query,
            variable_values=operation.variables,
            context_value=self.context(request, caller),
            operation_name=operation.operation_name,
            allowed_operation_types=_ALLOWED[request.method],
            operation_extensions=operation.extensions,
        )
        errors = [classify(e) for e in result.errors or ()]
        self.metrics.observe(
            operation=self.metrics.label(operation.name, registered=operation.registered),
            kind=operation.kind,
            transport=operation.transport.value,
            seconds=time.perf_counter() - started,
            error_codes=[error_code(e) for e in errors],
        )
        payload: dict[str, Any] = {"data": result.data}
        if errors:
            payload["errors"] = [e.formatted for e in errors]
        if result.extensions:
            payload["extensions"] = result.extensions
        request_error = result.data is None and bool(errors) and all(not e.path for e in errors)
        return _Answer(payload, request_error=request_error)

    def _check_transport(self, method: str, operation: Operation) -> None:
        definition = operation.definition
        if definition is None:
            named = operation.operation_name
            raise Refusal(
                "GRAPHQL_VALIDATION_FAILED",
                f"Opération « {named} » absente du document."
                if named
                else "Le document contient plusieurs opérations : précisez operationName.",
            )
        kind = definition.operation.value
        if kind == "subscription":
            raise Refusal(
                "BAD_REQUEST",
                "Les abonnements passent par WebSocket (graphql-transport-ws) sur /graphql.",
                status=400,
            )
        if kind == "mutation" and method == "GET":
            raise Refusal(
                "METHOD_NOT_ALLOWED",
                "Les mutations s'envoient en POST.",
                status=405,
                headers={"Allow": "POST"},
            )

    def _respond(
        self,
        payload: dict[str, Any] | list[dict[str, Any]],
        graphql_response: bool,
        *,
        request_error: bool,
    ) -> Response:
        status = 200
        if graphql_response:
            if request_error:
                status = 400
                for item in payload if isinstance(payload, list) else [payload]:
                    if item.get("data") is None:
                        item.pop("data", None)
            media = GRAPHQL_RESPONSE
        else:
            media = "application/json"
        return Response(_encode(payload), status_code=status, media_type=media)

    def _refused(self, refusal: Refusal, graphql_response: bool) -> Response:
        status = refusal.status
        if status is None:
            status = 400 if graphql_response else 200
        response = Response(
            _encode({"errors": [refusal.error()]}),
            status_code=status,
            media_type=GRAPHQL_RESPONSE if graphql_response else "application/json",
            headers={**refusal.headers, "Cache-Control": "private, no-store"},
        )
        return response

    def _ide(self, request: Request) -> Response:
        # root_path keeps the links right when a partner mounts the gateway under a prefix.
        root = request.scope.get("root_path", "")
        page = render_ide_html(
            graphql_path=f"{root}/graphql", assets_path=f"{root}/static/graphiql"
        )
        return HTMLResponse(page)


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _encode(data: object) -> bytes:
    try:
        return orjson.dumps(data)
    except TypeError:  # a value orjson does not know: report it, never a plain-text 500
        logger.error("response not encodable", exc_info=True)
        error = GraphQLError(
            "Erreur interne : l'incident a été enregistré, réessayez plus tard.",
            extensions={"code": "INTERNAL_SERVER_ERROR"},
        )
        return orjson.dumps({"errors": [error.formatted]})
