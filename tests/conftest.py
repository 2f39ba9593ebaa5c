"""Fixtures: one migrated database with the demo data per test process.

SQLite (a temporary file) by default; PostgreSQL when ``TEC_TEST_DATABASE_URL`` is set,
in which case the whole session is skipped, with the reason, if the server does not
answer. Run the two backends in separate processes (``make test`` does).

The suite runs on pytest-xdist workers (``-n auto`` in pyproject's addopts: a worker more
than the cores, ``pytest_xdist_auto_num_workers`` below). Each worker is
a test process of its own: its SQLite file, its temporary directories, and on PostgreSQL
a database of its own, named after the one of ``TEC_TEST_DATABASE_URL`` and the worker
(``test_gw0``, ``test_gw1``…), created when missing. ``-n0`` runs the suite in one process.
"""

from __future__ import annotations

import asyncio
import compileall
import os
import re
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from argon2 import PasswordHasher, profiles
from hypothesis import settings as hypothesis_settings
from tortoise import Tortoise, connections

from gateway.app import create_app
from services import db
from services.accounts import service as account_service
from services.demo.loader import load_demo
from services.settings import Settings


def worker_database_url(url: str) -> str:
    """The PostgreSQL database of this test process: ``url`` itself when the suite runs in
    one process, ``url`` with the worker's name appended under pytest-xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path}_{worker}"))


POSTGRES_URL = worker_database_url(os.environ.get("TEC_TEST_DATABASE_URL", ""))

# Generated examples are the same at every run: derived from each test, never from the
# clock or an example database.
hypothesis_settings.register_profile("suite", derandomize=True, database=None, deadline=None)
hypothesis_settings.load_profile("suite")


def _backend_label() -> str:
    return "postgres" if POSTGRES_URL else "sqlite"


def pytest_report_header() -> str:
    return f"database backend: {_backend_label()}"


ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    # Test modules are imported through pytest's assertion rewriter, which keeps what it
    # rewrote in __pycache__ only where bytecode may be written: with
    # PYTHONDONTWRITEBYTECODE set (as on some machines), every worker would rewrite and
    # compile them all at every run. They are kept whatever the environment says.
    sys.dont_write_bytecode = False
    if hasattr(config, "workerinput"):
        return
    # The tests start many Python processes (workers, ``tec`` commands, servers): the
    # project's bytecode is compiled once here, so that none of them compiles it again,
    # PYTHONDONTWRITEBYTECODE or not.
    packages = ("tec", "gateway", "schema", "services", "search", "mailer", "tests")
    for package in packages:
        compileall.compile_dir(ROOT / package, quiet=2, workers=1)
    # What the workers of this run make once and share (tests/live.py: the demo database);
    # the workers inherit the variable, and the directory goes with the run.
    shared = tempfile.mkdtemp(prefix="tec-tests-")
    os.environ["TEC_TEST_SHARED_DIR"] = shared
    config.add_cleanup(lambda: shutil.rmtree(shared, ignore_errors=True))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules marked ``heavy`` (a live server, a browser, many processes or documents:
    ten seconds and more, ``heavy(seconds=N)`` where it is much more) run first, the
    longest first. The workers take whole modules in this order, so the long ones start
    while the others still have work, and the run ends on short modules instead of one
    worker finishing a long one alone."""

    def seconds(item: pytest.Item) -> float:
        marker = item.get_closest_marker("heavy")
        return 0 if marker is None else marker.kwargs.get("seconds", 10)

    items.sort(key=lambda item: -seconds(item))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: a worker more than the cores, because the tests spend part of their
    time waiting for the servers and commands they start (on 2 cores, 3 workers ran the
    suite in 3:40 where 2 took 4:10)."""
    return (os.cpu_count() or 1) + 1


async def _create_postgres_database(url: str) -> None:
    """Create the database of ``url`` on its server unless it exists."""
    import asyncpg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"\w+", name):
        return
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    conn = await asyncio.wait_for(asyncpg.connect(maintenance), timeout=3)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _postgres_answers(url: str) -> str | None:
    import asyncpg

    try:
        await _create_postgres_database(url)
        conn = await asyncio.wait_for(asyncpg.connect(url), timeout=3)
    except Exception as error:  # any failure means « not usable here »
        return f"{type(error).__name__}: {error}"
    await conn.close()
    return None


async def _reset_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Accounts made by the tests are hashed with argon2's cheapest profile, made for
    tests: the production profile costs a quarter of a second of CPU per hash or check,
    and the suite makes and signs in hundreds of accounts. The production parameters
    are checked in tests/services/test_accounts.py; ``tec`` processes keep them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(account_service, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
        yield


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    url = POSTGRES_URL or f"sqlite://{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    # The shared app measures execution (statement counts): the response cache is tested
    # on apps of its own (tests/gateway/test_cache*.py).
    # The whole session is one client: rate limits are tested on their own, with their own
    # small budgets (tests/gateway/test_ratelimit.py).
    unlimited = 10**9
    return Settings(
        database_url=url,
        # Links signed without TEC_SIGNING_SECRET: the development secret, kept out of var/.
        signing_secret_file=tmp_path_factory.mktemp("secret") / "signing-secret",
        port=8000,
        cache_enabled=False,
        rate_limit_anonymous=unlimited,
        rate_limit_account=unlimited,
        rate_limit_api_key=unlimited,
    )


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Settings]:
    """Migrated database holding the demo data, open for the whole session."""
    if POSTGRES_URL:
        problem = await _postgres_answers(POSTGRES_URL)
        if problem:
            pytest.skip(f"PostgreSQL does not answer at {POSTGRES_URL} ({problem})")
        await _reset_postgres(POSTGRES_URL)
    await db.migrate(settings.database)
    await Tortoise.init(config=db.tortoise_config(settings.database))
    await load_demo()
    yield settings
    await connections.close_all()


@pytest.fixture(scope="session")
def app(database: Settings) -> Any:
    return create_app(database)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    # The session fixture opened Tortoise; the app's lifespan is tested on its own.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


class GraphQLClient:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code in (200, 400, 401), response.text
        return response.json()

    async def data(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run a query that must succeed and return its ``data``."""
        body = await self(query, variables, headers)
        assert "errors" not in body, body["errors"]
        return body["data"]


