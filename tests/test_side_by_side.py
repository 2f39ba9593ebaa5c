"""The README's two instances side by side (`TEC_PORT=8001
TEC_DATABASE_URL=sqlite://var/other.sqlite3 make demo` next to `make demo`), both started
from one directory: each keeps its own search index."""

from __future__ import annotations

import contextlib
import time

import pytest

from tests.live import live_server

pytestmark = pytest.mark.heavy

SEARCH = """query($q: String!) { search(query: $q) { total hits { node {
  ... on Resource { title } } } } }"""
CREATE = """mutation($title: String!) { createResource(input: {title: $title, kind: GUIDE,
  summary: "Publié sur la seconde instance", url: "https://example.org/seconde"}) {
  resource { id version } errors { code message } } }"""
PUBLISH = """mutation($id: ID!) { publish(id: $id, version: 1) {
  node { ... on Resource { status } } errors { code message } } }"""
TITLE = "Guide des jardins partagés de Guichen"


def _found(server) -> int:
    return server.graphql(SEARCH, {"q": TITLE})["data"]["search"]["total"]


def test_two_instances_started_from_one_directory_keep_their_own_index(tmp_path):
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(
            live_server(tmp_path, TEC_DATABASE_URL="sqlite://var/tec.sqlite3")
        )
        other = stack.enter_context(
            live_server(tmp_path, TEC_DATABASE_URL="sqlite://var/other.sqlite3")
        )
        other.tec(
            "user",
            "create",
            "--email",
            "editrice@other.test",
            "--role",
            "editor",
            "--password-stdin",
            stdin="un mot de passe assez long\n",
        )
        token = other.tec("token", "create", "--email", "editrice@other.test")
        created = other.graphql(CREATE, {"title": TITLE}, token=token)
        assert "errors" not in created, created
        published = other.graphql(
            PUBLISH, {"id": created["data"]["createResource"]["resource"]["id"]}, token=token
        )
        assert published["data"]["publish"]["node"]["status"] == "PUBLISHED", published

        # The other instance's own worker indexes it (a real process: wait for it).
        deadline = time.monotonic() + 30
        while _found(other) == 0:
            assert time.monotonic() < deadline, "the other instance never indexed its resource"
            time.sleep(0.2)
        assert _found(first) == 0
        assert first.graphql(SEARCH, {"q": "participation"})["data"]["search"]["total"] > 0

    assert (tmp_path / "var" / "tec" / "search").is_dir()
    assert (tmp_path / "var" / "other" / "search").is_dir()
    assert not (tmp_path / "var" / "search").exists()
