"""Rate limits: per IP for anonymous callers, per account, per API key; shared by every
app process through Redis."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid

import httpx
import pytest

from gateway.app import create_app
from tests.live import live_server

QUERY = {"query": "{ currentTheme { title } }"}


def _client(settings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_anonymous_callers_are_limited_per_ip_with_headers(database):
    settings = database.replace(**{"rate_limit_anonymous": 3, "rate_limit_window": 60})
    async with _client(settings) as client:
        answers = [await client.post("/graphql", json=QUERY) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert answers[0].headers["ratelimit-policy"] == "3;w=60"
    assert answers[0].headers["ratelimit"].startswith("limit=3, remaining=2, reset=")
    refused = answers[3]
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_each_key_and_account_has_its_own_budget(database, principals):
    settings = database.replace(
        **{"rate_limit_anonymous": 1, "rate_limit_account": 2, "rate_limit_api_key": 2}
    )
    async with _client(settings) as client:
        anonymous = [await client.post("/graphql", json=QUERY) for _ in range(2)]
        editor = [
            await client.post("/graphql", json=QUERY, headers=principals["EDITOR"])
            for _ in range(3)
        ]
        key = [
            await client.post("/graphql", json=QUERY, headers=principals["PARTNER_KEY_READ"])
            for _ in range(3)
        ]
    assert [r.status_code for r in anonymous] == [200, 429]
    assert [r.status_code for r in editor] == [200, 200, 429]
    assert [r.status_code for r in key] == [200, 200, 429]


async def test_health_and_metrics_are_not_limited(database):
    settings = database.replace(**{"rate_limit_anonymous": 1})
    async with _client(settings) as client:
        codes = [(await client.get("/healthz")).status_code for _ in range(5)]
    assert codes == [200] * 5


def _redis_url() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return "redis://127.0.0.1:6379/15"
    except OSError:
        return None


REDIS = _redis_url()


@pytest.mark.skipif(REDIS is None, reason="no Redis answers on 127.0.0.1:6379")
def test_the_limit_holds_across_two_app_processes(tmp_path):
    """A load from a separate client against two real gateway processes sharing Redis:
    whatever process serves a request, the caller gets exactly its budget."""
    shared = {
        "TEC_REDIS_URL": REDIS,
        "TEC_RATE_LIMIT_ANONYMOUS": "40",
        "TEC_RATE_LIMIT_WINDOW": "60",
        "TEC_DATABASE_URL": f"sqlite://{tmp_path / 'shared.sqlite3'}",
        "TEC_SEARCH_WORKER": "false",
        "TEC_TRUSTED_PROXIES": "127.0.0.1",
    }
    # A client address of its own (through the trusted proxy header) keeps this run's
    # counter apart from any other run sharing the Redis server.
    headers = {"X-Forwarded-For": f"198.51.100.{uuid.uuid4().int % 250 + 1}, 10.0.0.1"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        live_server(tmp_path / "a", **shared) as first,
        live_server(tmp_path / "b", **shared) as second,
    ):

        async def load() -> list[int]:
            async with httpx.AsyncClient(timeout=10) as client:
                tasks = [
                    client.post(f"{server.base_url}/graphql", json=QUERY, headers=headers)
                    for _ in range(50)
                    for server in (first, second)
                ]
                return [r.status_code for r in await asyncio.gather(*tasks)]

        # Fixed windows: start the burst well inside one.
        while time.time() % 60 > 50:
            time.sleep(0.5)
        codes = asyncio.run(load())
    assert codes.count(200) == 40, codes
    assert codes.count(429) == 60


def test_memory_counter_is_used_without_redis():
    from gateway.ratelimit import MemoryCounter, build_counter

    assert isinstance(build_counter(""), MemoryCounter)


@pytest.mark.skipif(REDIS is None, reason="no Redis answers on 127.0.0.1:6379")
def test_sign_in_attempts_are_counted_across_app_processes(tmp_path):
    """Attempts for one address spread over two processes share one allowance."""
    shared = {
        "TEC_REDIS_URL": REDIS,
        "TEC_SIGN_IN_ATTEMPTS_PER_EMAIL": "4",
        "TEC_DATABASE_URL": f"sqlite://{tmp_path / 'shared.sqlite3'}",
        "TEC_SEARCH_WORKER": "false",
    }
    email = f"{uuid.uuid4().hex}@example.org"  # a throttle of its own on the shared Redis
    mutation = 'mutation($e: String!) { signIn(email: $e, password: "faux") { token } }'
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        live_server(tmp_path / "a", **shared) as first,
        live_server(tmp_path / "b", **shared) as second,
    ):
        codes = [
            server.graphql(mutation, {"e": email})["errors"][0]["extensions"]["code"]
            for server in (first, second, first, second, first, second)
        ]
    assert codes == ["UNAUTHENTICATED"] * 4 + ["RATE_LIMITED"] * 2
