"""Fuzzing: schemathesis, in GraphQL mode, against a real gateway.

A gateway runs in a subprocess (``tests.live``: ``tec demo`` then ``tec serve``) on a
database of its own — a temporary SQLite file, or a scratch PostgreSQL database created
next to ``TEC_TEST_DATABASE_URL`` and dropped afterwards — so that fuzzed mutations,
sent with an administrator's token to get past the permission checks, change nothing the
rest of the suite reads. Schemathesis takes the schema the code builds (``build_schema``;
no introspection needed at collection time) and sends valid and invalid operations for
every root field — queries and mutations — a bounded number of examples each.

Whatever it sends, the gateway must answer: never a 5xx, always a JSON object, no stack
trace or exception text in the body, every error with an ``extensions.code`` and none
with ``INTERNAL_SERVER_ERROR`` (the code of an exception nobody anticipated), and no
non-null field resolved to null.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from schema import build_schema
from tests.live import LiveServer, live_server, scratch_postgres

pytestmark = pytest.mark.heavy

POSTGRES_URL = os.environ.get("TEC_TEST_DATABASE_URL", "")
# About 100 root fields × 5: some 500 requests in 15 seconds. By hand, a longer hunt:
# TEC_FUZZ_EXAMPLES=100 TEC_FUZZ_LOG=/tmp/fuzz.jsonl pytest tests/test_fuzz.py
EXAMPLES_PER_OPERATION = int(os.environ.get("TEC_FUZZ_EXAMPLES", "5"))
LEAKS = ("Traceback", 'File "', "Exception:", "Error:\n", "asyncpg.", "sqlite3.", "tortoise.")
ADMIN_EMAIL = "fuzz-admin@fuzz.test"
ADMIN_PASSWORD = "un mot de passe assez long pour le fuzzing"


@pytest.fixture(scope="module")
def fuzz_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """A live gateway on a database of its own, and an administrator's bearer token."""
    tmp = tmp_path_factory.mktemp("fuzz")
    with contextlib.ExitStack() as stack:
        extra = {
            "TEC_SEARCH_PATH": str(tmp / "search"),
            "TEC_MAIL_DIRECTORY": str(tmp / "mail"),
            "TEC_LOG_LEVEL": "error",
            "TEC_RATE_LIMIT_ACCOUNT": "100000",
        }
        if POSTGRES_URL:
            extra["TEC_DATABASE_URL"] = stack.enter_context(
                scratch_postgres(POSTGRES_URL, prefix="tec_fuzz")
            )
        server = stack.enter_context(live_server(tmp, **extra))
        server.tec(
            "user",
            "create",
            "--email",
            ADMIN_EMAIL,
            "--role",
            "admin",
            "--password-stdin",
            stdin=ADMIN_PASSWORD + "\n",
        )
        tokens = {
            name: server.tec("token", "create", "--email", ADMIN_EMAIL)
            for name in ("admin", "sign-out")
        }
        yield server, tokens


# The schema the code builds now (the committed schema.graphql is checked elsewhere); a
# live introspection would need the server at collection time.
# The gateway's own scalar: instants absolute or relative, and text that is neither.
schemathesis.graphql.scalar(
    "Moment",
    st.sampled_from(
        ["now", "P7D", "PT12H", "P1DT6H", "2027-01-04T09:00:00+01:00", "2021-06-30", "7 jours"]
    ).map(schemathesis.graphql.nodes.String),
)
schema = schemathesis.graphql.from_file(str(build_schema()))


