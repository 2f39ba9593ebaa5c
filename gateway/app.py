"""The ASGI application factory: ``create_app(settings)`` builds everything, nothing is
created at import time. A partner can mount the returned app inside its own Starlette app."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
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
from gateway.auth import bearer_secret, viewer_for
from gateway.cache import ResponseCache, serve_graphql
from schema.context import Context
from schema.errors import classify
from gateway.feeds import events_feed, theme_events_feed
from gateway.http import (
    GRAPHQL_RESPONSE,
    BodyLimitMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
    http_error,
    install_request_id_on_log_records,
    is_request_error,
    wants_graphql_response,
)
from gateway.ide import STATIC_DIR, render_ide_html
from gateway.metrics import Metrics
from gateway.pages.newsletters import routes as newsletter_routes
from gateway.persisted import PersistedQueries
from gateway.ratelimit import Limits, RateLimitMiddleware, build_counter
from schema.search.runtime import search_runtime
from search.port import SearchEngine
from services import db
from services.errors import Unauthenticated
from services.newsletters.queue import queue_depth
from services.outbox.service import get_backlog
from services.settings import Settings
from services.viewer import ANONYMOUS

logger = logging.getLogger("tec.app")


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with the gateway's context, error codes and local IDE."""

    def __init__(self, schema: Schema, settings: Settings) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphql_ide else None)
        self.settings = settings
        self.search: SearchEngine | None = None  # opened by the lifespan (search_runtime)
        self.persisted = PersistedQueries(settings)
        self.cache = ResponseCache(settings) if settings.cache_enabled else None

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
            if viewer is not ANONYMOUS:
                scope["state"]["credentials"] = bearer_secret(Request(scope))
            try:
                request = Request(scope, receive)
                response = await serve_graphql(
                    request, viewer, self.persisted, self.cache, self.run
                )
            except HTTPException as error:
                response = http_error(error.reason)
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def parse_json(self, data: str | bytes) -> Any:
        parsed = super().parse_json(data)
        # Only an object (one operation) or an array (a batch) is a GraphQL request.
        if not isinstance(parsed, dict | list) or (
            isinstance(parsed, list) and not all(isinstance(item, dict) for item in parsed)
        ):
            raise HTTPException(400, "Le corps doit être un objet JSON (ou un tableau d'objets).")
        return parsed

    def encode_json(self, data: object) -> bytes:
        # orjson: several times faster than json.dumps on a page of nodes, same JSON
        # (UTF-8 rather than \u escapes); anything it refuses goes through json.
        try:
            return orjson.dumps(data)
        except TypeError:
            return json.dumps(data, separators=(",", ":")).encode()

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        # GraphQL over HTTP: with its own media type, a request refused before execution
        # (parse, validation, limits) is a 400; with application/json it stays a 200.
        request_accept = getattr(sub_response, "accept", "")
        if wants_graphql_response(request_accept):
            response.headers["content-type"] = GRAPHQL_RESPONSE
            if is_request_error(response_data) and response.status_code == 200:
                response.status_code = 400
        return response

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.accept = request.headers.get("accept", "")  # type: ignore[attr-defined]
        return sub_response

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        state = request.scope.get("state", {})
        return Context(
            settings=self.settings,
            viewer=state.get("viewer", ANONYMOUS),
            credentials=state.get("credentials"),
            client_ip=request.client.host if request.client else "",
            mail_transport=getattr(request.app.state, "mail_transport_factory", None),
            search=self.search,
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


async def _delivery_probe() -> float:
    return float(await queue_depth())


def _outbox_probe(index: int) -> Any:
    async def probe() -> float:
        return float((await get_backlog())[index])

    return probe


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the gateway for ``settings`` (read from ``TEC_*`` variables when omitted)."""
    settings = settings or Settings()
    install_request_id_on_log_records()
    metrics = Metrics()
    metrics.probes["outbox_pending"] = _outbox_probe(0)
    metrics.probes["outbox_lag_seconds"] = _outbox_probe(1)
    metrics.probes["delivery_queue_depth"] = _delivery_probe
    schema = build_schema(settings, extra_extensions=[metrics.extension])
    graphql = GraphQLApp(schema, settings)
    counter = build_counter(settings.redis_url)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with (
            RegisterTortoise(app, config=db.tortoise_config(settings)),
            search_runtime(settings, graphql),
        ):
            try:
                yield
            finally:
                await counter.close()

    app = Starlette(
        debug=settings.debug,
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/events.ics", events_feed, methods=["GET", "HEAD"]),
            Route("/themes/{slug}/events.ics", theme_events_feed, methods=["GET", "HEAD"]),
            *newsletter_routes(),
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/readyz", readyz, methods=["GET", "HEAD"]),
            Route("/metrics", metrics.endpoint, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[
            # Outermost first: every response, refusals included, gets an ID and headers.
            Middleware(RequestIdMiddleware),
            Middleware(SecurityHeadersMiddleware, hsts=settings.hsts),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "Accept", "X-Request-ID"],
                expose_headers=[
                    "X-Request-ID",
                    "RateLimit",
                    "RateLimit-Policy",
                    "Retry-After",
                    "ETag",
                ],
                max_age=600,
            ),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
            Middleware(
                RateLimitMiddleware,
                counter=counter,
                limits=Limits(
                    anonymous=settings.rate_limit_anonymous,
                    account=settings.rate_limit_account,
                    api_key=settings.rate_limit_api_key,
                    window=settings.rate_limit_window,
                ),
                trust_forwarded=settings.trust_forwarded_for,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.schema = schema
    app.state.graphql = graphql
    return app
