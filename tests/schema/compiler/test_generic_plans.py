"""On PostgreSQL the compiled statements of the portal and the resource page run on one
generic plan once warm. PostgreSQL plans a prepared statement for its values five times,
then keeps a generic plan only while it costs no more than those did: a statement whose
estimates read one of its values (a page size bound as a placeholder, the visibility's
instant) would be planned again at every execution. So page sizes are written into the
SQL (``literal_limit``) and the other values are read through scalar subqueries of their
placeholder's type (``unplanned_casts``).

The costs that decide depend on the data's statistics, so the statements run on the
benchmark's dataset (``bench.dataset``, 2,000 resources, analysed), in a database and a
process of their own, every request on one connection (a transaction's), whose
``pg_prepared_statements`` counts the plans of each statement."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from schema.compiler.sql import literal_limit, unplanned_casts
from tests.conftest import POSTGRES_URL

RESOURCES = 2000
WARM = 10
RUNS = 10

_PLANS = """
import asyncio, json, sys
import httpx
from tortoise import Tortoise, connections
from tortoise.transactions import in_transaction
from bench import dataset, queries
from gateway.app import create_app
from services import db
from services.settings import Settings

URL, RESOURCES, WARM, RUNS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
PAGES = {
    "portal": (queries.PORTAL, queries.PORTAL_VARIABLES),
    "portal of 100": (queries.PORTAL_100, queries.PORTAL_VARIABLES),
    "resource page": (queries.RESOURCE_PAGE, {"slug": "ressource-1234"}),
}

async def plans(connection):
    _, rows = await connection.execute_query(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
    )
    return {
        r["statement"]: (r["generic_plans"], r["custom_plans"])
        for r in rows
        if "pg_prepared_statements" not in r["statement"]
    }

async def main():
    settings = Settings(database_url=URL, cache_enabled=False, rate_limit_anonymous=10**9)
    await dataset.build(settings, resources=RESOURCES)
    await Tortoise.init(config=db.tortoise_config(settings.database))
    await connections.get("default").execute_script("ANALYZE")
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    found = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for page, (query, variables) in PAGES.items():
            async with in_transaction() as connection:
                request = {"query": query, "variables": variables}
                for _ in range(WARM):
                    body = (await client.post("/graphql", json=request)).json()
                    assert "errors" not in body and body["data"], body
                warm = await plans(connection)
                for _ in range(RUNS):
                    await client.post("/graphql", json=request)
                hot = await plans(connection)
            found[page] = {}
            for statement, (generic, custom) in hot.items():
                was = warm.get(statement, (0, 0))
                if (generic, custom) != was:
                    found[page][statement] = [generic - was[0], custom - was[1]]
    await connections.close_all()
    print(json.dumps(found))

asyncio.run(main())
"""


def test_a_trailing_limit_is_written_as_the_integer_it_binds():
    assert literal_limit('SELECT * FROM "t" WHERE "a"=$1 LIMIT $2', ["x", 21]) == (
        'SELECT * FROM "t" WHERE "a"=$1 LIMIT 21',
        ["x"],
    )
    assert literal_limit('SELECT * FROM "t" WHERE "a"=? LIMIT ?', ["x", 101]) == (
        'SELECT * FROM "t" WHERE "a"=? LIMIT 101',
        ["x"],
    )


@pytest.mark.parametrize(
    ("sql", "values"),
    [
        ('SELECT * FROM "t" LIMIT $1 OFFSET $2', [20, 40]),  # not the last value
        ('SELECT * FROM (SELECT * FROM "t" LIMIT $1) AS "s" WHERE "a"=$2', [5, "x"]),
        ('SELECT * FROM "t" WHERE "a"=$1', ["x"]),
        ('SELECT * FROM "t" LIMIT $1', [True]),  # not an integer
        ('SELECT * FROM "t" LIMIT $1', ["20"]),
    ],
)
def test_any_other_statement_is_left_as_it_is(sql, values):
    assert literal_limit(sql, values) == (sql, values)


def test_values_are_read_through_a_subquery_of_their_placeholders_type():
    now = dt.datetime(2026, 12, 3, 17, 0, tzinfo=dt.UTC)
    values = ["PUBLISHED", now, 7, False, dt.date(2026, 12, 1), now.replace(tzinfo=None), 1.5]
    assert unplanned_casts(values) == (
        "text",
        "timestamptz",
        "bigint",
        "boolean",
        "date",
        "timestamptz",
        None,
    )


@pytest.mark.heavy
@pytest.mark.skipif(
    not POSTGRES_URL,
    reason="plans kept per prepared statement are PostgreSQL's (pg_prepared_statements);"
    " SQLite plans each statement when it prepares it",
)
def test_compiled_statements_run_on_a_generic_plan_once_warm(scratch_postgres, repo_root):
    done = subprocess.run(
        [sys.executable, "-c", _PLANS, scratch_postgres, str(RESOURCES), str(WARM), str(RUNS)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    # The statements of the last requests: the compiler's, one per page, and nothing else.
    assert {page: len(statements) for page, statements in found.items()} == {
        "portal": 1,
        "portal of 100": 1,
        "resource page": 1,
    }
    assert all("json_build_object" in s for statements in found.values() for s in statements)
    # [generic plans, custom plans] of each during the last requests: generic every time.
    plans = {page: next(iter(statements.values())) for page, statements in found.items()}
    assert plans == {
        "portal": [RUNS, 0],
        "portal of 100": [RUNS, 0],
        "resource page": [RUNS, 0],
    }
