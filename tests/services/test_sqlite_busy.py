"""Two app processes on one SQLite file: writers queue for the database, and a database
kept busy longer than ``TEC_SQLITE_BUSY_TIMEOUT`` is a coded error that changes nothing.

The test process is the other writer: it holds SQLite's write lock (``BEGIN IMMEDIATE``
on a connection of its own) while a ``tec serve`` process tries to write.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.audit.models import AuditEntry
from services.editing import create_content
from services.resources.content_type import RESOURCE as RESOURCE_TYPE
from services.resources.models import Resource
from services.settings import Settings
from tests.conftest import POSTGRES_URL
from tests.live import LiveServer
from tests.races import (
    EDITOR,
    KINDS,
    Clients,
    clients_of,
    delete_against_delete,
    global_id,
    send,
    summary,
    two_servers,
    update_against_delete,
)

pytestmark = [
    pytest.mark.skipif(
        bool(POSTGRES_URL), reason="SQLite's write lock: run without TEC_TEST_DATABASE_URL"
    ),
    pytest.mark.heavy,
]
BUSY_TIMEOUT = 3.0  # seconds, for the two servers
RESOURCE = KINDS[0]
READ = """query($id: ID!) { node(id: $id) { ... on Resource { title version } } }"""


@pytest.fixture(scope="module")
def servers(
    database: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    with two_servers(
        tmp_path_factory.mktemp("busy"),
        TEC_DATABASE_URL=database.database.database_url,
        TEC_SQLITE_BUSY_TIMEOUT=str(BUSY_TIMEOUT),
    ) as pair:
        yield pair


@pytest.fixture
async def clients(servers, principals) -> AsyncIterator[Clients]:
    async with clients_of(servers, principals["EDITOR"]) as pair:
        yield pair


@contextlib.contextmanager
def write_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """SQLite's write lock on ``path``, held by this process until the block ends."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield holder
        if holder.in_transaction:
            holder.execute("ROLLBACK")
    finally:
        holder.close()


async def _resource() -> Resource:
    return await create_content(EDITOR, RESOURCE_TYPE, {"title": "Verrou"})


async def _audit_entries(pk: int) -> int:
    return await AuditEntry.filter(entity_type="Resource", entity_id=pk).count()


async def test_a_write_kept_waiting_beyond_the_busy_timeout_is_unavailable_and_changes_nothing(
    database: Settings, clients: Clients
) -> None:
    resource = await _resource()
    assert database.database.sqlite_path is not None
    with write_lock(database.database.sqlite_path):
        refused = await send(clients[0], RESOURCE.update(resource.id, "Bloquée"))
        read = await send(clients[1], (READ, {"id": global_id("Resource", resource.id)}))
    assert (refused.code, refused.field) == ("SERVICE_UNAVAILABLE", None), refused
    assert refused.message.startswith("La base de données est occupée")
    assert read.code == "OK"  # readers never wait for the writer
    assert read.data == {"node": {"title": "Verrou", "version": 1}}
    after = await Resource.get(id=resource.id)
    assert (after.title, after.version) == ("Verrou", 1)
    assert await _audit_entries(resource.id) == 1  # its creation only
    again = await send(clients[0], RESOURCE.update(resource.id, "Débloquée"))
    assert again.code == "OK", again
    assert again.data == {
        "updateResource": {"resource": {"version": 2, "title": "Débloquée"}, "errors": []}
    }


async def test_a_write_lock_released_within_the_busy_timeout_is_waited_for(
    database: Settings, clients: Clients
) -> None:
    resource = await _resource()
    assert database.database.sqlite_path is not None
    released: list[Any] = []
    with write_lock(database.database.sqlite_path) as holder:

        def release() -> None:
            holder.execute("ROLLBACK")
            released.append(True)

        asyncio.get_running_loop().call_later(0.2, release)
        outcome = await send(clients[0], RESOURCE.update(resource.id, "Attendue"))
    assert released, "the write was answered before the lock was released"
    assert outcome.code == "OK", outcome
    assert outcome.data == {
        "updateResource": {"resource": {"version": 2, "title": "Attendue"}, "errors": []}
    }


async def test_an_api_key_is_still_accepted_while_its_last_use_cannot_be_noted(
    database: Settings, servers: tuple[LiveServer, LiveServer]
) -> None:
    from services.accounts import service as accounts

    key, secret = await accounts.create_api_key("icpc", scopes=["read"], name="Occupée")
    assert key.last_used_at is None and database.database.sqlite_path is not None
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=servers[0].base_url, timeout=60) as client:
        with write_lock(database.database.sqlite_path):
            response = await client.post(
                "/graphql", json={"query": "{ __typename }"}, headers=headers
            )
        assert response.status_code == 200, response.text
        assert response.json() == {"data": {"__typename": "Query"}}
        noted = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
        assert noted.status_code == 200
    await key.refresh_from_db()
    assert key.last_used_at is not None  # noted by the request after the lock


async def test_an_update_and_a_delete_from_two_processes_give_one_conflict_not_an_error(
    clients: Clients,
) -> None:
    rounds = await update_against_delete(clients, RESOURCE)
    assert not any(r.problems for r in rounds), summary(rounds)


async def test_two_deletes_from_two_processes_delete_once(clients: Clients) -> None:
    rounds = await delete_against_delete(clients, RESOURCE)
    assert not any(r.problems for r in rounds), summary(rounds)
