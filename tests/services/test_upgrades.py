"""Upgrade safety: a database filled at any migration keeps all its rows up to the latest.

A database is migrated one migration at a time, as ``tec migrate`` applies them (the
migrations are discovered in ``services/migrations``, so a new one is covered without
touching this file). After each migration N but the last, while the migrating process
waits, every table that exists at N receives a few
rows of its own (generic values built from the live schema: column types, lengths,
foreign keys, the models' enum values; accents included). After the latest migration,
every row written at every N must still be there with every value it had, and the ORM, as
the code is now, must read every row of every model. The same chain checks that the
baseline an empty SQLite database starts from is the schema the migrations leave.

SQLite (a temporary file) always; PostgreSQL too when ``TEC_TEST_DATABASE_URL`` is set:
a scratch database ``tec_upgrade_<random>`` created on that server and dropped afterwards.
Migrations run in one process of their own (the test session already holds Tortoise open):
one ``db.migrate`` to the latest, told to wait after each migration it applies.
"""

from __future__ import annotations

import datetime as dt
import decimal
import importlib
import inspect
import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from services import baseline, db

pytestmark = pytest.mark.heavy(seconds=30)

MIGRATIONS = baseline.migration_names()
ROWS_PER_TABLE = 3
POSTGRES_URL = os.environ.get("TEC_TEST_DATABASE_URL", "")
MIGRATIONS_TABLE = baseline.MIGRATIONS_TABLE
# Migrations that change or drop data on purpose declare it here, so that the test only
# lets through what was meant: {"0007_name": {("table", "column"), ...}}.
INTENDED_CHANGES: dict[str, set[tuple[str, str]]] = {}


@dataclass
class Column:
    name: str
    kind: str  # int, str, text, datetime, date, time, bool, json, uuid, float, decimal, bytes
    nullable: bool
    generated: bool  # filled by the database (auto-increment primary key)
    max_length: int | None = None


def _kind(declared: str) -> str:
    t = declared.lower()
    for needle, kind in (
        ("timestamp", "datetime"),
        ("datetime", "datetime"),
        ("time", "time"),  # after timestamp/datetime
        ("date", "date"),
        ("bool", "bool"),
        ("json", "json"),
        ("uuid", "uuid"),
        ("int", "int"),
        ("serial", "int"),
        ("numeric", "decimal"),
        ("decimal", "decimal"),
        ("double", "float"),
        ("real", "float"),
        ("float", "float"),
        ("blob", "bytes"),
        ("bytea", "bytes"),
        ("char", "str"),
        ("text", "text"),
    ):
        if needle in t:
            return kind
    return "text"


def _model_hints() -> dict[tuple[str, str], Any]:
    """Hints from the models as they are now: {(table, column): enum values or JSON default}."""
    from tortoise.models import Model

    hints: dict[tuple[str, str], Any] = {}
    for module_name in db.model_modules():
        module = importlib.import_module(module_name)
        for cls in vars(module).values():
            if not (inspect.isclass(cls) and issubclass(cls, Model)) or cls._meta.abstract:
                continue
            for name, field in cls._meta.fields_map.items():
                column = field.source_field or name
                if getattr(field, "enum_type", None) is not None:
                    hints[cls._meta.db_table, column] = [e.value for e in field.enum_type]
                elif type(field).__name__ == "JSONField":
                    default = field.default() if callable(field.default) else field.default
                    hints[cls._meta.db_table, column] = ("json", default)
    return hints


class Database:
    """The few statements the test needs, on SQLite or PostgreSQL."""

    url: str

    async def tables(self) -> list[str]: ...
    async def columns(self, table: str) -> list[Column]: ...
    async def foreign_keys(self, table: str) -> dict[str, str]: ...
    async def insert(self, table: str, row: dict[str, Any], pk: str) -> Any: ...
    async def fetch(self, table: str) -> list[dict[str, Any]]: ...
    async def close(self) -> None: ...

    def encode(self, kind: str, value: Any) -> Any:
        return value


