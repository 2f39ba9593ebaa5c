"""HTTP hygiene: GraphQL over HTTP, CORS, security headers, request IDs, body size."""

from __future__ import annotations

import pytest

QUERY = "{ currentTheme { title } }"


async def test_graphql_response_media_type_and_status_codes(client):
    accept = {"Accept": "application/graphql-response+json, application/json;q=0.9"}
    ok = await client.post("/graphql", json={"query": QUERY}, headers=accept)
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "application/graphql-response+json"
    invalid = await client.post("/graphql", json={"query": "{ nope }"}, headers=accept)
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    # Legacy clients asking for application/json keep getting 200 with errors.
    legacy = await client.post("/graphql", json={"query": "{ nope }"})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")


async def test_no_mutation_over_get(client):
    response = await client.get(
        "/graphql",
        params={"query": "mutation { signOut { signedOut } }"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
async def test_csrf_prone_content_types_are_refused(client, content_type):
    response = await client.post(
        "/graphql",
        content=b'{"query": "{ currentTheme { title } }"}',
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_queries_over_get_work(client):
    response = await client.get(
        "/graphql", params={"query": QUERY}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200 and response.json()["data"]["currentTheme"]


async def test_request_ids(client):
    response = await client.post("/graphql", json={"query": QUERY})
    assert len(response.headers["x-request-id"]) == 32
    echoed = await client.post(
        "/graphql", json={"query": QUERY}, headers={"X-Request-ID": "partner-42.a"}
    )
    assert echoed.headers["x-request-id"] == "partner-42.a"
    forged = await client.post(
        "/graphql", json={"query": QUERY}, headers={"X-Request-ID": "bad id\r\nInjected: 1"}
    )
    assert forged.headers["x-request-id"] != "bad id"


async def test_request_id_is_on_log_lines(client, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="tec.graphql"):
        await client.post(
            "/graphql",
            json={"query": "mutation { signOut { signedOut } }"},
            headers={"X-Request-ID": "trace-me-1"},
        )
    records = [r for r in caplog.records if r.name == "tec.graphql"]
    assert records and all(getattr(r, "request_id", None) == "trace-me-1" for r in records)


async def test_security_headers_on_the_ide(client):
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    api = await client.post("/graphql", json={"query": QUERY})
    assert api.headers["x-content-type-options"] == "nosniff"


async def test_body_size_limit(client):
    big = {"query": QUERY, "variables": {"padding": "x" * 1_100_000}}
    response = await client.post("/graphql", json=big)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_cors_allows_only_listed_origins(database):
    import httpx

    from gateway.app import create_app

    settings = database.replace(**{"cors_origins": ["https://www.decider-ensemble.fr"]})
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        }
        allowed = await client.options(
            "/graphql", headers={"Origin": "https://www.decider-ensemble.fr", **preflight}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://www.decider-ensemble.fr"
        refused = await client.options(
            "/graphql", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in refused.headers
