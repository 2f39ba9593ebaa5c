"""Two writes of one object sent at the same moment to two real ``tec serve`` processes.

Each round makes a fresh object at version 1 (in the test process), then sends two
mutations carrying that version, one to each process, at the same moment. Exactly one
may win; the loser gets ``CONFLICT`` on ``version`` and leaves nothing behind (no audit
entry, no outbox row); the object ends as the winner left it. A round's problems are
collected rather than asserted at once, so that a failure counts every bad round.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from services.audit.models import AuditEntry
from services.concepts.content_type import CONCEPT
from services.concepts.models import Concept
from services.content import ContentModel, ContentStatus
from services.editing import create_content
from services.events.content_type import EVENT
from services.events.models import Event
from services.outbox.models import OutboxEntry
from services.resources.content_type import RESOURCE
from services.resources.models import Resource
from services.themes.content_type import THEME
from services.themes.models import Theme
from services.viewer import Role, Viewer
from tests.conftest import USER_ERRORS
from tests.live import LiveServer, serving
from tests.unique import unique_tag

ROUNDS = 20
EDITOR = Viewer(role=Role.EDITOR)
Request = tuple[str, dict[str, Any]]


def _title() -> str:
    return f"Course {unique_tag(8)}"


def global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


async def _new_event() -> Event:
    start = dt.datetime(2031, 5, 1, 9, tzinfo=dt.UTC)
    given = {"title": _title(), "starts_at": start, "ends_at": start + dt.timedelta(hours=2)}
    return await create_content(EDITOR, EVENT, given)


@dataclass(frozen=True)
class Kind:
    """A versioned content type, and the mutations that write it."""

    model: type[ContentModel]
    create: Callable[[], Awaitable[ContentModel]]

    @property
    def name(self) -> str:
        return self.model.__name__

    @property
    def payload_field(self) -> str:
        """The object's field in the mutations' payloads (``resource``)."""
        return self.name[0].lower() + self.name[1:]

    def update(self, pk: int, title: str) -> Request:
        document = (
            f"mutation($id: ID!, $v: Int!, $t: String!) {{ update{self.name}"
            f"(id: $id, version: $v, input: {{title: $t}}) "
            f"{{ {self.payload_field} {{ version title }} {USER_ERRORS} }} }}"
        )
        return document, {"id": global_id(self.name, pk), "v": 1, "t": title}

    def delete(self, pk: int) -> Request:
        document = (
            f"mutation($id: ID!, $v: Int!) {{ delete{self.name}(id: $id, version: $v) "
            f"{{ deletedId {USER_ERRORS} }} }}"
        )
        return document, {"id": global_id(self.name, pk), "v": 1}

    def publish(self, pk: int) -> Request:
        document = (
            "mutation($id: ID!, $v: Int!) { publish(id: $id, version: $v) { node { id } "
            f"{USER_ERRORS} }} }}"
        )
        return document, {"id": global_id(self.name, pk), "v": 1}


KINDS = [
    Kind(Resource, lambda: create_content(EDITOR, RESOURCE, {"title": _title()})),
    Kind(Event, _new_event),
    Kind(Concept, lambda: create_content(EDITOR, CONCEPT, {"title": _title()})),
    Kind(Theme, lambda: create_content(EDITOR, THEME, {"title": _title()})),
]


@contextlib.contextmanager
def two_servers(root: Path, **settings: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two ``tec serve`` processes on one database (``TEC_DATABASE_URL`` in ``settings``)."""
    shared = {
        "TEC_CACHE_ENABLED": "false",
        "TEC_SEARCH_WORKER": "false",
        "TEC_RATE_LIMIT_ACCOUNT": str(10**9),
        **settings,
    }
    first, second = root / "first", root / "second"
    first.mkdir()
    second.mkdir()
    with (
        serving(first, TEC_SEARCH_PATH=str(first / "search"), **shared) as a,
        serving(second, TEC_SEARCH_PATH=str(second / "search"), **shared) as b,
    ):
        yield a, b


Clients = tuple[httpx.AsyncClient, httpx.AsyncClient]


@contextlib.asynccontextmanager
async def clients_of(
    servers: tuple[LiveServer, LiveServer], headers: dict[str, str]
) -> AsyncIterator[Clients]:
    """One HTTP client per server, its connection already open (nothing to set up when
    the race starts)."""
    async with (
        httpx.AsyncClient(base_url=servers[0].base_url, headers=headers, timeout=60) as a,
        httpx.AsyncClient(base_url=servers[1].base_url, headers=headers, timeout=60) as b,
    ):
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


async def send(client: httpx.AsyncClient, request: Request) -> Outcome:
    """A top-level error or a payload's first user error (its field the last name of its
    path), or ``OK``."""
    document, variables = request
    body = (await client.post("/graphql", json={"query": document, "variables": variables})).json()
    if body.get("errors"):
        error = body["errors"][0]
        extensions = error.get("extensions") or {}
        return Outcome(extensions.get("code", "?"), extensions.get("field"), error["message"])
    for answer in body["data"].values():
        if isinstance(answer, dict) and answer.get("errors"):
            first = answer["errors"][0]
            return Outcome(first["code"], (first["field"] or [None])[-1], first["message"])
    return Outcome("OK", data=body["data"])


