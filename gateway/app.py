"""The ASGI application factory: ``create_app(settings)`` builds everything, nothing is
created at import time. A partner can mount the returned app inside its own Starlette app.

What a request meets, outermost first: the client's address behind trusted proxies, a
request ID, security headers, CORS, the body-size limit, then either ``/graphql`` (GET,
POST, batches, WebSocket: each operation through :mod:`gateway.guards`) or another route
(feeds, newsletter pages), which passes the same authentication and rate limit once per
request (:class:`gateway.route_guard.RouteGuardMiddleware`). Anything unexpected is
answered with a coded JSON error, never a plain-text page.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from tortoise.contrib.starlette import RegisterTortoise

from gateway.cache import ResponseCache
from gateway.client_address import ClientAddressMiddleware, TrustedProxies, parse_networks
from gateway.feeds import events_feed, theme_events_feed
from gateway.graphql_http import GraphQLHTTP
from gateway.guards import Caller, Guards
from gateway.http import (
    BodyLimitMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
    error_response,
    install_request_id_on_log_records,
    page_csp,
)
from gateway.ide import STATIC_DIR
from gateway.metrics import Metrics
from gateway.pages.accounts import routes as account_routes
from gateway.pages.newsletters import routes as newsletter_routes
from gateway.persisted import PersistedQueries
from gateway.ratelimit import CounterThrottle, Limits, RateLimiter, build_counter
from gateway.refusals import unavailable
from gateway.route_guard import RouteGuardMiddleware
from gateway.syndication import routes as syndication_routes
from gateway.websocket import GraphQLWebSocket
from schema import build_schema
from schema.caching import ReadSets, cacheable_root_fields
from schema.context import Context
from schema.directives import viewer_dependent_fields
from schema.limits import Limits as DocumentLimits
from schema.search.runtime import search_runtime
from schema.strawberry_compat import graphql_core_schema
from search.port import SearchEngine
from services import db
from services.clock import Clock, system_clock
from services.newsletters.queue import queue_depth
from services.outbox.service import get_backlog
from services.settings import Settings
from services.viewer import ANONYMOUS

logger = logging.getLogger("tec.app")

EXEMPT_PREFIXES = ("/healthz", "/readyz", "/metrics", "/static/")
"""Routes outside the rate limit: probes, the metrics scrape (its own token), assets."""


class Runtime:
    """What the lifespan opens and the transports read: the search engine."""

    search: SearchEngine | None = None


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


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    codes = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
    messages = {404: "Adresse inconnue.", 405: "Méthode non acceptée sur cette adresse."}
    return error_response(
        error.status_code,
        codes.get(error.status_code, "BAD_REQUEST"),
        messages.get(error.status_code, str(error.detail)),
        dict(error.headers or {}),
    )


async def _internal_error(request: Request, error: Exception) -> Response:
    if db.is_unavailable(error):
        logger.warning("database unavailable on %s: %s", request.url.path, error)
        refusal = unavailable()
        return error_response(503, refusal.code, refusal.message, refusal.headers)
    logger.error("unhandled error on %s", request.url.path, exc_info=error)
    return error_response(
        500,
        "INTERNAL_SERVER_ERROR",
        "Erreur interne : l'incident a été enregistré, réessayez plus tard.",
    )


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> Starlette:
    """Build the gateway for ``settings`` (read from ``TEC_*`` variables when omitted).
    ``clock`` is what the rate limit's windows and the response cache's entries end by."""
    settings = settings or Settings()
    install_request_id_on_log_records()
    metrics = Metrics()
    metrics.probes["outbox_pending"] = _outbox_probe(0)
    metrics.probes["outbox_lag_seconds"] = _outbox_probe(1)
    metrics.probes["delivery_queue_depth"] = _delivery_probe
    schema = build_schema(
        settings,
        read_compiler_outcome=metrics.read_compiled,
        compiled_plans_outcome=metrics.plans_compiled,
    )
    counter = build_counter(settings.limits.redis_url, clock)
    limiter = RateLimiter(
        counter,
        Limits(
            anonymous=settings.limits.rate_limit_anonymous,
            account=settings.limits.rate_limit_account,
            api_key=settings.limits.rate_limit_api_key,
            window=settings.limits.rate_limit_window,
        ),
    )
    throttle = CounterThrottle(counter, window=settings.limits.sign_in_window)
    guards = Guards(
        limiter=limiter,
        persisted=PersistedQueries(settings.graphql),
        schema=graphql_core_schema(schema),
        limits=DocumentLimits(
            max_depth=settings.graphql.max_query_depth,
            max_aliases=settings.graphql.max_aliases,
            max_tokens=settings.graphql.max_tokens,
            max_cost=settings.graphql.max_query_cost,
            default_page_size=settings.graphql.default_page_size,
        ),
        metrics=metrics,
    )
    runtime = Runtime()

    def context(connection: HTTPConnection, caller: Caller | None = None) -> Context:
        return Context(
            settings=settings,
            viewer=caller.viewer if caller is not None else ANONYMOUS,
            credentials=caller.credentials if caller is not None else None,
            client_ip=connection.client.host if connection.client else "",
            mail_transport=getattr(connection.app.state, "mail_transport_factory", None),
            throttle=throttle,
            search=runtime.search,
        )

    cache = None
    if settings.cache.cache_enabled:
        cache = ResponseCache(
            settings.cache,
            cacheable_roots=cacheable_root_fields(schema),
            viewer_dependent=viewer_dependent_fields(schema),
            read_sets=ReadSets(schema),
            clock=clock,
        )
    http = GraphQLHTTP(
        schema=schema,
        settings=settings,
        guards=guards,
        metrics=metrics,
        context=context,
        cache=cache,
    )
    websocket = GraphQLWebSocket(
        schema,
        guards=guards,
        metrics=metrics,
        context=context,
        allowed_origins=settings.http.cors_origins,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with (
            RegisterTortoise(app, config=db.tortoise_config(settings.database)),
            search_runtime(settings, runtime),
        ):
            try:
                yield
            finally:
                await limiter.close()

    app = Starlette(
        debug=settings.http.debug,
        routes=[
            # Every method reaches the transport, which answers the wrong ones in JSON.
            Route(
                "/graphql", http.__call__, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
            ),
            WebSocketRoute("/graphql", websocket),
            Route("/events.ics", events_feed, methods=["GET", "HEAD"]),
            Route("/themes/{slug}/events.ics", theme_events_feed, methods=["GET", "HEAD"]),
            *syndication_routes(),
            *newsletter_routes(),
            *account_routes(),
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/readyz", readyz, methods=["GET", "HEAD"]),
            Route("/metrics", metrics.endpoint, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[
            # Outermost first: every response, refusals included, gets an ID and headers.
            Middleware(
                ClientAddressMiddleware,
                proxies=TrustedProxies(parse_networks(settings.http.trusted_proxies)),
            ),
            Middleware(RequestIdMiddleware),
            Middleware(
                SecurityHeadersMiddleware,
                hsts=settings.http.hsts,
                page_csp=page_csp(settings.http.base_url, settings.newsletters.newsletter_logo_url),
            ),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.http.cors_origins,
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
            Middleware(BodyLimitMiddleware, max_bytes=settings.http.max_body_bytes),
            Middleware(
                RouteGuardMiddleware,
                guards=guards,
                exempt_prefixes=EXEMPT_PREFIXES,
                per_operation_path="/graphql",
            ),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.schema = schema
    app.state.guards = guards
    app.state.runtime = runtime
    app.state.metrics = metrics
    app.state.cache = cache
    return app
