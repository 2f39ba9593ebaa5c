"""Authentication and rate limit for the routes outside GraphQL (feeds, newsletter pages,
unsubscribe, the WebSocket handshake): the first two steps of :mod:`gateway.guards`, once
per request. GraphQL requests pass them in the GraphQL transports, once per operation."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.guards import Guards
from gateway.http import error_response
from gateway.refusals import Refusal


def route_path(scope: Scope) -> str:
    """The path below the app's mount point."""
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class RouteGuardMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        guards: Guards,
        exempt_prefixes: Sequence[str],
        per_operation_path: str,
    ) -> None:
        self.app = app
        self.guards = guards
        self.exempt = tuple(exempt_prefixes)
        self.per_operation_path = per_operation_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope)
        if scope["type"] not in ("http", "websocket") or path.startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and path == self.per_operation_path:
            await self.app(scope, receive, send)  # charged per operation
            return
        address = (scope.get("client") or ("", 0))[0]
        try:
            if scope["type"] == "websocket":
                # The handshake costs the address one unit; credentials come with
                # connection_init, where the WebSocket transport authenticates them.
                caller = await self.guards.authenticate(None, address)
            else:
                caller = await self.guards.authenticate(
                    Headers(scope=scope).get("authorization"), address
                )
            spent = await self.guards.charge(caller)
        except Refusal as refusal:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 4429, "reason": refusal.code})
                return
            status = refusal.status or 400
            await error_response(status, refusal.code, refusal.message, refusal.headers)(
                scope, receive, send
            )
            return
        scope.setdefault("state", {})["viewer"] = caller.viewer
        rate_headers = spent.headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in rate_headers.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
