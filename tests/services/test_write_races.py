"""Two writes of one object at the same moment, from two app processes: exactly one wins.

Each round makes a fresh object at version 1, then sends two mutations carrying that
version at the same moment to two real ``tec serve`` processes sharing the PostgreSQL
database. The loser gets ``CONFLICT`` on ``version`` and leaves nothing behind (no audit
entry, no outbox row); the object ends as the winner left it.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.audit.models import AuditEntry
from services.concepts.editing import ConceptChanges, create_concept
from services.concepts.models import Concept
from services.content import ContentModel, ContentStatus
from services.events.editing import EventChanges, create_event
from services.events.models import Event
from services.outbox.models import OutboxEntry
from services.resources.editing import ResourceChanges, create_resource
from services.resources.models import Resource
from services.themes.editing import ThemeChanges, create_theme
from services.themes.models import Theme
from services.viewer import Role, Viewer
from tests.conftest import POSTGRES_URL
from tests.live import LiveServer, serving

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not POSTGRES_URL,
        reason="write races need PostgreSQL shared by two tec serve processes "
        "(set TEC_TEST_DATABASE_URL); on SQLite see test_sqlite_busy.py",
    ),
]
ROUNDS = 20
EDITOR = Viewer(role=Role.EDITOR)


def _title() -> str:
    return f"Course {uuid.uuid4().hex[:8]}"


async def _new_event() -> Event:
    start = dt.datetime(2031, 5, 1, 9, tzinfo=dt.UTC)
    changes = EventChanges(title=_title(), starts_at=start, ends_at=start + dt.timedelta(hours=2))
    return await create_event(EDITOR, changes=changes)


@dataclass(frozen=True)
class Kind:
    model: type[ContentModel]
    create: Callable[[], Awaitable[ContentModel]]

    @property
    def name(self) -> str:
        return self.model.__name__

    def update(self, pk: int, title: str) -> tuple[str, dict[str, Any]]:
        document = (
            f"mutation($id: ID!, $v: Int!, $t: String!) {{ update{self.name}"
            f"(id: $id, version: $v, input: {{title: $t}}) {{ version title }} }}"
        )
        return document, {"id": _global_id(self.name, pk), "v": 1, "t": title}

    def delete(self, pk: int) -> tuple[str, dict[str, Any]]:
        document = (
            f"mutation($id: ID!, $v: Int!) {{ delete{self.name}(id: $id, version: $v) {{ id }} }}"
        )
        return document, {"id": _global_id(self.name, pk), "v": 1}

    def publish(self, pk: int) -> tuple[str, dict[str, Any]]:
        document = (
            "mutation($id: ID!, $v: Int!) { publish(id: $id, version: $v) { ... on Node { id } } }"
        )
        return document, {"id": _global_id(self.name, pk), "v": 1}


KINDS = [
    Kind(Resource, lambda: create_resource(EDITOR, changes=ResourceChanges(title=_title()))),
    Kind(Event, _new_event),
    Kind(Concept, lambda: create_concept(EDITOR, changes=ConceptChanges(title=_title()))),
    Kind(Theme, lambda: create_theme(EDITOR, changes=ThemeChanges(title=_title()))),
]


def _global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


@pytest.fixture(scope="module")
def servers(
    database: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two ``tec serve`` processes on the session's PostgreSQL database."""
    shared = {
        "TEC_DATABASE_URL": POSTGRES_URL,
        "TEC_CACHE_ENABLED": "false",
        "TEC_SEARCH_WORKER": "false",
        "TEC_RATE_LIMIT_ACCOUNT": str(10**9),
    }
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    with (
        serving(first, TEC_SEARCH_PATH=str(first / "search"), **shared) as a,
        serving(second, TEC_SEARCH_PATH=str(second / "search"), **shared) as b,
    ):
        yield a, b


@pytest.fixture
async def clients(
    servers: tuple[LiveServer, LiveServer], principals: dict[str, dict[str, str]]
) -> Any:
    headers = principals["EDITOR"]
    async with (
        httpx.AsyncClient(base_url=servers[0].base_url, headers=headers, timeout=30) as a,
        httpx.AsyncClient(base_url=servers[1].base_url, headers=headers, timeout=30) as b,
    ):
        # One request each first, so both connections are open when the race starts.
        for client in (a, b):
            assert (await client.get("/healthz")).status_code == 200
        yield a, b


@dataclass
class Outcome:
    """What one half of a race got back: ``OK`` with its data, or an error code."""

    code: str
    field: str | None = None
    message: str = ""
    data: dict[str, Any] | None = None


async def _send(client: httpx.AsyncClient, request: tuple[str, dict[str, Any]]) -> Outcome:
    document, variables = request
    body = (await client.post("/graphql", json={"query": document, "variables": variables})).json()
    if body.get("errors"):
        error = body["errors"][0]
        extensions = error.get("extensions") or {}
        return Outcome(extensions.get("code", "?"), extensions.get("field"), error["message"])
    return Outcome("OK", data=body["data"])


async def _race(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    first: tuple[str, dict[str, Any]],
    second: tuple[str, dict[str, Any]],
) -> tuple[Outcome, Outcome]:
    """Send ``first`` to one process and ``second`` to the other at the same moment."""
    a, b = await asyncio.gather(_send(clients[0], first), _send(clients[1], second))
    return a, b