class SqliteDatabase(Database):
    def __init__(self, path: Path) -> None:
        self.url = f"sqlite://{path}"
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path)
        conn.row_factory = sqlite3.Row
        return conn

    def _query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._connect() as conn:
            rows = conn.execute(sql, params).fetchall()
        conn.close()
        return rows

    async def tables(self) -> list[str]:
        rows = self._query("SELECT name FROM sqlite_master WHERE type = 'table'")
        return [r["name"] for r in rows if not r["name"].startswith("sqlite_")]

    async def columns(self, table: str) -> list[Column]:
        out = []
        for r in self._query(f'PRAGMA table_info("{table}")'):
            generated = bool(r["pk"]) and "int" in r["type"].lower()
            length = re.search(r"\((\d+)\)", r["type"])
            out.append(
                Column(
                    name=r["name"],
                    kind=_kind(r["type"]),
                    nullable=not r["notnull"] and not r["pk"],
                    generated=generated,
                    max_length=int(length.group(1)) if length else None,
                )
            )
        return out

    async def foreign_keys(self, table: str) -> dict[str, str]:
        return {r["from"]: r["table"] for r in self._query(f'PRAGMA foreign_key_list("{table}")')}

    def encode(self, kind: str, value: Any) -> Any:
        if value is None:
            return None
        if kind == "datetime":
            return value.isoformat(sep=" ")
        if kind in ("date", "time", "uuid", "decimal"):
            return str(value)
        if kind == "bool":
            return int(value)
        return value

    async def insert(self, table: str, row: dict[str, Any], pk: str) -> Any:
        names = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        with self._connect() as conn:
            cursor = conn.execute(
                f'INSERT INTO "{table}" ({names}) VALUES ({marks}) RETURNING "{pk}"',
                tuple(row.values()),
            )
            value = cursor.fetchone()[0]
        conn.close()
        return value

    async def fetch(self, table: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self._query(f'SELECT * FROM "{table}"')]


class PostgresDatabase(Database):
    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: Any = None

    async def open(self) -> None:
        import asyncpg

        self.conn = await asyncpg.connect(self.url)

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()
            self.conn = None

    async def tables(self) -> list[str]:
        rows = await self.conn.fetch(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        return [r["table_name"] for r in rows]

    async def columns(self, table: str) -> list[Column]:
        rows = await self.conn.fetch(
            "SELECT column_name, data_type, is_nullable, column_default, is_identity, "
            "character_maximum_length FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            table,
        )
        return [
            Column(
                name=r["column_name"],
                kind=_kind(r["data_type"]),
                nullable=r["is_nullable"] == "YES",
                generated=r["is_identity"] == "YES"
                or (r["column_default"] or "").startswith("nextval("),
                max_length=r["character_maximum_length"],
            )
            for r in rows
        ]

    async def foreign_keys(self, table: str) -> dict[str, str]:
        rows = await self.conn.fetch(
            "SELECT a.attname AS column_name, c.confrelid::regclass::text AS target "
            "FROM pg_constraint c JOIN pg_attribute a "
            "ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) "
            "WHERE c.contype = 'f' AND c.conrelid = $1::regclass",
            f'public."{table}"',
        )
        return {r["column_name"]: r["target"].strip('"') for r in rows}

    def encode(self, kind: str, value: Any) -> Any:
        if value is not None and kind == "uuid":
            return uuid.UUID(str(value))
        return value

    async def insert(self, table: str, row: dict[str, Any], pk: str) -> Any:
        names = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join(f"${i}" for i in range(1, len(row) + 1))
        return await self.conn.fetchval(
            f'INSERT INTO "{table}" ({names}) VALUES ({marks}) RETURNING "{pk}"', *row.values()
        )

    async def fetch(self, table: str) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.conn.fetch(f'SELECT * FROM "{table}"')]


# --- Filling any schema with representative rows ---------------------------------------


def _value(table: str, column: Column, i: int, hints: dict[tuple[str, str], Any]) -> Any:
    hint = hints.get((table, column.name))
    if isinstance(hint, list):  # an enum: its real values, so that the ORM reads them back
        return hint[i % len(hint)]
    kind = column.kind
    if kind == "json" or (isinstance(hint, tuple) and hint[0] == "json"):
        default = hint[1] if isinstance(hint, tuple) else {}
        sample: Any = [f"élément {i}"] if isinstance(default, list) else {"clé": f"valeur {i}"}
        return json.dumps(sample, ensure_ascii=False)
    if kind == "int":
        return i + 1
    if kind == "float":
        return i + 0.5
    if kind == "decimal":
        return decimal.Decimal(i) + decimal.Decimal("0.25")
    if kind == "bool":
        return i % 2 == 0
    if kind == "datetime":
        return dt.datetime(2026, 1, 1, 9, 30, tzinfo=dt.UTC) + dt.timedelta(days=i)
    if kind == "date":
        return dt.date(2026, 1, 1) + dt.timedelta(days=i)
    if kind == "time":
        return dt.time((9 + i) % 24, i % 60)
    if kind == "uuid":
        return str(uuid.UUID(int=i + 1))
    if kind == "bytes":
        return f"octets {i}".encode()
    text = f"{i} é {table}.{column.name}"  # unique per row even when cut short
    return text[: column.max_length] if column.max_length else text


