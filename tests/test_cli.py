"""``tec``, the one command operators use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import copy_demo_database, tec_in_process

TEC = Path(sys.executable).parent / "tec"


def _process(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """``tec`` as operators run it: the console script, in a process of its own."""
    return subprocess.run(
        [str(TEC), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def _tec(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """``tec`` run in this process: what it says and does, without starting Python again."""
    return tec_in_process(*args, env=env or {}, cwd=cwd or Path.cwd())


def test_the_console_script_runs(tmp_path):
    result = _process("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["serve", "--help"],
        ["demo", "--help"],
        ["migrate", "--help"],
        ["export-schema", "--help"],
    ],
)
def test_help(args):
    result = _tec(*args)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_export_schema_prints_the_committed_sdl(repo_root, tmp_path):
    result = _tec("export-schema")
    assert result.returncode == 0, result.stderr
    committed = (repo_root / "schema.graphql").read_text(encoding="utf-8")
    assert result.stdout == committed
    output = tmp_path / "schema.graphql"
    assert _tec("export-schema", "--output", str(output)).returncode == 0
    assert output.read_text(encoding="utf-8") == committed


def test_demo_twice_creates_nothing_the_second_time(tmp_path):
    database = tmp_path / "sub" / "demo.sqlite3"
    env = {"TEC_DATABASE_URL": f"sqlite://{database}"}
    first = copy_demo_database(database)  # what `tec demo` printed on an empty database
    assert "New rows: none" not in first
    assert "Resource" in first
    second = _tec("demo", env=env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "New rows: none" in second.stdout
    assert "Demo data loaded:" in second.stdout


def test_bad_settings_are_reported_without_a_traceback(tmp_path):
    result = _process("migrate", env={"TEC_DATABASE_URL": "mysql://nope"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "TEC_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_puts_the_seeds_in_the_archive_and_the_draft_of_this_month_has_content(tmp_path):
    """`tec demo` composes the four seed newsletters into the archive and adds a live layer
    dated from today; `tec newsletter draft --month` of this month then finds the open
    vote, the next theme and upcoming events."""
    import datetime as dt
    import sqlite3
    from zoneinfo import ZoneInfo

    database = tmp_path / "demo.sqlite3"
    env = {"TEC_DATABASE_URL": f"sqlite://{database}"}
    first = copy_demo_database(database)  # what `tec demo` printed on an empty database
    assert "Seed newsletters put in the archive: 2021-06, 2021-07, 2022-09, 2022-11" in first
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT slug, status, frozen_html IS NOT NULL FROM newsletter_issue ORDER BY slug"
        ).fetchall()
    assert rows == [(s, "SENT", 1) for s in ("2021-06", "2021-07", "2022-09", "2022-11")]
    month = dt.datetime.now(ZoneInfo("Europe/Paris")).date().strftime("%Y-%m")
    drafted = _tec("newsletter", "draft", "--month", month, env=env, cwd=tmp_path)
    assert drafted.returncode == 0, drafted.stderr
    lines = {
        line.split(":")[0].strip(): line for line in drafted.stdout.splitlines() if ":" in line
    }
    assert "NEXT_THEME: 1 — Associer les habitants à la transition écologique" in drafted.stdout
    assert lines["VOTE"].startswith("  VOTE: 1 — Votez pour les thématiques")
    assert lines["AGENDA"].startswith("  AGENDA: 3 — ")
    assert lines["THEME_OF_THE_MONTH"].startswith("  THEME_OF_THE_MONTH: 1 — ")
    assert int(lines["INSPIRING_PROJECTS"].split(":")[1].split("—")[0]) >= 1
    bad = _tec("newsletter", "draft", "--month", "décembre", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "expected YYYY-MM" in bad.stderr
