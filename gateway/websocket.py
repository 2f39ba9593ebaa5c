"""GraphQL over WebSocket on ``/graphql`` (the graphql-transport-ws protocol), through the
same guard pipeline as HTTP.

- ``connection_init`` authenticates: the ``Authorization`` of its payload (what GraphiQL
  and graphql-ws clients send as connection parameters), or of the handshake's headers.
  A bad secret closes the socket with 4403; an address over its budget with 4429. The
  secret is checked again at each ``subscribe``: once revoked, expired or its account
  deactivated, the socket closes with 4403 instead of starting the operation.
- Each ``subscribe`` message is one operation: it pays one unit of the caller's budget,
  then passes the allow-list, document limits and cost steps; a refusal is an ``error``
  message for that operation with the refusal's code, and the connection stays open.
- Every message goes out as a text frame (browsers hand binary frames to scripts as
  ``Blob``s, which GraphiQL's client cannot read).
- Errors in results are classified like HTTP ones: a code on each, no internal detail.

Only graphql-transport-ws is spoken; the older ``graphql-ws`` subprotocol is refused
(4406), so there is one WebSocket path to guard.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any, cast

import orjson
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from gateway.graphql_request import read_operation
from gateway.guards import Caller, Guards, Transport
from gateway.metrics import Metrics
from gateway.refusals import Refusal
from schema import Schema
from schema.context import Context
from schema.errors import classify, error_code
from schema.strawberry_compat import GuardedTransportWSHandler
from services import db
from services.accounts.service import resolve_bearer
from services.errors import Unauthenticated

ContextFactory = Callable[[WebSocket], Context]


@dataclass
class ConnectionContext(Context):
    """The context of one WebSocket connection; each operation runs on a fresh copy."""

    handshake_authorization: str | None = None


class _ClassifiedSchema:
    """The schema as the protocol handler sees it: each operation gets a context of its
    own, and results' errors get their codes."""

    def __init__(self, schema: Schema, metrics: Metrics) -> None:
        self.schema = schema
        self.metrics = metrics

    async def stream(self, query: str | None, **kwargs: Any) -> AsyncGenerator[Any, None]:
        kwargs["context_value"] = kwargs["context_value"].fresh()
        return self._classified(await self.schema.stream(query, **kwargs))

    async def _classified(self, source: Any) -> AsyncGenerator[Any, None]:
        try:
            async for result in source:
                if isinstance(result, ExecutionResult | PreExecutionError) and result.errors:
                    result.errors = [classify(e) for e in result.errors]
                    self.metrics.errors_seen(error_code(e) for e in result.errors)
                yield result
        finally:
            await source.aclose()


class _GuardedHandler(GuardedTransportWSHandler[ConnectionContext, None]):
    view: GraphQLWebSocket
    caller: Caller | None = None

    async def admit_connection(self, payload: dict[str, Any]) -> bool:
        authorization = _authorization(payload) or self.context.handshake_authorization
        try:
            caller = await self.view.guards.authenticate(authorization, self.context.client_ip)
            await self.view.guards.charge(caller)
        except Refusal as refusal:
            self.stop_init_timeout()
            code = 4429 if refusal.status == 429 else 4403
            await self.close(code, refusal.code)
            return False
        except Exception as error:
            if not db.is_unavailable(error):
                raise
            await self.close(1013, "SERVICE_UNAVAILABLE")  # try again
            return False
        self.caller = caller
        self.context.viewer = caller.viewer
        self.context.credentials = caller.credentials
        return True

    async def admit_subscribe(self, message: SubscribeMessage) -> bool:
        if self.caller is None:  # every acknowledged connection has one (admit_connection)
            await self.close(4401, "Unauthorized")
            return False
        payload = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(message.get("id"), str):
            await self.refuse_message("Invalid subscribe message")
            return False
        if not await self._still_valid():
            return False
        try:
            operation = read_operation(payload, Transport.WEBSOCKET)
            await self.view.guards.charge(self.caller)
            self.view.guards.admit(operation)
        except Refusal as refusal:
            await self.send_error(message["id"], [refusal.error()])
            return False
        payload["query"] = operation.query
        self.view.metrics.count(
            operation=self.view.metrics.label(operation.name, registered=operation.registered),
            kind=operation.kind,
            transport=Transport.WEBSOCKET.value,
        )
        return True

    async def _still_valid(self) -> bool:
        """False (the socket closed) when the connection's secret no longer authenticates:
        a socket outlives its token's revocation, its expiry and its account's
        deactivation, and none of them may start an operation."""
        assert self.caller is not None
        if self.caller.credentials is None:
            return True
        try:
            self.context.viewer = await resolve_bearer(self.caller.credentials)
        except Unauthenticated:
            await self.close(4403, "UNAUTHENTICATED")
            return False
        except Exception as error:
            if not db.is_unavailable(error):
                raise
            await self.close(1013, "SERVICE_UNAVAILABLE")  # try again
            return False
        return True


def _authorization(payload: dict[str, Any]) -> str | None:
    for name, value in payload.items():
        if isinstance(name, str) and name.lower() == "authorization" and isinstance(value, str):
            return value
    return None


class GraphQLWebSocket(GraphQL[ConnectionContext, None]):
    """Strawberry's WebSocket protocol handling, behind the gateway's guards."""

    protocols = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
    graphql_transport_ws_handler_class = _GuardedHandler

    def __init__(
        self,
        schema: Schema,
        *,
        guards: Guards,
        metrics: Metrics,
        context: ContextFactory,
        allowed_origins: list[str],
    ) -> None:
        super().__init__(
            cast(Any, _ClassifiedSchema(schema, metrics)),
            graphql_ide=None,
            subscription_protocols=self.protocols,
            allowed_origins=allowed_origins,
        )
        self.guards = guards
        self.metrics = metrics
        self.make_context = context

    async def get_context(self, request: Any, response: Any) -> ConnectionContext:
        base = self.make_context(request)
        return ConnectionContext(
            **{f.name: getattr(base, f.name) for f in dataclasses.fields(base)},
            handshake_authorization=request.headers.get("authorization"),
        )

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # refuses nesting beyond 1,024 levels, without recursion

    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()  # text frames