USER_ERRORS = "errors { field code message }"
"""Selection of a payload's user errors, to put in a mutation's selection."""


def user_errors(body: dict[str, Any], mutation: str) -> list[dict[str, Any]]:
    """The user errors of ``mutation``'s payload in the answer ``body``: a refusal as
    data, so no top-level error, ``data`` intact and the payload's object null."""
    assert "errors" not in body, body["errors"]
    payload = body["data"][mutation]
    assert payload["errors"], f"{mutation} was not refused: {payload}"
    for name, value in payload.items():
        if name not in ("errors", "__typename"):
            assert value is None, f"{mutation} refused but returned its {name}: {value}"
    return payload["errors"]


def user_error(body: dict[str, Any], mutation: str) -> tuple[str, str | None]:
    """``(code, field)`` of the first user error of ``mutation`` in ``body``; the field
    is the last name of its path (``title`` for ``["input", "title"]``)."""
    first = user_errors(body, mutation)[0]
    return first["code"], (first["field"] or [None])[-1]


def payload(body: dict[str, Any], mutation: str, field: str) -> Any:
    """The object ``field`` of ``mutation``'s payload, which must have no user errors."""
    assert "errors" not in body, body["errors"]
    found = body["data"][mutation]
    assert found["errors"] == [], found["errors"]
    return found[field]


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


@pytest.fixture(scope="module")
async def ordinary_gql(database: Settings) -> AsyncIterator[GraphQLClient]:
    """A client of an app without the read compiler, for what tests the ordinary
    executor's loaders and statements (the compiler answers the lists it covers with one
    statement: tests/schema/compiler)."""
    from gateway.app import create_app

    app = create_app(database.replace(read_compiler=False))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield GraphQLClient(client)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
async def scratch_postgres() -> AsyncIterator[str]:
    """The URL of an empty PostgreSQL database of the test's own, on the server of
    ``TEC_TEST_DATABASE_URL``, dropped afterwards; the test is skipped without one."""
    import secrets
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    if not POSTGRES_URL:
        pytest.skip("PostgreSQL: set TEC_TEST_DATABASE_URL")
    parts = urlsplit(POSTGRES_URL)
    name = f"tec_scratch_{secrets.token_hex(4)}"
    try:
        admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")), timeout=5)
    except Exception as error:  # not usable here: say why
        pytest.skip(f"PostgreSQL does not answer at {POSTGRES_URL} ({error})")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


# --- Principals: one signed-in account or API key per kind of caller -----------------

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
async def principals(database: Settings) -> dict[str, dict[str, str]]:
    """``{principal: headers}`` for every kind of caller of services.policy.Principal."""
    from services.accounts import service as accounts

    made: dict[str, dict[str, str]] = {"ANONYMOUS": {}}
    people = {
        "ADMIN": {"role": "ADMIN"},
        "EDITOR": {"role": "EDITOR"},
        "LOCAL_AUTHORITY": {"role": "LOCAL_AUTHORITY", "territory_slug": "niort"},
        "PARTNER": {"role": "PARTNER", "organization_slug": "decider-ensemble"},
    }
    for name, extra in people.items():
        account = await accounts.create_account(
            f"{name.lower()}@principals.test", password=PASSWORD, display_name=name, **extra
        )
        made[name] = {"Authorization": f"Bearer {await accounts.issue_token(account)}"}
    for name, scopes in (
        ("PARTNER_KEY_READ", ["read"]),
        ("PARTNER_KEY_CONTRIBUTE", ["read", "contribute"]),
    ):
        _, secret = await accounts.create_api_key("icpc", scopes=scopes, name=name)
        made[name] = {"Authorization": f"Bearer {secret}"}
    return made
