"""The SQLite backend the gateway runs on: Tortoise's, with writers that queue.

Tortoise (pinned in pyproject.toml) starts a SQLite transaction with a plain ``BEGIN``:
it reads first and asks for the write lock at its first write. When another process
wrote in between, SQLite cannot let it write on what it read, and answers « database is
locked » at once, without waiting (the busy timeout only covers transactions that hold
no snapshot yet). Two processes updating and deleting one resource at the same moment
then give the loser an internal error instead of ``CONFLICT``.

Here every transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock first,
waiting up to the busy timeout (``PRAGMA busy_timeout``, from ``TEC_SQLITE_BUSY_TIMEOUT``)
for another process's write to finish, and reads afterwards what that write left. WAL
readers never wait for it. A statement still refused as busy after the timeout comes out
as :class:`DatabaseBusy` (``SERVICE_UNAVAILABLE``), never as an internal error.

SQLite has no date type: Tortoise writes a datetime as its ISO text, offset included, and
every comparison and ``ORDER BY`` is one of text. Written with the offsets they came
with (``+01:00`` from a Paris date, ``+00:00`` from the clock), two instants compare in
the wrong order, and a keyset cursor (read back in UTC) no longer matches its own row.
:func:`_utc_text` writes every aware datetime in UTC, so text order is time order.

This is the only module that reaches into Tortoise's SQLite internals; each assumption it
makes has a test in ``tests/services/test_compat_tortoise_sqlite.py`` (for
:func:`file_outside_transaction`, in ``tests/compat/test_tortoise.py``). Tortoise loads it
as the ``engine`` of the SQLite connection (``services/db.py``) and takes
:data:`client_class`. Its name holds « sqlite » on purpose: Tortoise's migrations choose
their SQL dialect from the module name of the connection's class.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from tortoise.backends.base.client import (
    BaseDBAsyncClient,
    NestedTransactionContext,
    TransactionalDBClient,
    TransactionContext,
)
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import OperationalError, TransactionManagementError

from services.errors import Unavailable


def _utc_text(value: dt.datetime) -> str:
    """A datetime as SQLite keeps it: ISO text, in UTC when it is aware."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.isoformat(" ")


# Replaces the adapter Tortoise's SQLite executor registered when it was imported (above,
# through its client): for every SQLite connection of the process, Tortoise's and the
# inline readers of ``services.statements``.
sqlite3.register_adapter(dt.datetime, _utc_text)

_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
BUSY_MESSAGE = (
    "La base de données est occupée par une autre écriture : rien n'a été enregistré, "
    "réessayez dans un instant."
)


class DatabaseBusy(Unavailable, OperationalError):
    """SQLite stayed locked by another process for longer than the busy timeout.

    Also an ``OperationalError``, so Tortoise's own handling of database errors still
    applies to it."""

    def __init__(self) -> None:
        super().__init__(BUSY_MESSAGE)


def is_busy(error: BaseException | None) -> bool:
    """True when ``error``, or the SQLite error it wraps, is « database is locked »."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, sqlite3.OperationalError):
            code = getattr(error, "sqlite_errorcode", None)
            return code is not None and code & 0xFF in _BUSY_CODES
        wrapped = error.args[0] if error.args else None
        error = wrapped if isinstance(wrapped, BaseException) else error.__cause__
        seen += 1
    return False


def file_outside_transaction(db: BaseDBAsyncClient) -> str | None:
    """The SQLite file a connection reads, when it is a SQLite connection outside any
    transaction (inside one, Tortoise hands out the transaction's own client); None for
    any other connection and for an in-memory database."""
    if not isinstance(db, SqliteClient) or isinstance(db, TransactionalDBClient):
        return None
    if db.filename == ":memory:":
        return None
    return db.filename


def _raise_if_busy(error: OperationalError) -> None:
    if not isinstance(error, DatabaseBusy) and is_busy(error):
        raise DatabaseBusy() from error


class _Statements(SqliteClient):
    """Tortoise's statement methods, with a busy database reported as ``DatabaseBusy``."""

    async def execute_insert(self, query: str, values: list[Any]) -> int:
        try:
            return await super().execute_insert(query, values)
        except OperationalError as error:
            _raise_if_busy(error)
            raise

    async def execute_many(self, query: str, values: list[list[Any]]) -> None:
        try:
            await super().execute_many(query, values)
        except OperationalError as error:
            _raise_if_busy(error)
            raise

    async def execute_query(self, query: str, values: list[Any] | None = None) -> Any:
        try:
            return await super().execute_query(query, values)
        except OperationalError as error:
            _raise_if_busy(error)
            raise

    async def execute_query_dict(
        self, query: str, values: list[Any] | None = None
    ) -> list[dict[str, Any]]:
        try:
            return await super().execute_query_dict(query, values)
        except OperationalError as error:
            _raise_if_busy(error)
            raise

    async def execute_script(self, query: str) -> None:
        try:
            await super().execute_script(query)
        except OperationalError as error:
            _raise_if_busy(error)
            raise


class QueuingSqliteClient(_Statements):
    """Tortoise's SQLite client whose transactions begin IMMEDIATE (module docstring)."""

    def _in_transaction(self) -> TransactionContext:
        return _TransactionContext(_ImmediateTransaction(self), self._lock)


class _TransactionContext(SqliteTransactionContext):
    """Tortoise's, except that a ``BEGIN`` that fails gives the connection back.

    Tortoise's ``__aenter__`` takes the connection's lock, then begins; when ``BEGIN``
    fails (busy, here), ``__aexit__`` is never called and the lock stays taken: every
    later statement of the process would wait for it forever."""

    async def __aenter__(self) -> Any:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        self.token = token
        return self.connection


class _ImmediateTransaction(_Statements, SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if is_busy(error):
                raise DatabaseBusy() from error
            raise TransactionManagementError(error) from error

    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(_ImmediateTransaction(self))


client_class = QueuingSqliteClient
