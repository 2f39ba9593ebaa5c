"""Observability: Prometheus metrics, JSON logs with request IDs, optional tracing."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from gateway.app import create_app
from services.settings import Settings

pytestmark = pytest.mark.heavy


def _client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://testserver"
    )


async def test_metrics_count_operations_latency_errors_and_backlogs(database):
    async with _client(database) as client:
        await client.post("/graphql", json={"query": "query Portail { currentTheme { title } }"})
        await client.post("/graphql", json={"query": "query Cassee { nope }"})
        text = (await client.get("/metrics")).text
    # Documents nobody registered are counted under one label, whatever name they claim.
    assert (
        'tec_graphql_operations_total{operation="other",transport="post",type="query"} 2.0' in text
    )
    assert "Portail" not in text and "Cassee" not in text
    assert 'tec_graphql_duration_seconds_bucket{le="0.005",operation="other"}' in text
    assert 'tec_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"} 1.0' in text
    assert 'tec_backlog{queue="outbox_lag_seconds"}' in text
    assert 'tec_backlog{queue="outbox_pending"}' in text
    assert 'tec_backlog{queue="delivery_queue_depth"}' in text


async def test_registered_documents_are_counted_by_name(database):
    import hashlib

    query = "query Portail { currentTheme { title } }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    async with _client(database) as client:
        await client.post("/graphql", json={"query": query, "extensions": extensions})
        await client.post("/graphql", json={"extensions": extensions})
        text = (await client.get("/metrics")).text
    assert (
        'tec_graphql_operations_total{operation="Portail",transport="post",type="query"} 2.0'
        in text
    )


async def test_refusals_are_counted_by_code_and_status(database):
    settings = database.replace(**{"rate_limit_anonymous": 2})
    async with _client(settings) as client:
        await client.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"Authorization": "Bearer tec_u_nope"},
        )
        for _ in range(3):
            await client.post("/graphql", json={"query": "{ __typename }"})
        text = (await client.get("/metrics")).text
    assert 'tec_refusals_total{code="UNAUTHENTICATED",status="401"} 1.0' in text
    assert 'tec_refusals_total{code="RATE_LIMITED",status="429"}' in text


async def test_metrics_can_require_a_token(database):
    async with _client(database.replace(**{"metrics_token": "s3cret"})) as client:
        assert (await client.get("/metrics")).status_code == 401
        ok = await client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200


def test_json_logs_carry_the_request_id(capsys):
    from gateway.http import request_id_var
    from tec.logs import configure_logging, log_config

    # The handlers write to this test's captured stderr, closed once it ends: each logger
    # the configuration touches gets its own handlers and level back, or what logs later
    # in this process (an SMTP server's thread) would write to a closed file.
    names = ["", *log_config(Settings())["loggers"]]
    saved = [(logging.getLogger(n), logging.getLogger(n).handlers[:]) for n in names]
    levels = [logger.level for logger, _ in saved]
    configure_logging(Settings(log_format="json", log_level="info"))
    token = request_id_var.set("abc123")
    try:
        logging.getLogger("tec.test").info("bonjour")
    finally:
        request_id_var.reset(token)
        for (logger, handlers), level in zip(saved, levels, strict=True):
            logger.handlers[:] = handlers
            logger.setLevel(level)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["message"] == "bonjour" and record["request_id"] == "abc123"
    assert record["level"] == "INFO" and record["logger"] == "tec.test"


async def test_tracing_records_a_span_per_operation(database):
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    async with _client(database.replace(**{"otel_enabled": True})) as client:
        await client.post("/graphql", json={"query": "query Traced { currentTheme { title } }"})
    names = [span.name for span in exporter.get_finished_spans()]
    assert any("Traced" in name or "GraphQL" in name for name in names), names


def test_several_workers_report_one_sum(tmp_path):
    """With TEC_WORKERS > 1, whichever worker answers a scrape reports every worker's
    operations (prometheus_client's multiprocess mode)."""
    from tests.live import live_server

    with live_server(tmp_path, TEC_WORKERS="2", TEC_CACHE_ENABLED="false") as server:
        for _ in range(20):
            server.http.post("/graphql", json={"query": "{ __typename }"})
        scrapes = [server.http.get("/metrics").text for _ in range(6)]
    line = 'tec_graphql_operations_total{operation="other",transport="post",type="query"} 20.0'
    assert all(line in scrape for scrape in scrapes), scrapes[0][:2000]
