"""Migrations are the only way the schema changes: they must match the models exactly."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_models_have_no_change_missing_a_migration(repo_root, tmp_path):
    # Run the autodetector in a fresh process: the session already holds Tortoise open.
    script = textwrap.dedent(
        f"""
        import asyncio
        from tortoise.cli.cli import tortoise_cli_context
        from tortoise.migrations.autodetector import MigrationAutodetector
        from services import db
        from services.settings import Settings

        async def main():
            config = db.tortoise_config(Settings(database_url="sqlite://{tmp_path}/x.sqlite3").database)
            async with tortoise_cli_context(config) as ctx:
                writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
            print("PENDING", [w.name for w in writers])

        asyncio.run(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=repo_root, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "PENDING []" in result.stdout, (
        "models changed without a migration: run `.venv/bin/tec makemigrations --name …`\n"
        + result.stdout
    )


def test_migrating_twice_is_harmless(tmp_path):
    code = (
        "import asyncio; from services import db; from services.settings import Settings;"
        f"s = Settings(database_url='sqlite://{tmp_path}/twice.sqlite3').database;"
        "asyncio.run(db.migrate(s)); asyncio.run(db.migrate(s)); print('OK')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr


async def test_every_index_is_on_columns_of_its_table(database):
    """An index declared with a relation's name (``theme``) instead of its column
    (``theme_id``) fails on PostgreSQL, but SQLite reads an unknown double-quoted name as
    a string and indexes that constant: no error, and no use. An index on an expression
    (``julianday("ends_at") - …``) is one too for SQLite: each name it quotes must then be
    a column of its table."""
    import re

    from tortoise import connections

    client = connections.get("default")
    if client.capabilities.dialect != "sqlite":
        return  # PostgreSQL refuses such an index when migrating
    _, indexes = await client.execute_query(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    )
    assert indexes
    constant = []
    for index in indexes:
        _, parts = await client.execute_query(f'PRAGMA index_xinfo("{index["name"]}")')
        if any(part["key"] and part["cid"] == -2 for part in parts):
            _, columns = await client.execute_query(f'PRAGMA table_info("{index["tbl_name"]}")')
            expression = index["sql"].split(" ON ", 1)[1].split("(", 1)[1]
            quoted = set(re.findall(r'"([^"]+)"', expression))
            if not quoted or quoted - {c["name"] for c in columns}:
                constant.append(f"{index['tbl_name']}.{index['name']}")
    assert not constant, f"indexes on constants, not columns: {constant}"
