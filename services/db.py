"""Database wiring: the Tortoise configuration, migrations, connection life cycle."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import pkgutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url

from services.baseline import apply_baseline, migration_names, write_baseline
from services.compat_tortoise import forget_prepared_sql
from services.settings import DatabaseSettings

APP_LABEL = "models"
MIGRATIONS_MODULE = "services.migrations"


def model_modules() -> list[str]:
    """Every ``services.<package>.models`` module: the models are where the domains are,
    never in a list to keep up to date."""
    import services

    found = []
    for package in pkgutil.iter_modules(services.__path__):
        name = f"services.{package.name}.models"
        if package.ispkg and importlib.util.find_spec(name) is not None:
            found.append(name)
    return sorted(found)


async def _keep_session(connection: Any) -> None:
    """asyncpg's pool resets a connection when it is released (``RESET ALL; CLOSE ALL;
    UNLISTEN *; pg_advisory_unlock_all()``): one more round trip per statement, which
    costs as much as a short read. The gateway leaves no session state behind — no ``SET``,
    ``LISTEN``, cursor or advisory lock (``tests/services/test_db.py`` keeps it so) —
    and asyncpg still rolls back a transaction left open, so nothing is reset here."""


def _connection(settings: DatabaseSettings) -> dict[str, Any]:
    config = expand_db_url(settings.database_url)
    if settings.is_sqlite:
        # Writers queue for the database instead of failing (services/compat_tortoise_sqlite.py);
        # each credential Tortoise does not know becomes a PRAGMA of the connection.
        config["engine"] = "services.compat_tortoise_sqlite"
        config["credentials"]["busy_timeout"] = round(settings.sqlite_busy_timeout * 1000)
        return config
    config["credentials"]["reset"] = _keep_session
    return config


def tortoise_config(settings: DatabaseSettings) -> dict[str, Any]:
    """The Tortoise configuration for these settings (one app, one connection)."""
    return {
        "connections": {"default": _connection(settings)},
        "apps": {
            APP_LABEL: {
                "models": model_modules(),
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _ensure_sqlite_directory(settings: DatabaseSettings) -> None:
    path = settings.sqlite_path
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def _migration_config(settings: DatabaseSettings) -> dict[str, Any]:
    config = tortoise_config(settings)
    if settings.is_sqlite:
        # SQLite alters a table by copying it and dropping the old one: with foreign keys
        # on, that DROP cascades to every child row (a resource's themes, territories…).
        # Off while migrating, as SQLite's documentation prescribes; checked afterwards.
        config["connections"]["default"]["credentials"]["foreign_keys"] = "OFF"
    return config


async def migrate(
    settings: DatabaseSettings,
    *,
    target: str | None = None,
    on_applied: Callable[[str], None] | None = None,
) -> None:
    """Apply every pending migration (idempotent: an up-to-date database is left as is);
    ``target`` (``models.0002_accounts``) stops at that migration. An empty SQLite
    database gets the schema of every migration at once (:mod:`services.baseline`),
    unless a ``target`` is given: then each migration is applied in turn.

    ``on_applied`` is told the name of each migration once its changes are committed,
    before the next one starts."""
    from tortoise.migrations.api import migrate as run_migrations

    _ensure_sqlite_directory(settings)
    forget_prepared_sql()
    if target is None and settings.sqlite_path is not None:
        await asyncio.to_thread(apply_baseline, settings.sqlite_path, APP_LABEL)

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done" and on_applied is not None:
            on_applied(name)

    try:
        await run_migrations(config=_migration_config(settings), target=target, progress=progress)
        if settings.is_sqlite:
            connection = connections.get("default")
            _, broken = await connection.execute_query("PRAGMA foreign_key_check")
            if broken:
                raise RuntimeError(f"migrations left dangling foreign keys: {broken[:5]}")
            # Without statistics SQLite may pick the (status, published_at) index for a
            # lookup by id: 42 ms instead of 0.5 ms on 100,000 resources.
            await connection.execute_script("ANALYZE")
    finally:
        await connections.close_all(discard=True)


async def make_migrations(settings: DatabaseSettings, *, name: str | None = None) -> None:
    """Write a migration for model changes into ``services/migrations`` (developers only)."""
    from tortoise.cli.cli import CLIContext
    from tortoise.cli.cli import makemigrations as tortoise_makemigrations

    _ensure_sqlite_directory(settings)
    with tempfile.TemporaryDirectory() as tmp:
        config_file = Path(tmp) / "tortoise.json"
        config_file.write_text(json.dumps(tortoise_config(settings)))
        await tortoise_makemigrations(
            CLIContext(config=None, config_file=str(config_file)), (), False, name
        )
        await write_schema_baseline()


async def write_schema_baseline() -> Path:
    """Migrate a scratch SQLite database one migration after the other, and keep its
    schema as the baseline that empty SQLite databases start from."""
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "baseline.sqlite3"
        settings = DatabaseSettings(database_url=f"sqlite://{scratch}")
        await migrate(settings, target=f"{APP_LABEL}.{migration_names()[-1]}")
        return write_baseline(scratch, APP_LABEL)


@contextlib.asynccontextmanager
async def database(settings: DatabaseSettings) -> AsyncIterator[None]:
    """Open the ORM for a command-line task and close it afterwards."""
    _ensure_sqlite_directory(settings)
    forget_prepared_sql()
    await Tortoise.init(config=tortoise_config(settings))
    try:
        yield
    finally:
        await connections.close_all()


async def ping() -> bool:
    """True when the database answers a trivial statement."""
    try:
        await asyncio.wait_for(connections.get("default").execute_query("SELECT 1"), timeout=2)
    except Exception:
        return False
    return True


def is_unavailable(error: BaseException | None) -> bool:
    """True when ``error`` (or what caused it) says the database cannot be reached right
    now — refused or lost connections, a server shutting down or starting up — as opposed
    to a statement the database refused. Callers answer those with ``SERVICE_UNAVAILABLE``
    or retry later."""
    import asyncpg.exceptions as pg
    from tortoise.exceptions import DBConnectionError

    unavailable = (
        OSError,  # ConnectionRefusedError, ConnectionResetError, timeouts of the socket
        DBConnectionError,
        pg.PostgresConnectionError,
        pg.OperatorInterventionError,  # shutting down, cannot connect now
        pg.TooManyConnectionsError,
        pg.ConnectionDoesNotExistError,
    )
    for found in _causes(error):
        if isinstance(found, unavailable):
            return True
        if isinstance(found, pg.InterfaceError) and "closed" in str(found):
            return True  # "connection is closed": lost under the pool
    return False


# What SQLite says of a statement deeper or larger than it reads (its parser stack, the
# depth of an expression, the terms of a select): no SQLSTATE, only the message.
_TOO_COMPLEX_FOR_SQLITE = ("parser stack overflow", "too large", "too many")


def is_too_complex(error: BaseException | None) -> bool:
    """True when ``error`` (or what caused it) is the database refusing a statement for
    its size or depth, as it will every time: SQLite's parser stack or expression depth,
    PostgreSQL's program limits (SQLSTATE class 54: stack depth, arguments of a function,
    columns of a select list). Unlike :func:`is_unavailable`, the same statement will
    never pass."""
    import sqlite3

    import asyncpg.exceptions as pg

    for found in _causes(error):
        if isinstance(found, pg.PostgresError) and str(found.sqlstate).startswith("54"):
            return True
        if isinstance(found, sqlite3.OperationalError) and any(
            text in str(found) for text in _TOO_COMPLEX_FOR_SQLITE
        ):
            return True
    return False


def _causes(error: BaseException | None) -> Iterator[BaseException]:
    """``error`` and what caused it, nearest first: its cause or context, or the driver's
    error Tortoise wraps as its first argument (at most 8)."""
    seen = 0
    while error is not None and seen < 8:
        yield error
        wrapped = error.args[0] if error.args else None
        error = error.__cause__ or error.__context__
        if error is None and isinstance(wrapped, BaseException):
            error = wrapped
        seen += 1