def _fill_order(tables: list[str], fks: dict[str, dict[str, str]]) -> list[str]:
    """Tables in an order where every foreign key points to a table already filled."""
    order: list[str] = []
    pending = sorted(tables)
    while pending:
        ready = [
            t for t in pending if all(target in order or target == t for target in fks[t].values())
        ]
        if not ready:  # a cycle through nullable keys: those stay null for the first table
            ready = pending[:1]
        order.extend(ready)
        pending = [t for t in pending if t not in ready]
    return order


async def fill(
    database: Database, hints: dict[tuple[str, str], Any], first: int = 0
) -> dict[str, list[Any]]:
    """Insert ``ROWS_PER_TABLE`` rows in every table, numbered from ``first`` (values
    unique across fills); return {table: primary keys of the new rows}."""
    tables = [t for t in await database.tables() if t != MIGRATIONS_TABLE]
    fks = {t: await database.foreign_keys(t) for t in tables}
    keys: dict[str, list[Any]] = {}
    primary: dict[str, str] = {}
    for table in _fill_order(tables, fks):
        columns = await database.columns(table)
        pk = next((c.name for c in columns if c.generated), columns[0].name)
        primary[table] = pk
        keys[table] = []
        for i in range(first, first + ROWS_PER_TABLE):
            row: dict[str, Any] = {}
            for column in columns:
                if column.generated:
                    continue
                target = fks[table].get(column.name)
                if target is not None:
                    parents = keys.get(target, [])
                    if not parents and column.nullable:
                        value = None
                    else:
                        assert parents, f"{table}.{column.name} needs a row of {target}"
                        value = parents[i % len(parents)]
                else:
                    value = database.encode(column.kind, _value(table, column, i, hints))
                row[column.name] = value
            keys[table].append(await database.insert(table, row, pk))
    return keys


async def snapshot(database: Database) -> dict[str, dict[Any, dict]]:
    """Every row of every table, by primary key: {table: {key: row}}."""
    rows: dict[str, dict[Any, dict]] = {}
    for table in await database.tables():
        if table == MIGRATIONS_TABLE:
            continue
        columns = await database.columns(table)
        pk = next((c.name for c in columns if c.generated), columns[0].name)
        rows[table] = {row[pk]: row for row in await database.fetch(table)}
    return rows


# --- Running migrations in a process of its own ------------------------------------------

_MIGRATOR = textwrap.dedent(
    """
    import asyncio, json, sys
    from tortoise import Tortoise, connections
    from services import db
    from services.settings import Settings

    def applied(name):
        print("MIGRATED", name, flush=True)
        sys.stdin.readline()  # the test has written its rows: on to the next

    async def main():
        settings = Settings(database_url=sys.argv[1]).database
        await db.migrate(settings, target=f"{db.APP_LABEL}.{sys.argv[2]}", on_applied=applied)
        await Tortoise.init(config=db.tortoise_config(settings))
        counts = {}
        for models in Tortoise.apps.values():
            for model in models.values():
                counts[model._meta.db_table] = len(await model.all())
        await connections.close_all()
        print("COUNTS", json.dumps(counts), flush=True)

    asyncio.run(main())
    """
)


