"""The ASGI application factory: ``create_app(settings)`` builds everything, nothing is
created at import time. A partner can mount the returned app inside its own Starlette app."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult
from tortoise.contrib.starlette import RegisterTortoise

from schema import Schema, build_schema
from schema.auth import viewer_for
from schema.context import Context
from schema.errors import classify
from schema.feeds import events_feed, theme_events_feed
from schema.ide import STATIC_DIR, render_ide_html
from services import db
from services.errors import Unauthenticated
from services.settings import Settings
from services.viewer import ANONYMOUS

logger = logging.getLogger("tec.app")


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with the gateway's context, error codes and local IDE."""

    def __init__(self, schema: Schema, settings: Settings) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphql_ide else None)
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            # Authenticate before GraphQL runs: a bad token is a 401, never anonymous access.
            try:
                viewer = await viewer_for(Request(scope))
            except Unauthenticated as error:
                body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
                response = JSONResponse(
                    body,
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="territoires-en-commun"'},
                )
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})["viewer"] = viewer
        await super().__call__(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return Context(
            settings=self.settings,
            viewer=request.scope.get("state", {}).get("viewer", ANONYMOUS),
            request=request if isinstance(request, Request) else None,
            response=response if isinstance(response, Response) else None,
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        # root_path keeps the links right when a partner mounts the gateway under a prefix.
        root = request.scope.get("root_path", "")
        page = render_ide_html(
            graphql_path=f"{root}/graphql", assets_path=f"{root}/static/graphiql"
        )
        return HTMLResponse(page)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = [classify(e) for e in result.errors]
        return process_result(result)


async def healthz(request: Request) -> Response:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: the database answers."""
    if await db.ping():
        return JSONResponse({"status": "ok", "database": "ok"})
    return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the gateway for ``settings`` (read from ``TEC_*`` variables when omitted)."""
    settings = settings or Settings()
    schema = build_schema(settings)
    graphql = GraphQLApp(schema, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=db.tortoise_config(settings)):
            yield

    app = Starlette(
        debug=settings.debug,
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/events.ics", events_feed, methods=["GET", "HEAD"]),
            Route("/themes/{slug}/events.ics", theme_events_feed, methods=["GET", "HEAD"]),
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/readyz", readyz, methods=["GET", "HEAD"]),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.schema = schema
    return app
