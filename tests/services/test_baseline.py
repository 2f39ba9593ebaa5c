"""An empty SQLite database starts from the baseline script, and ends up exactly as the
migrations, run one after the other, would have left it."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from services import baseline, db


def _schema(path: Path) -> list[str]:
    return baseline.dump_schema(path)


def test_the_baseline_stands_for_every_migration():
    kept = baseline.read_baseline()
    assert kept is not None, "services/migrations/baseline.sqlite.sql is missing"
    assert kept[0] == baseline.migration_names(), (
        "the baseline is behind the migrations: run `.venv/bin/tec makemigrations`"
    )


def test_an_empty_database_gets_the_schema_and_every_migration_recorded(tmp_path):
    # That the schema is the one the migrations leave, one after the other, is checked
    # where they run one after the other: tests/services/test_upgrades.py.
    fresh = tmp_path / "fresh.sqlite3"
    assert baseline.apply_baseline(fresh, db.APP_LABEL) is True
    kept = baseline.read_baseline()
    assert kept is not None
    assert baseline.applied_migrations(fresh, db.APP_LABEL) == baseline.migration_names()
    assert len(_schema(fresh)) == len(baseline.statements_of(kept[1]))


def test_a_database_holding_tables_is_left_to_the_migrations(tmp_path):
    path = tmp_path / "holding.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE kept (id INTEGER PRIMARY KEY)")
    connection.close()
    assert baseline.apply_baseline(path, db.APP_LABEL) is False
    assert _schema(path) == ["CREATE TABLE kept (id INTEGER PRIMARY KEY)"]


def test_a_baseline_missing_a_migration_is_not_used(monkeypatch, tmp_path):
    names = [*baseline.migration_names(), "9999_not_in_the_baseline"]
    monkeypatch.setattr(baseline, "migration_names", lambda: names)
    empty = tmp_path / "empty.sqlite3"
    assert baseline.apply_baseline(empty, db.APP_LABEL) is False
    assert _schema(empty) == []


def test_two_processes_creating_the_same_database_apply_it_once(tmp_path):
    path = tmp_path / "raced.sqlite3"
    start = threading.Barrier(4)
    applied: list[bool] = []

    def apply() -> None:
        start.wait()
        applied.append(baseline.apply_baseline(path, db.APP_LABEL))

    threads = [threading.Thread(target=apply) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(applied) == [False, False, False, True]
    assert baseline.applied_migrations(path, db.APP_LABEL) == baseline.migration_names()


def test_a_failing_statement_leaves_the_database_empty(monkeypatch, tmp_path):
    names, script = baseline.read_baseline() or ([], "")
    broken = script + '\nCREATE TABLE "tortoise_migrations" ("id" INTEGER);\n'
    monkeypatch.setattr(baseline, "read_baseline", lambda: (names, broken))
    path = tmp_path / "broken.sqlite3"
    with pytest.raises(sqlite3.OperationalError, match="already exists"):
        baseline.apply_baseline(path, db.APP_LABEL)
    assert _schema(path) == []
