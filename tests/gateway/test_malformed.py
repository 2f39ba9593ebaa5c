"""Whatever arrives, the answer is JSON with a code: never a plain-text page, never a 500."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from gateway.app import create_app

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture(scope="module")
def app(database):
    return create_app(database.replace(**{"rate_limit_anonymous": 10**9}))


@pytest.fixture
async def raw(app):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def _coded(response: httpx.Response) -> str:
    """The code of a refused request; fails on anything that is not coded JSON."""
    assert response.status_code < 500 or response.status_code == 503, response.text
    body = response.json()
    assert isinstance(body, dict | list), body
    first = body[0] if isinstance(body, list) else body
    return first["errors"][0]["extensions"]["code"]


JSON = {"Content-Type": "application/json"}
NESTED = b'{"query":"{ __typename }","variables":{"a":' + b'{"a":' * 2000 + b"1" + b"}" * 2002


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b'{"query":"{ __typename }","extensions":"x"}', JSON, 400, "BAD_REQUEST"),
        (b'{"query":"{ __typename }","extensions":[1]}', JSON, 400, "BAD_REQUEST"),
        (b'{"query":"{ __typename }","variables":"{}"}', JSON, 400, "BAD_REQUEST"),
        (b'{"query":{"obj":1}}', JSON, 400, "BAD_REQUEST"),
        (b'{"query":"{ __typename }","operationName":false}', JSON, 400, "BAD_REQUEST"),
        (NESTED, JSON, 400, "BAD_REQUEST"),
        (
            b'{"query":"{ __typename }","variables":' + b'{"a":' * 40 + b"1" + b"}" * 40 + b"}",
            JSON,
            400,
            "BAD_REQUEST",
        ),
        (b'{"query":"\xff\xfe"}', JSON, 400, "BAD_REQUEST"),
        (b'{ "not json', JSON, 400, "BAD_REQUEST"),
        (b"", JSON, 400, "BAD_REQUEST"),
        (b"[]", JSON, 400, "BAD_REQUEST"),
        (b"[1, 2]", JSON, 400, "BAD_REQUEST"),
        (b"42", JSON, 400, "BAD_REQUEST"),
        (b'{"qeury":"{ __typename }"}', JSON, 400, "BAD_REQUEST"),
        (b'{"query":"{ __typename }"}', {}, 415, "UNSUPPORTED_MEDIA_TYPE"),
        (
            b'{"query":"{ __typename }"}',
            {"Content-Type": "application/json; charset=latin-1"},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (b'[{"query":"{ __typename }"}]' * 1, JSON, 200, None),
    ],
)
async def test_malformed_bodies_get_a_coded_json_answer(raw, body, headers, status, code):
    response = await raw.post("/graphql", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/")
    if code is None:
        assert "errors" not in response.json()[0]
    else:
        assert _coded(response) == code


async def test_a_batch_over_the_limit_is_refused(raw, database):
    batch = [{"query": "{ __typename }"}] * (database.graphql.max_batch_size + 1)
    response = await raw.post("/graphql", json=batch)
    assert response.status_code == 400 and _coded(response) == "BATCH_TOO_LARGE"


@pytest.mark.parametrize(
    "params",
    [
        {"query": "{ __typename }", "variables": "{not json"},
        {"query": "{ __typename }", "extensions": "[1]"},
        {"query": "{ __typename }", "variables": "[" * 5000},
        {"variables": "{}"},
    ],
)
async def test_malformed_get_requests_get_a_coded_json_answer(raw, params):
    response = await raw.get("/graphql", params=params, headers={"Accept": "application/json"})
    assert response.status_code == 400 and _coded(response) == "BAD_REQUEST"


async def test_other_methods_and_paths_answer_in_json(raw):
    assert _coded(await raw.put("/graphql", content=b"{}")) == "METHOD_NOT_ALLOWED"
    assert _coded(await raw.get("/nowhere")) == "NOT_FOUND"
    assert _coded(await raw.post("/healthz")) == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00", "demain", "2022-13-01"]
)
async def test_dates_out_of_range_are_bad_user_input(raw, principals, value):
    mutation = (
        "mutation($at: DateTime!) "
        '{ publish(id: "UmVzb3VyY2U6MQ==", version: 1, at: $at) { __typename } }'
    )
    response = await raw.post(
        "/graphql",
        json={"query": mutation, "variables": {"at": value}},
        headers=principals["EDITOR"],
    )
    assert response.status_code == 200 and _coded(response) == "BAD_USER_INPUT"


async def test_parse_and_validation_failures_have_no_data_under_graphql_response(raw):
    accept = {"Accept": GRAPHQL_RESPONSE}
    for query in ("{", "{ nope }"):
        response = await raw.post("/graphql", json={"query": query}, headers=accept)
        assert response.status_code == 400
        assert response.headers["content-type"] == GRAPHQL_RESPONSE
        assert "data" not in response.json()
    coercion = await raw.post(
        "/graphql",
        json={"query": "query($id: ID!) { __typename }", "variables": {"id": None}},
        headers=accept,
    )
    assert coercion.status_code == 400 and "data" not in coercion.json()


async def test_a_database_outage_is_a_503_with_a_code(app, raw, monkeypatch):
    import gateway.guards

    async def refused(secret: str, **_: object) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(gateway.guards, "resolve_bearer", refused)
    response = await raw.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Authorization": "Bearer tec_u_whatever"},
    )
    assert response.status_code == 503 and _coded(response) == "SERVICE_UNAVAILABLE"
    assert response.headers["retry-after"] == "5"
    page = await raw.get("/events.ics", headers={"Authorization": "Bearer tec_u_whatever"})
    assert page.status_code == 503 and _coded(page) == "SERVICE_UNAVAILABLE"


def test_database_outages_are_told_apart_from_refused_statements():
    import asyncpg.exceptions as pg
    from tortoise.exceptions import IntegrityError, OperationalError

    from services.db import is_unavailable

    assert is_unavailable(ConnectionRefusedError())
    assert is_unavailable(pg.CannotConnectNowError("starting up"))
    wrapped = OperationalError("boom")
    wrapped.__cause__ = pg.ConnectionDoesNotExistError("gone")
    assert is_unavailable(wrapped)
    assert not is_unavailable(IntegrityError("duplicate key"))
    assert not is_unavailable(ValueError("bad value"))


# Any JSON at all, and any bytes: the gateway answers with coded JSON, never a 5xx.
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["query", "variables", "operationName", "extensions", "x"])
            | st.text(max_size=5),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@seed(20261202)
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(body=_json | st.binary(max_size=200))
async def test_fuzzed_bodies_never_get_a_server_error(raw, body):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await raw.post("/graphql", content=content, headers=JSON)
    assert response.status_code < 500, (content, response.text)
    answer = response.json()
    items = answer if isinstance(answer, list) else [answer]
    for item in items:
        for error in item.get("errors", []):
            assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", (content, error)