def _lost(outcome: Outcome) -> bool:
    """A proper refusal: ``CONFLICT`` on ``version``, with a French message."""
    return (
        outcome.code == "CONFLICT"
        and outcome.field == "version"
        and "version" in outcome.message
        and "entre-temps" in outcome.message
    )


async def _actions(kind: Kind, pk: int) -> list[str]:
    """The audit trail of the object, oldest first."""
    return list(
        await AuditEntry.filter(entity_type=kind.name, entity_id=pk)
        .order_by("id")
        .values_list("action", flat=True)
    )


async def _outbox_rows(kind: Kind, pk: int) -> int:
    return await OutboxEntry.filter(entity_type=kind.name.lower(), entity_id=pk).count()


def _summary(rounds: list[tuple[Outcome, Outcome, list[str]]]) -> str:
    """Rounds that went wrong, counted by outcome pair, with the first problem of each."""
    wrong: dict[str, list[str]] = {}
    for first, second, problems in rounds:
        if problems:
            wrong.setdefault(f"{first.code}+{second.code}", []).append(problems[0])
    return f"{sum(len(v) for v in wrong.values())} of {len(rounds)} rounds wrong: " + "; ".join(
        f"{pair} x{len(problems)} ({problems[0]})" for pair, problems in wrong.items()
    )


def _expect(problems: list[str], condition: bool, what: str) -> None:
    if not condition:
        problems.append(what)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
async def test_an_update_and_a_delete_of_the_same_version_never_both_succeed(clients, kind):
    prefix = kind.name.lower()
    rounds = []
    for _ in range(ROUNDS):
        row = await kind.create()
        title = _title()
        updated, deleted = await _race(clients, kind.update(row.id, title), kind.delete(row.id))
        after = await kind.model.filter(id=row.id).first()
        actions = await _actions(kind, row.id)
        problems: list[str] = []
        if deleted.code == "OK":
            _expect(problems, _lost(updated), f"update got {updated.code}: {updated.message}")
            _expect(problems, after is None, "deleted row still there")
            _expect(problems, actions == [f"{prefix}.create", f"{prefix}.delete"], str(actions))
        else:
            _expect(problems, updated.code == "OK", f"update got {updated.code}")
            _expect(problems, _lost(deleted), f"delete got {deleted.code}: {deleted.message}")
            reported = (updated.data or {}).get(f"update{kind.name}")
            _expect(problems, reported == {"version": 2, "title": title}, str(reported))
            _expect(
                problems,
                after is not None and (after.version, after.title) == (2, title),
                "row not at version 2 with the new title",
            )
            _expect(problems, actions == [f"{prefix}.create", f"{prefix}.update"], str(actions))
        _expect(problems, await _outbox_rows(kind, row.id) == 2, "outbox rows != 2")
        rounds.append((updated, deleted, problems))
    assert not any(problems for *_, problems in rounds), _summary(rounds)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
async def test_two_deletes_of_the_same_version_delete_once(clients, kind):
    prefix = kind.name.lower()
    rounds = []
    for _ in range(ROUNDS):
        row = await kind.create()
        first, second = await _race(clients, kind.delete(row.id), kind.delete(row.id))
        problems: list[str] = []
        codes = sorted((first.code, second.code))
        _expect(problems, codes == ["CONFLICT", "OK"], f"codes {codes}")
        for outcome in (first, second):
            if outcome.code != "OK":
                _expect(problems, _lost(outcome), f"{outcome.code}: {outcome.message}")
        _expect(problems, await kind.model.filter(id=row.id).first() is None, "row still there")
        actions = await _actions(kind, row.id)
        _expect(problems, actions == [f"{prefix}.create", f"{prefix}.delete"], str(actions))
        _expect(problems, await _outbox_rows(kind, row.id) == 2, "outbox rows != 2")
        rounds.append((first, second, problems))
    assert not any(problems for *_, problems in rounds), _summary(rounds)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
async def test_a_publish_and_an_update_of_the_same_version_never_both_succeed(clients, kind):
    prefix = kind.name.lower()
    rounds = []
    for _ in range(ROUNDS):
        row = await kind.create()
        title = _title()
        published, updated = await _race(clients, kind.publish(row.id), kind.update(row.id, title))
        after = await kind.model.get(id=row.id)
        actions = await _actions(kind, row.id)
        problems: list[str] = []
        _expect(problems, after.version == 2, f"row at version {after.version}")
        if published.code == "OK":
            _expect(problems, _lost(updated), f"update got {updated.code}: {updated.message}")
            _expect(
                problems,
                (after.status, after.title) == (ContentStatus.PUBLISHED, row.title),
                f"row {after.status} {after.title!r}",
            )
            _expect(problems, actions == [f"{prefix}.create", f"{prefix}.publish"], str(actions))
        else:
            _expect(problems, updated.code == "OK", f"update got {updated.code}")
            _expect(problems, _lost(published), f"publish got {published.code}")
            _expect(
                problems,
                (after.status, after.title) == (ContentStatus.DRAFT, title),
                f"row {after.status} {after.title!r}",
            )
            _expect(problems, actions == [f"{prefix}.create", f"{prefix}.update"], str(actions))
        _expect(problems, await _outbox_rows(kind, row.id) == 2, "outbox rows != 2")
        rounds.append((published, updated, problems))
    assert not any(problems for *_, problems in rounds), _summary(rounds)
