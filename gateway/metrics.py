"""Prometheus metrics at ``/metrics``: GraphQL operations by name, latency histograms,
errors by code, and the backlogs of the background work (outbox lag, delivery queue).

One registry per app (never the global one), so several apps in one process — tests, a
partner mounting the gateway — do not collide. In a multi-process deployment each
process exposes its own counters; Prometheus scrapes and sums them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from schema.errors import error_code
from gateway.http import error_response

# Background backlogs, each read at scrape time: name → coroutine giving the value.
Probe = Callable[[], Awaitable[float]]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.operations = Counter(
            "tec_graphql_operations",
            "GraphQL operations executed.",
            ["operation", "type"],
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
            "GraphQL errors by code.",
            ["code"],
            registry=self.registry,
        )
        self.backlog = Gauge(
            "tec_backlog",
            "Background work waiting: outbox lag (s), pending rows…",
            ["queue"],
            registry=self.registry,
        )
        self.probes: dict[str, Probe] = {}

    def extension(self) -> SchemaExtension:
        return _MetricsExtension(self)

    async def endpoint(self, request: Request) -> Response:
        token = request.app.state.settings.metrics_token
        if token and request.headers.get("authorization", "") != f"Bearer {token}":
            return error_response(401, "UNAUTHENTICATED", "Jeton de métriques requis.")
        for name, probe in self.probes.items():
            try:
                self.backlog.labels(name).set(await probe())
            except Exception:  # a failing probe must not hide the other metrics
                self.backlog.labels(name).set(float("nan"))
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class _MetricsExtension(SchemaExtension):
    def __init__(self, metrics: Metrics) -> None:
        super().__init__()
        self.metrics = metrics

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        name = context.operation_name or "anonymous"
        if len(name) > 64:
            name = name[:64]
        try:
            kind = context.operation_type.value
        except Exception:  # the document did not parse
            kind = "invalid"
        self.metrics.operations.labels(name, kind).inc()
        self.metrics.latency.labels(name).observe(time.perf_counter() - started)
        result = context.result
        errors = (result.errors if result is not None else context.pre_execution_errors) or []
        for error in errors:
            self.metrics.errors.labels(error_code(error)).inc()