class Migrator:
    """One process migrating the database to the latest migration, one migration after
    the other, as ``tec migrate`` does; after each, it waits until told to go on, so that
    the test writes its rows in between. Python and Tortoise start once for the whole
    chain (the test session itself holds Tortoise open)."""

    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _MIGRATOR, url, MIGRATIONS[-1]],
            cwd=Path(__file__).resolve().parents[2],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.waiting = False

    def _next(self, answer: str) -> str:
        """Let the process go on (when it waits), then its next line, ``answer`` first."""
        assert self.process.stdin and self.process.stdout
        if self.waiting:
            self.process.stdin.write("next\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line.startswith(answer):
            self.process.kill()
            _, errors = self.process.communicate(timeout=30)
            raise AssertionError(f"migrating failed after {answer}:\n{line}{errors}")
        self.waiting = answer == "MIGRATED"
        return line.removeprefix(answer).strip()

    def next_applied(self) -> str:
        """The name of the next migration applied (the process then waits)."""
        return self._next("MIGRATED")

    def orm_counts(self) -> dict[str, int]:
        """Once the latest is applied: the ORM's row count of each model's table."""
        counts = json.loads(self._next("COUNTS"))
        self.process.wait(timeout=60)
        return counts

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate(timeout=30)


# --- The databases ----------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database no migration ran on."""
    if request.param == "sqlite":
        yield SqliteDatabase(tmp_path / "upgrade.sqlite3")
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL: set TEC_TEST_DATABASE_URL")
    import asyncpg

    parts = urlsplit(POSTGRES_URL)
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    name = f"tec_upgrade_{secrets.token_hex(4)}"
    try:
        admin = await asyncpg.connect(maintenance, timeout=5)
    except Exception as error:  # not usable here: say why
        pytest.skip(f"PostgreSQL does not answer at {maintenance} ({error})")
    await admin.execute(f'CREATE DATABASE "{name}"')
    database = PostgresDatabase(urlunsplit(parts._replace(path=f"/{name}")))
    try:
        yield database
    finally:
        await database.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def test_migrations_are_discovered():
    assert MIGRATIONS[0] == "0001_initial" and len(MIGRATIONS) >= 2, MIGRATIONS
    numbers = [int(name[:4]) for name in MIGRATIONS]
    assert numbers == list(range(1, len(MIGRATIONS) + 1)), "gap or duplicate in migrations"


async def test_rows_written_at_each_migration_are_all_there_after_the_latest(
    empty_database: Database, tmp_path: Path
) -> None:
    """The database is migrated one step at a time; after each migration but the last,
    every table that exists then receives rows of its own. After the latest migration,
    each row written at each step is there with every value it had, and the ORM, as the
    code is now, reads every row of every model."""
    database = empty_database
    hints = _model_hints()
    written: dict[str, dict[str, dict[Any, dict]]] = {}  # migration -> table -> key -> row
    migrator = Migrator(database.url)
    try:
        for step, start in enumerate(MIGRATIONS[:-1]):
            assert migrator.next_applied() == start
            if isinstance(database, PostgresDatabase):
                await database.open()
            keys = await fill(database, hints, first=step * ROWS_PER_TABLE)
            assert len(keys) >= 5, f"too few tables at {start}: {sorted(keys)}"
            rows = await snapshot(database)
            written[start] = {
                table: {key: rows[table][key] for key in new} for table, new in keys.items()
            }
            await database.close()
        assert migrator.next_applied() == MIGRATIONS[-1]
        orm_counts = migrator.orm_counts()
    finally:
        migrator.close()

    if isinstance(database, PostgresDatabase):
        await database.open()
    after = await snapshot(database)
    lost: list[str] = []
    for start, tables in written.items():
        later = MIGRATIONS[MIGRATIONS.index(start) + 1 :]
        allowed = set().union(*(INTENDED_CHANGES.get(m, set()) for m in later))
        for table, rows in tables.items():
            if table not in after or not after[table]:
                lost.append(f"from {start}: {table}: table gone or emptied")
                continue
            for key, old in rows.items():
                new = after[table].get(key)
                if new is None:
                    lost.append(f"from {start}: {table} #{key}: row gone")
                    continue
                for column, value in old.items():
                    if (table, column) in allowed:
                        continue
                    if column not in new:
                        lost.append(f"from {start}: {table}.{column}: column dropped")
                    elif new[column] != value:
                        change = f"{value!r} became {new[column]!r}"
                        lost.append(f"from {start}: {table} #{key}.{column}: {change}")
    assert not lost, "upgrading lost data:\n" + "\n".join(sorted(set(lost)))
    for table, rows in after.items():
        if table in orm_counts:
            assert orm_counts[table] == len(rows), f"the ORM reads {table} differently"
    assert set(after) & set(orm_counts), "the ORM read none of the tables"

    if isinstance(database, SqliteDatabase):
        # An empty SQLite database starts from the baseline script instead of the chain:
        # it must give the schema the chain gave (services/baseline.py).
        fresh = tmp_path / "baseline.sqlite3"
        assert baseline.apply_baseline(fresh, db.APP_LABEL)
        assert baseline.dump_schema(fresh) == baseline.dump_schema(database.path), (
            "the baseline differs from the migrations: run `.venv/bin/tec makemigrations`"
        )
