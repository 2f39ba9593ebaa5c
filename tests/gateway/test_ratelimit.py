"""Rate limits: per IP for anonymous callers, per account, per API key; shared by every
app process through Redis."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
import uuid

import httpx
import pytest

from gateway.app import create_app
from tests.clock import FakeClock
from tests.live import live_server

pytestmark = pytest.mark.heavy

QUERY = {"query": "{ currentTheme { title } }"}


def _client(settings, clock=None) -> httpx.AsyncClient:
    app = create_app(settings) if clock is None else create_app(settings, clock=clock)
    transport = httpx.ASGITransport(app=app)
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


async def test_a_spent_budget_comes_back_with_the_next_window(database):
    # Ten seconds before a minute ends: windows are fixed, aligned on the clock.
    clock = FakeClock(dt.datetime(2026, 3, 2, 10, 0, 50, tzinfo=dt.UTC))
    settings = database.replace(**{"rate_limit_anonymous": 2, "rate_limit_window": 60})
    async with _client(settings, clock) as client:
        spent = [await client.post("/graphql", json=QUERY) for _ in range(3)]
        assert [r.status_code for r in spent] == [200, 200, 429]
        assert spent[2].headers["retry-after"] == "10"
        clock.advance(9)
        still = await client.post("/graphql", json=QUERY)
        assert (still.status_code, still.headers["retry-after"]) == (429, "1")
        clock.advance(1)
        renewed = await client.post("/graphql", json=QUERY)
    assert renewed.status_code == 200
    assert renewed.headers["ratelimit"].startswith("limit=2, remaining=1, reset=60")


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


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """Two real gateway processes on one database, sharing Redis."""
    if REDIS is None:
        pytest.skip("no Redis answers on 127.0.0.1:6379")
    tmp_path = tmp_path_factory.mktemp("two-processes")
    shared = {
        "TEC_REDIS_URL": REDIS,
        "TEC_RATE_LIMIT_ANONYMOUS": "40",
        "TEC_RATE_LIMIT_WINDOW": "60",
        "TEC_SIGN_IN_ATTEMPTS_PER_EMAIL": "4",
        "TEC_DATABASE_URL": f"sqlite://{tmp_path / 'shared.sqlite3'}",
        "TEC_SEARCH_WORKER": "false",
        "TEC_TRUSTED_PROXIES": "127.0.0.1",
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        live_server(tmp_path / "a", **shared) as first,
        live_server(tmp_path / "b", **shared) as second,
    ):
        yield first, second


def _client_address() -> dict[str, str]:
    """A client address of its own, as the trusted proxy (127.0.0.1) reports it: it keeps
    this run's counters apart from any other run sharing the Redis server."""
    return {"X-Forwarded-For": f"198.51.{uuid.uuid4().int % 250 + 1}.{uuid.uuid4().int % 250 + 1}"}


def test_the_limit_holds_across_two_app_processes(two_processes):
    """A load from a separate client against two real gateway processes sharing Redis:
    whatever process serves a request, the caller gets exactly its budget."""
    first, second = two_processes

    async def load(headers: dict[str, str]) -> list[int]:
        # Ten requests in flight at a time, over both processes: concurrent, without
        # queueing so many in one process that its Redis calls time out (the limiter lets
        # requests through when Redis does not answer in time).
        limits = httpx.Limits(max_connections=10)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            tasks = [
                client.post(f"{server.base_url}/graphql", json=QUERY, headers=headers)
                for _ in range(50)
                for server in (first, second)
            ]
            return [r.status_code for r in await asyncio.gather(*tasks)]

    # Windows are fixed, on the processes' clock (this machine's): a burst that straddles
    # the end of a minute is spread over two budgets, and is sent again from another
    # address. A burst takes a second or two: the next one fits.
    for _ in range(2):
        began = time.time()
        codes = asyncio.run(load(_client_address()))
        if int(began) // 60 == int(time.time()) // 60:
            break
    assert codes.count(200) == 40, codes
    assert codes.count(429) == 60


def test_memory_counter_is_used_without_redis():
    from gateway.ratelimit import MemoryCounter, build_counter

    assert isinstance(build_counter(""), MemoryCounter)


def test_sign_in_attempts_are_counted_across_app_processes(two_processes):
    """Attempts for one address spread over two processes share one allowance."""
    first, second = two_processes
    email = f"{uuid.uuid4().hex}@example.org"  # a throttle of its own on the shared Redis
    mutation = 'mutation($e: String!) { signIn(email: $e, password: "faux") { token } }'
    headers = _client_address()
    codes = []
    for server in (first, second, first, second, first, second):
        answer = server.http.post(
            "/graphql", json={"query": mutation, "variables": {"e": email}}, headers=headers
        )
        codes.append(answer.json()["errors"][0]["extensions"]["code"])
    assert codes == ["UNAUTHENTICATED"] * 4 + ["RATE_LIMITED"] * 2
