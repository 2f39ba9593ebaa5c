"""Two real gateway processes on one database: a write through one is visible on the very
next request through the other, whose response cache was warm."""

from __future__ import annotations

import contextlib

from tests.live import live_server

QUERY = '{ organization(slug: "icpc") { id name description } }'
UPDATE = """mutation($id: ID!, $d: String!) {
  updateOrganization(id: $id, input: {description: $d}) {
    organization { description } errors { code } } }"""


def _get(server, query: str, etag: str | None = None):
    import httpx

    headers = {"If-None-Match": etag} if etag else {}
    return httpx.get(
        f"{server.base_url}/graphql", params={"query": query}, headers=headers, timeout=10
    )


def test_a_write_through_one_process_is_seen_by_the_next_request_through_another(tmp_path):
    database = f"sqlite://{tmp_path / 'shared.sqlite3'}"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with contextlib.ExitStack() as stack:
        a = stack.enter_context(
            live_server(
                tmp_path / "a",
                TEC_DATABASE_URL=database,
                TEC_SEARCH_PATH=str(tmp_path / "a" / "search"),
            )
        )
        b = stack.enter_context(
            live_server(
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
        editor = a.tec("token", "create", "--email", "cache@live.test")

        first = _get(b, QUERY)
        warm = _get(b, QUERY)
        assert warm.headers["x-tec-cache"] == "hit"
        assert _get(b, QUERY, first.headers["etag"]).status_code == 304
        org = first.json()["data"]["organization"]

        for n in range(3):
            text = f"Écrit par le processus A, n° {n}"
            written = a.graphql(UPDATE, {"id": org["id"], "d": text}, token=editor)
            assert "errors" not in written, written
            assert written["data"]["updateOrganization"]["errors"] == [], written
            seen = _get(b, QUERY, first.headers["etag"])
            assert seen.status_code == 200  # the old ETag no longer matches
            assert seen.json()["data"]["organization"]["description"] == text
            assert seen.headers["etag"] != first.headers["etag"]