async def race(clients: Clients, first: Request, second: Request) -> tuple[Outcome, Outcome]:
    """Send ``first`` to one process and ``second`` to the other at the same moment."""
    a, b = await asyncio.gather(send(clients[0], first), send(clients[1], second))
    return a, b


def lost(outcome: Outcome) -> bool:
    """A proper refusal: ``CONFLICT`` on ``version``, with a French message."""
    return (
        outcome.code == "CONFLICT"
        and outcome.field == "version"
        and "version" in outcome.message
        and "entre-temps" in outcome.message
    )


@dataclass
class Round:
    first: Outcome
    second: Outcome
    problems: list[str] = field(default_factory=list)

    def expect(self, condition: bool, what: str) -> None:
        if not condition:
            self.problems.append(what)


def summary(rounds: list[Round]) -> str:
    """Rounds that went wrong, counted by outcome pair, with the first problem of each."""
    wrong: dict[str, list[str]] = {}
    for played in rounds:
        if played.problems:
            pair = f"{played.first.code}+{played.second.code}"
            wrong.setdefault(pair, []).append(played.problems[0])
    counted = sum(len(v) for v in wrong.values())
    return f"{counted} of {len(rounds)} rounds wrong: " + "; ".join(
        f"{pair} x{len(problems)} ({problems[0]})" for pair, problems in wrong.items()
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


async def update_against_delete(clients: Clients, kind: Kind, rounds: int = ROUNDS) -> list[Round]:
    prefix, played = kind.name.lower(), []
    for _ in range(rounds):
        row = await kind.create()
        title = _title()
        updated, deleted = await race(clients, kind.update(row.id, title), kind.delete(row.id))
        after = await kind.model.filter(id=row.id).first()
        actions = await _actions(kind, row.id)
        this = Round(updated, deleted)
        if deleted.code == "OK":
            this.expect(lost(updated), f"update got {updated.code}: {updated.message}")
            this.expect(after is None, "deleted row still there")
            this.expect(actions == [f"{prefix}.create", f"{prefix}.delete"], str(actions))
        else:
            this.expect(updated.code == "OK", f"update got {updated.code}")
            this.expect(lost(deleted), f"delete got {deleted.code}: {deleted.message}")
            reported = (updated.data or {}).get(f"update{kind.name}", {}).get(kind.payload_field)
            this.expect(reported == {"version": 2, "title": title}, str(reported))
            this.expect(
                after is not None and (after.version, after.title) == (2, title),
                "row not at version 2 with the new title",
            )
            this.expect(actions == [f"{prefix}.create", f"{prefix}.update"], str(actions))
        this.expect(await _outbox_rows(kind, row.id) == 2, "outbox rows != 2")
        played.append(this)
    return played


async def delete_against_delete(clients: Clients, kind: Kind, rounds: int = ROUNDS) -> list[Round]:
    prefix, played = kind.name.lower(), []
    for _ in range(rounds):
        row = await kind.create()
        this = Round(*await race(clients, kind.delete(row.id), kind.delete(row.id)))
        codes = sorted((this.first.code, this.second.code))
        this.expect(codes == ["CONFLICT", "OK"], f"codes {codes}")
        for outcome in (this.first, this.second):
            if outcome.code != "OK":
                this.expect(lost(outcome), f"{outcome.code}: {outcome.message}")
        this.expect(await kind.model.filter(id=row.id).first() is None, "row still there")
        actions = await _actions(kind, row.id)
        this.expect(actions == [f"{prefix}.create", f"{prefix}.delete"], str(actions))
        this.expect(await _outbox_rows(kind, row.id) == 2, "outbox rows != 2")
        played.append(this)
    return played


async def publish_against_update(clients: Clients, kind: Kind, rounds: int = ROUNDS) -> list[Round]:
    prefix, played = kind.name.lower(), []
    for _ in range(rounds):
        row = await kind.create()
        title = _title()
        published, updated = await race(clients, kind.publish(row.id), kind.update(row.id, title))
        after = await kind.model.get(id=row.id)
        actions = await _actions(kind, row.id)
        this = Round(published, updated)
        this.expect(after.version == 2, f"row at version {after.version}")
        if published.code == "OK":
            this.expect(lost(updated), f"update got {updated.code}: {updated.message}")
            this.expect(
                (after.status, after.title) == (ContentStatus.PUBLISHED, row.title),
                f"row {after.status} {after.title!r}",
            )
            this.expect(actions == [f"{prefix}.create", f"{prefix}.publish"], str(actions))
        else:
            this.expect(updated.code == "OK", f"update got {updated.code}")
            this.expect(lost(published), f"publish got {published.code}")
            this.expect(
                (after.status, after.title) == (ContentStatus.DRAFT, title),
                f"row {after.status} {after.title!r}",
            )
            this.expect(actions == [f"{prefix}.create", f"{prefix}.update"], str(actions))
        this.expect(await _outbox_rows(kind, row.id) == 2, "outbox rows != 2")
        played.append(this)
    return played
