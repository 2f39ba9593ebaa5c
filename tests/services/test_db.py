"""Database wiring (services/db.py)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import asyncpg.exceptions as pg
import pytest
from tortoise.exceptions import OperationalError

from services import db
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
# Statements that leave state on a PostgreSQL session, which asyncpg's reset would clear.
SESSION_STATE = re.compile(
    r"((^|[\"';]\s*)SET\s+(SESSION\s+)?[a-z_.]+\s*(=|TO\b)|\bLISTEN\s+[a-z_\"]"
    r"|pg_advisory_lock|DECLARE\s+\w+\s+CURSOR)",
    re.IGNORECASE,
)


def test_the_gateway_leaves_no_session_state_on_pooled_connections():
    """Pooled PostgreSQL connections are not reset on release (one round trip per
    statement saved): that is only right while no code leaves session state behind."""
    offenders = []
    for package in ("services", "schema", "search", "mailer", "tec"):
        for path in (ROOT / package).rglob("*.py"):
            for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                if SESSION_STATE.search(line) and "SESSION_STATE" not in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "session state on a pooled connection:\n" + "\n".join(offenders)


def test_postgres_pool_skips_the_reset_round_trip():
    config = db.tortoise_config(Settings(database_url="postgres://u@127.0.0.1:5432/x").database)
    credentials = config["connections"]["default"]["credentials"]
    assert credentials["reset"] is db._keep_session
    assert credentials["database"] == "x"


def test_sqlite_connections_queue_for_the_write_lock_for_the_busy_timeout():
    settings = Settings(database_url="sqlite:///tmp/x.sqlite3", sqlite_busy_timeout=2.5)
    sqlite = db.tortoise_config(settings.database)["connections"]["default"]
    assert sqlite["engine"] == "services.compat_tortoise_sqlite"
    assert sqlite["credentials"]["file_path"] == "/tmp/x.sqlite3"
    assert sqlite["credentials"]["busy_timeout"] == 2500  # milliseconds, as the PRAGMA takes


async def test_a_released_connection_is_reusable_and_clean(database):
    from tortoise import connections

    client = connections.get("default")
    if client.capabilities.dialect != "postgres":
        pytest.skip("asyncpg's pool is PostgreSQL's")
    for _ in range(3):  # the pool hands the same few connections back and forth
        _, rows = await client.execute_query("SELECT current_setting('application_name')")
        assert rows
        _, rows = await client.execute_query("SELECT now() IS NOT NULL AS ok")
        assert rows[0]["ok"] is True
    # A transaction that fails is rolled back before its connection returns to the pool.
    from tortoise.transactions import in_transaction

    with pytest.raises(RuntimeError):
        async with in_transaction():
            await client.execute_query("SELECT 1")
            raise RuntimeError("boom")
    _, rows = await client.execute_query("SELECT 1 AS one")
    assert rows[0]["one"] == 1


_ONE_PROCESS_BOTH_DATABASES = """
import asyncio, sys
from services import db
from services.settings import Settings
from services.themes.models import Theme

async def fill(url, offset):
    settings = Settings(database_url=url).database
    await db.migrate(settings)
    async with db.database(settings):
        rows = [Theme(slug=f"theme-{offset + i}", title=f"Thème {i}") for i in range(3)]
        await Theme.bulk_create(rows)
        print(url.split(":")[0], await Theme.filter(slug__startswith="theme-").count())

for number, url in enumerate(sys.argv[1:]):
    asyncio.run(fill(url, 10 * number))
"""


def test_one_process_writes_to_sqlite_then_postgres(tmp_path, scratch_postgres, repo_root):
    """Opening a database forgets the INSERTs Tortoise prepared for the previous one, which
    it keeps by connection name (« default » for both)."""
    import subprocess
    import sys

    sqlite = f"sqlite://{tmp_path / 'first.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "-c", _ONE_PROCESS_BOTH_DATABASES, sqlite, scratch_postgres],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[:2] == ["sqlite 3", "postgres 3"]


def test_what_the_databases_refuse_every_time_is_told_from_what_may_pass_next_time():
    overflow = sqlite3.OperationalError("parser stack overflow")
    assert db.is_too_complex(OperationalError(overflow))  # as Tortoise wraps the driver's
    assert db.is_too_complex(
        sqlite3.OperationalError("Expression tree is too large (maximum depth 1000)")
    )
    assert db.is_too_complex(
        OperationalError(pg.StatementTooComplexError("stack depth limit exceeded"))
    )
    assert db.is_too_complex(
        pg.TooManyArgumentsError("cannot pass more than 100 arguments to a function")
    )
    assert not db.is_too_complex(OperationalError(sqlite3.OperationalError("database is locked")))
    assert not db.is_too_complex(
        OperationalError(pg.ConnectionDoesNotExistError("connection was closed"))
    )
    assert not db.is_too_complex(TimeoutError())
    assert not db.is_too_complex(None)
