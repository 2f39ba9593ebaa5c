"""The schema an empty SQLite database has once every migration ran, kept as one script.

Applying the migrations one by one costs about five seconds of CPU on an empty database:
Tortoise renders the models' state again after each operation. SQLite databases start
empty all the time — ``make demo``, a developer's first ``tec serve``, every test that
needs a database of its own — so an empty SQLite database gets this script instead, in
one transaction, and the migrations it stands for are recorded as applied. Anything else
(a database holding tables, a migration the script does not include, a ``target``,
PostgreSQL) goes through the migrations.

The script is what SQLite itself keeps (``sqlite_master``) after the migrations ran, in
creation order, so replaying it gives the same tables, indexes and triggers, text for
text. ``tec makemigrations`` writes it again with each new migration;
``tests/services/test_baseline.py`` checks that it matches the migrations.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import sqlite3
from pathlib import Path

MIGRATIONS_TABLE = "tortoise_migrations"
_HEADER = "-- migrations:"


def baseline_path() -> Path:
    from services.db import MIGRATIONS_MODULE

    package = importlib.import_module(MIGRATIONS_MODULE)
    return Path(package.__file__ or "").parent / "baseline.sqlite.sql"


def migration_names() -> list[str]:
    """Every migration of ``services/migrations``, in order."""
    return sorted(p.stem for p in baseline_path().parent.glob("[0-9][0-9][0-9][0-9]_*.py"))


def dump_schema(path: Path) -> list[str]:
    """The statements that create ``path``'s tables, indexes, views and triggers, in the
    order SQLite created them; its own tables (``sqlite_sequence``, statistics) excluded."""
    return _column(
        path,
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
        "ORDER BY rowid",
    )


def applied_migrations(path: Path, app: str) -> list[str]:
    return _column(path, f'SELECT name FROM "{MIGRATIONS_TABLE}" WHERE app = ? ORDER BY id', app)


def _column(path: Path, sql: str, *values: str) -> list[str]:
    """The first column of what ``sql`` selects in the database at ``path``."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return [row[0] for row in connection.execute(sql, values)]


def write_baseline(migrated: Path, app: str) -> Path:
    """Write the script from ``migrated``, a SQLite database every migration ran on."""
    names = applied_migrations(migrated, app)
    if names != migration_names():
        raise ValueError(f"{migrated} has migrations {names}, not {migration_names()}")
    lines = [
        "-- The schema of an empty SQLite database once these migrations ran",
        "-- (services/baseline.py). Written by `tec makemigrations`: do not edit.",
        f"{_HEADER} {' '.join(names)}",
        "",
    ]
    lines += [f"{statement.strip()};\n" for statement in dump_schema(migrated)]
    target = baseline_path()
    target.write_text("\n".join(lines), encoding="utf-8")
    return target


def read_baseline() -> tuple[list[str], str] | None:
    """(the migrations it stands for, the script), or None where there is none."""
    path = baseline_path()
    if not path.is_file():
        return None
    script = path.read_text(encoding="utf-8")
    for line in script.splitlines():
        if line.startswith(_HEADER):
            return line.removeprefix(_HEADER).split(), script
    return None


def apply_baseline(path: Path, app: str) -> bool:
    """Create the schema in ``path`` from the script when the database holds no table
    and the script includes every migration; True when it did. Two processes starting
    on the same new file are serialised by the write lock taken before looking."""
    baseline = read_baseline()
    if baseline is None or baseline[0] != migration_names():
        return False
    names, script = baseline
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        (tables,) = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if tables:
            connection.execute("ROLLBACK")
            return False
        for statement in statements_of(script):
            connection.execute(statement)
        now = dt.datetime.now(dt.UTC).isoformat(sep=" ")
        connection.executemany(
            f'INSERT INTO "{MIGRATIONS_TABLE}" (app, name, applied_at) VALUES (?, ?, ?)',
            [(app, name, now) for name in names],
        )
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    finally:
        connection.close()
    return True


def statements_of(script: str) -> list[str]:
    """The script's statements: each ends with a line that ends in ``;``."""
    statements, current = [], []
    for line in script.splitlines():
        if not current and (not line.strip() or line.startswith("--")):
            continue
        current.append(line)
        if line.endswith(";") and sqlite3.complete_statement("\n".join(current)):
            statements.append("\n".join(current))
            current = []
    if current:
        raise ValueError(f"unfinished statement in the baseline: {current[0][:60]}")
    return statements
