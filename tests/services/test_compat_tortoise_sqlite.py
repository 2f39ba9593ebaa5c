"""What services/compat_tortoise_sqlite.py assumes of Tortoise's SQLite backend: one test
per assumption, on a client of its own (they run on either test backend), so that an
upgrade of tortoise-orm that breaks one fails here first."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tortoise import connections
from tortoise.backends.base.client import NestedTransactionContext
from tortoise.exceptions import OperationalError
from tortoise.migrations.executor import MigrationExecutor
from tortoise.migrations.schema_editor.sqlite import SqliteSchemaEditor

from services import compat_tortoise_sqlite as compat
from services.errors import Unavailable
from tests.conftest import POSTGRES_URL


async def _client(path: Path, *, busy_ms: int) -> compat.QueuingSqliteClient:
    client = compat.QueuingSqliteClient(
        file_path=str(path), connection_name="compat", busy_timeout=busy_ms
    )
    await client.create_connection(with_db=True)
    return client


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[compat.QueuingSqliteClient]:
    made = await _client(tmp_path / "compat.sqlite3", busy_ms=50)
    await made.execute_script("CREATE TABLE t (v TEXT)")
    yield made
    await made.close()


@contextlib.contextmanager
def write_lock(client: compat.QueuingSqliteClient) -> Iterator[sqlite3.Connection]:
    """The database's write lock, held by another connection until the block ends."""
    holder = sqlite3.connect(client.filename, isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield holder
        if holder.in_transaction:
            holder.execute("ROLLBACK")
    finally:
        holder.close()


async def _values(client: compat.QueuingSqliteClient) -> list[str]:
    _, rows = await client.execute_query("SELECT v FROM t ORDER BY rowid")
    return [row["v"] for row in rows]


@pytest.mark.skipif(bool(POSTGRES_URL), reason="the session's connection is PostgreSQL's")
@pytest.mark.usefixtures("database")
def test_tortoise_builds_the_connection_from_the_engine_modules_client_class():
    assert type(connections.get("default")) is compat.QueuingSqliteClient


async def test_a_credential_tortoise_does_not_know_becomes_a_pragma(tmp_path):
    client = await _client(tmp_path / "pragma.sqlite3", busy_ms=1234)
    try:
        _, rows = await client.execute_query("PRAGMA busy_timeout")
        assert list(rows[0]) == [1234]
        _, rows = await client.execute_query("PRAGMA journal_mode")
        assert list(rows[0]) == ["wal"]
    finally:
        await client.close()


async def test_migrations_speak_sqlite_to_this_client(client):
    # Tortoise picks the schema editor from the module name of the connection's class.
    editor = MigrationExecutor(client, {})._schema_editor()
    assert type(editor) is SqliteSchemaEditor


async def test_a_transaction_holds_the_write_lock_before_its_first_statement(client):
    async with client._in_transaction():
        other = sqlite3.connect(client.filename, isolation_level=None, timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()


async def test_a_transaction_waits_for_a_write_lock_released_within_the_timeout(tmp_path):
    client = await _client(tmp_path / "wait.sqlite3", busy_ms=10_000)
    try:
        await client.execute_script("CREATE TABLE t (v TEXT)")
        with write_lock(client) as holder:
            holder.execute("INSERT INTO t VALUES ('first')")
            asyncio.get_running_loop().call_later(0.1, holder.execute, "COMMIT")
            async with client._in_transaction() as transaction:
                # Began after the other write committed, so it reads what that write left.
                _, rows = await transaction.execute_query("SELECT v FROM t")
                assert [row["v"] for row in rows] == ["first"]
                await transaction.execute_insert("INSERT INTO t VALUES (?)", ["second"])
        assert await _values(client) == ["first", "second"]
    finally:
        await client.close()


async def test_a_begin_still_busy_after_the_timeout_is_unavailable_and_frees_the_connection(
    client,
):
    with write_lock(client), pytest.raises(compat.DatabaseBusy) as refused:
        async with client._in_transaction():
            pytest.fail("the transaction began although another one held the lock")
    assert isinstance(refused.value, Unavailable) and isinstance(refused.value, OperationalError)
    assert refused.value.code == "SERVICE_UNAVAILABLE"
    # Tortoise's lock on the connection was given back: the next transaction runs.
    async with client._in_transaction() as transaction:
        await transaction.execute_insert("INSERT INTO t VALUES (?)", ["after"])
    assert await _values(client) == ["after"]


async def test_tortoise_keeps_the_sqlite_error_inside_the_one_it_raises(client):
    with write_lock(client):
        for statement in (
            client.execute_insert("INSERT INTO t VALUES (?)", ["x"]),
            client.execute_query("INSERT INTO t VALUES ('x')"),
            client.execute_many("INSERT INTO t VALUES (?)", [["x"], ["y"]]),
            client.execute_script("INSERT INTO t VALUES ('x')"),
        ):
            with pytest.raises(compat.DatabaseBusy) as refused:
                await statement
            assert compat.is_busy(refused.value.__cause__)
    assert await _values(client) == []


async def test_other_database_errors_pass_through(client):
    with pytest.raises(OperationalError) as failed:
        await client.execute_query("SELECT * FROM no_such_table")
    assert not isinstance(failed.value, compat.DatabaseBusy)


async def test_nested_transactions_are_savepoints_of_the_same_kind(client):
    async with client._in_transaction() as outer:
        await outer.execute_insert("INSERT INTO t VALUES (?)", ["kept"])
        nested = outer._in_transaction()
        assert type(nested) is NestedTransactionContext
        with pytest.raises(RuntimeError):
            async with nested as inner:
                assert type(inner).__name__ == "_ImmediateTransaction"
                await inner.execute_insert("INSERT INTO t VALUES (?)", ["undone"])
                raise RuntimeError("roll the savepoint back")
    assert await _values(client) == ["kept"]


async def test_datetimes_are_written_in_utc_so_text_order_is_time_order(client):
    paris = dt.timezone(dt.timedelta(hours=1))
    await client.execute_script("CREATE TABLE moments (at TEXT)")
    early = dt.datetime(2022, 11, 1, 14, 30, tzinfo=paris)  # 13:30 UTC
    late = dt.datetime(2022, 11, 1, 13, 45, tzinfo=dt.UTC)
    await client.execute_insert("INSERT INTO moments VALUES (?)", [early])
    await client.execute_insert("INSERT INTO moments VALUES (?)", [late])
    _, rows = await client.execute_query("SELECT at FROM moments ORDER BY at")
    assert [row[0] for row in rows] == ["2022-11-01 13:30:00+00:00", "2022-11-01 13:45:00+00:00"]
    _, rows = await client.execute_query(
        "SELECT count(*) FROM moments WHERE at < ?",
        [dt.datetime(2022, 11, 1, 14, 40, tzinfo=paris)],
    )
    assert rows[0][0] == 1
