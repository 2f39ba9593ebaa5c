"""Prometheus metrics at ``/metrics``: GraphQL operations, latency histograms, errors by
code, refusals by code and status (401, 403, 429, refused documents), and the backlogs of
the background work (outbox lag, delivery queue).

Labels stay bounded whatever clients send: an operation is labelled with its name only
when its document is registered (allow-list or persisted store), ``other`` otherwise, so a
client inventing names cannot grow the series without end.

One registry per app (never the global one), so several apps in one process — tests, a
partner mounting the gateway — do not collide. With several worker processes
(``TEC_WORKERS > 1``) ``tec serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers
start: each process writes its samples there and whichever process answers a scrape
reports the sum of all of them (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response

from gateway.http import error_response

# Background backlogs, each read at scrape time: name → coroutine giving the value.
Probe = Callable[[], Awaitable[float]]
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
OTHER = "other"
_MAX_NAME = 64


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.operations = Counter(
            "tec_graphql_operations",
            "GraphQL operations executed, by operation (registered documents' names, "
            "otherwise 'other'), type and transport.",
            ["operation", "type", "transport"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tec_graphql_duration_seconds",
            "Time to execute a GraphQL operation.",
            ["operation"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.errors = Counter(
            "tec_graphql_errors",
            "GraphQL errors in responses, by code (FORBIDDEN, BAD_USER_INPUT…).",
            ["code"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "tec_refusals",
            "Requests and operations refused by a guard, by code and HTTP status "
            "(401 UNAUTHENTICATED, 429 RATE_LIMITED, refused documents…).",
            ["code", "status"],
            registry=self.registry,
        )
        self.read_compiler = Counter(
            "tec_read_compiler_queries",
            "Queries by the path that answered them: 'compiled' (one SQL statement) or "
            "'fallback' (the ordinary executor), with the reason of a fallback "
            "(unsupported, arguments, private, error, database, operation).",
            ["path", "reason"],
            registry=self.registry,
        )
        self.compiled_plans = Counter(
            "tec_compiled_plans_queries",
            "Operations the read compiler leaves, by the path that answered them: 'plan' "
            "(a compiled plan of resolvers) or 'graphql-core', with the reason of the "
            "latter (operation, unsupported, error).",
            ["path", "reason"],
            registry=self.registry,
        )
        self.backlog = Gauge(
            "tec_backlog",
            "Background work waiting: outbox lag (s), pending rows…",
            ["queue"],
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.probes: dict[str, Probe] = {}

    def label(self, name: str | None, *, registered: bool) -> str:
        """The operation label: the name of a registered document, ``other`` otherwise."""
        if not registered or not name:
            return OTHER
        return name[:_MAX_NAME]

    def observe(
        self,
        *,
        operation: str,
        kind: str,
        transport: str,
        seconds: float,
        error_codes: Iterable[str],
    ) -> None:
        """Record one executed operation."""
        self.count(operation=operation, kind=kind, transport=transport)
        self.latency.labels(operation).observe(seconds)
        self.errors_seen(error_codes)

    def count(self, *, operation: str, kind: str, transport: str) -> None:
        """Record one operation started (subscriptions: one per ``subscribe``)."""
        self.operations.labels(operation, kind, transport).inc()

    def errors_seen(self, codes: Iterable[str]) -> None:
        for code in codes:
            self.errors.labels(code).inc()

    def read_compiled(self, path: str, reason: str) -> None:
        """Record which path answered a query (``schema.compiler``)."""
        self.read_compiler.labels(path, reason).inc()

    def plans_compiled(self, path: str, reason: str) -> None:
        """Record which path answered an operation the read compiler left
        (``schema.execution``)."""
        self.compiled_plans.labels(path, reason).inc()

    def refused(self, code: str, status: int | None) -> None:
        """Record a refusal (``status`` None: a GraphQL request error)."""
        self.refusals.labels(code, str(status) if status is not None else "graphql").inc()

    async def endpoint(self, request: Request) -> Response:
        token = request.app.state.settings.observability.metrics_token
        if token and request.headers.get("authorization", "") != f"Bearer {token}":
            return error_response(401, "UNAUTHENTICATED", "Jeton de métriques requis.")
        for name, probe in self.probes.items():
            try:
                self.backlog.labels(name).set(await probe())
            except Exception:  # a failing probe must not hide the other metrics
                self.backlog.labels(name).set(float("nan"))
        registry = self.registry
        if os.environ.get(MULTIPROCESS_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
