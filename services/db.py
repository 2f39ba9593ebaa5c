"""Database wiring: the Tortoise configuration, migrations, connection life cycle."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections

from services.settings import Settings

APP_LABEL = "models"
MIGRATIONS_MODULE = "services.migrations"
MODEL_MODULES = [
    "services.organizations.models",
    "services.territories.models",
    "services.themes.models",
    "services.concepts.models",
    "services.resources.models",
    "services.events.models",
    "services.votes.models",
    "services.projects.models",
    "services.audit.models",
    "services.outbox.models",
    "services.accounts.models",
]


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """The Tortoise configuration for these settings (one app, one connection)."""
    return {
        "connections": {"default": settings.database_url},
        "apps": {
            APP_LABEL: {
                "models": list(MODEL_MODULES),
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _ensure_sqlite_directory(settings: Settings) -> None:
    path = settings.sqlite_path
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


async def migrate(settings: Settings) -> None:
    """Apply every pending migration (idempotent: an up-to-date database is left as is)."""
    from tortoise.migrations.api import migrate as run_migrations

    _ensure_sqlite_directory(settings)
    try:
        await run_migrations(config=tortoise_config(settings))
    finally:
        await connections.close_all(discard=True)


async def make_migrations(settings: Settings, *, name: str | None = None) -> None:
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


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[None]:
    """Open the ORM for a command-line task and close it afterwards."""
    _ensure_sqlite_directory(settings)
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
