"""Two writes of one object at the same moment, from two app processes on PostgreSQL:
exactly one wins, the other gets ``CONFLICT`` and changes nothing (see tests/races.py).

Each pair is played 20 times per versioned content type, a fresh object per round.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.conftest import POSTGRES_URL
from tests.live import LiveServer
from tests.races import (
    KINDS,
    Clients,
    clients_of,
    delete_against_delete,
    publish_against_update,
    summary,
    two_servers,
    update_against_delete,
)

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="write races need PostgreSQL shared by two tec serve processes (set "
    "TEC_TEST_DATABASE_URL); SQLite's are in test_sqlite_busy.py",
)


@pytest.fixture(scope="module")
def servers(
    database: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    with two_servers(tmp_path_factory.mktemp("races"), TEC_DATABASE_URL=POSTGRES_URL) as pair:
        yield pair


@pytest.fixture
async def clients(servers, principals) -> AsyncIterator[Clients]:
    async with clients_of(servers, principals["EDITOR"]) as pair:
        yield pair


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
async def test_an_update_and_a_delete_of_the_same_version_never_both_succeed(clients, kind):
    rounds = await update_against_delete(clients, kind)
    assert not any(r.problems for r in rounds), summary(rounds)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
async def test_two_deletes_of_the_same_version_delete_once(clients, kind):
    rounds = await delete_against_delete(clients, kind)
    assert not any(r.problems for r in rounds), summary(rounds)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
async def test_a_publish_and_an_update_of_the_same_version_never_both_succeed(clients, kind):
    rounds = await publish_against_update(clients, kind)
    assert not any(r.problems for r in rounds), summary(rounds)
