"""Two real gateway processes on one database: a write through one is visible on the very
next request through the other, whose response cache was warm — and the other's entries
that the write cannot change stay. On SQLite, and on PostgreSQL when
``TEC_TEST_DATABASE_URL`` names a server (a scratch database of its own)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import LiveServer, live_server, scratch_postgres, serving

pytestmark = pytest.mark.heavy

POSTGRES_URL = os.environ.get("TEC_TEST_DATABASE_URL", "")
QUERY = '{ organization(slug: "icpc") { id name description } }'
EVENTS = "{ events(first: 20) { nodes { id version slug title startsAt city } } }"
UPDATE = """mutation($id: ID!, $d: String!) {
  updateOrganization(id: $id, input: {description: $d}) {
    organization { description } errors { code } } }"""
UPDATE_EVENT = """mutation($id: ID!, $v: Int!, $t: String!) {
  updateEvent(id: $id, version: $v, input: {title: $t}) { errors { code } } }"""


def _get(server, query: str, etag: str | None = None):
    headers = {"If-None-Match": etag} if etag else {}
    return server.http.get("/graphql", params={"query": query}, headers=headers)


@contextlib.contextmanager
def _two_processes(tmp_path: Path, backend: str) -> Iterator[tuple[LiveServer, LiveServer, str]]:
    """Processes A and B on one database, and an editor's token."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with contextlib.ExitStack() as stack:
        if backend == "postgres":
            if not POSTGRES_URL:
                pytest.skip("set TEC_TEST_DATABASE_URL to run it on PostgreSQL")
            database = stack.enter_context(scratch_postgres(POSTGRES_URL, prefix="tec_cache"))
        else:
            database = f"sqlite://{tmp_path / 'shared.sqlite3'}"
        a = stack.enter_context(
            live_server(
                tmp_path / "a",
                TEC_DATABASE_URL=database,
                TEC_SEARCH_PATH=str(tmp_path / "a" / "search"),
            )
        )
        # B serves the database A filled (a SQLite file is served as it is).
        second = live_server if backend == "sqlite" else serving
        b = stack.enter_context(
            second(
                tmp_path / "b",
                TEC_DATABASE_URL=database,
                TEC_SEARCH_PATH=str(tmp_path / "b" / "search"),
                TEC_SEARCH_WORKER="false",
            )
        )
        a.tec(
            "user",
            "create",
            "--email",
            "cache@live.test",
            "--role",
            "editor",
            "--password-stdin",
            stdin="un mot de passe assez long\n",
        )
        yield a, b, a.tec("token", "create", "--email", "cache@live.test")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_write_through_one_process_is_seen_by_the_next_request_through_another(tmp_path, backend):
    with _two_processes(tmp_path, backend) as (a, b, editor):
        first = _get(b, QUERY)
        warm = _get(b, QUERY)
        assert warm.headers["x-tec-cache"] == "hit"
        assert _get(b, QUERY, first.headers["etag"]).status_code == 304
        org = first.json()["data"]["organization"]
        events = _get(b, EVENTS)
        assert _get(b, EVENTS).headers["x-tec-cache"] == "hit"

        for n in range(3):
            text = f"Écrit par le processus A, n° {n}"
            written = a.graphql(UPDATE, {"id": org["id"], "d": text}, token=editor)
            assert "errors" not in written, written
            assert written["data"]["updateOrganization"]["errors"] == [], written
            seen = _get(b, QUERY, first.headers["etag"])
            assert seen.status_code == 200  # the old ETag no longer matches
            assert seen.json()["data"]["organization"]["description"] == text
            assert seen.headers["etag"] != first.headers["etag"]
            # The event list selects nothing of organisations: B keeps answering it.
            kept = _get(b, EVENTS, events.headers["etag"])
            assert kept.status_code == 304 and kept.headers["x-tec-cache"] == "hit"

        event = events.json()["data"]["events"]["nodes"][0]
        title = "Renommé par le processus A"
        variables = {"id": event["id"], "v": event["version"], "t": title}
        written = a.graphql(UPDATE_EVENT, variables, token=editor)
        assert written["data"]["updateEvent"]["errors"] == [], written
        renamed = _get(b, EVENTS, events.headers["etag"])
        assert renamed.status_code == 200 and renamed.headers["x-tec-cache"] == "miss"
        assert renamed.json()["data"]["events"]["nodes"][0]["title"] == title