def assert_sane_graphql_response(status: int, text: str) -> None:
    """The rules every answer of the gateway follows, whatever it was sent."""
    assert status < 500, f"HTTP {status}: {text[:2000]}"
    for leak in LEAKS:
        assert leak not in text, f"{leak!r} leaked in: {text[:2000]}"
    body = json.loads(text)
    for result in body if isinstance(body, list) else [body]:  # a batch: one per operation
        assert isinstance(result, dict), text[:2000]
        assert "data" in result or "errors" in result, text[:2000]
        for error in result.get("errors") or []:
            code = (error.get("extensions") or {}).get("code")
            assert code, f"error without extensions.code: {error}"
            assert code != "INTERNAL_SERVER_ERROR", f"unexpected exception behind: {error}"


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_the_gateway_survives_fuzzing(
    case: Any, fuzz_server: tuple[LiveServer, dict[str, str]]
) -> None:
    server, tokens = fuzz_server
    # `signOut` revokes the token it is sent with: it gets one of its own.
    token = tokens["sign-out" if case.operation.label == "Mutation.signOut" else "admin"]
    response = case.call(
        base_url=f"{server.base_url}/graphql",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    if log := os.environ.get("TEC_FUZZ_LOG"):  # a record of every exchange, for a long hunt
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps({"case": case.body, "status": response.status_code}) + "\n")
            out.write(response.text + "\n")
    try:
        assert_sane_graphql_response(response.status_code, response.text)
    except AssertionError as error:
        raise AssertionError(f"{error}\n\nsent to {case.operation.label}: {case.body}") from None
    # Schemathesis' own contract check: a JSON object, no non-null field resolved to null.
    case.validate_response(response, checks=[schemathesis.checks.response_schema_conformance])


@pytest.mark.parametrize(
    "body",
    [
        "{",
        "[]",
        # JSON that is not an object nor an array of objects: a 400, not a 500.
        "null",
        "42",
        '"query"',
        "true",
        "[1, 2]",
        '{"query": 1}',
        '{"query": "{ resources { nodes { id } } }", "variables": []}',
        '{"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": 1.5}}',
        '{"query": "{ node(id: \\"\\u0000\\") { id } }"}',
        '{"query": "{ resources(first: -1) { nodes { id } } }"}',
        '{"query": "{ resources(after: \\"%%%\\") { nodes { id } } }"}',
        '{"query": "{ __typename }", "operationName": ["x"]}',
        # Found by the fuzzer: a year datetime() cannot hold was an INTERNAL_SERVER_ERROR.
        '{"query": "{ resources(filter: {years: [-2205, 10558]}) { nodes { id } } }"}',
        '{"query": "{ search(filter: {years: [-2205, 10558]}) { total } }"}',
        # Found by the fuzzer: PostgreSQL refuses U+0000 in text (INTERNAL_SERVER_ERROR).
        '{"query": "query($s: String!) { territory(slug: $s) { id } }",'
        ' "variables": {"s": "a\\u0000b"}}',
    ],
)
def test_malformed_requests_get_a_coded_answer(
    body: str, fuzz_server: tuple[LiveServer, dict[str, str]]
) -> None:
    """Bodies schemathesis never sends (it always sends a well-formed envelope)."""
    server, tokens = fuzz_server
    response = server.http.post(
        "/graphql",
        content=body.encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {tokens['admin']}"},
    )
    if response.headers.get("content-type", "").startswith("application/"):
        assert_sane_graphql_response(response.status_code, response.text)
    else:  # a plain-text refusal of a body that is not a GraphQL request at all
        assert 400 <= response.status_code < 500, response.text
        for leak in LEAKS:
            assert leak not in response.text, response.text


def test_a_character_the_database_refuses_is_bad_user_input():
    """PostgreSQL refuses U+0000 in text (SQLSTATE 22021): the caller's error, not ours."""
    from graphql import GraphQLError
    from tortoise.exceptions import OperationalError

    from schema.errors import classify, error_code

    class CharacterNotInRepertoire(Exception):
        sqlstate = "22021"

    try:
        try:
            raise CharacterNotInRepertoire('invalid byte sequence for encoding "UTF8": 0x00')
        except CharacterNotInRepertoire as cause:
            raise OperationalError(str(cause)) from cause
    except OperationalError as wrapped:
        error = GraphQLError("boom", original_error=wrapped, path=["territory"])
    shown = classify(error)
    assert shown.extensions == {"code": "BAD_USER_INPUT"}
    assert "U+0000" in shown.message and "UTF8" not in shown.message
    assert error_code(error) == "BAD_USER_INPUT"
