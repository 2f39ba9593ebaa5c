"""``tec``, the one command operators use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TEC = Path(sys.executable).parent / "tec"


def _tec(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [str(TEC), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


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
    env = {"TEC_DATABASE_URL": f"sqlite://{tmp_path / 'sub' / 'demo.sqlite3'}"}
    first = _tec("demo", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "New rows: none" not in first.stdout
    assert "Resource" in first.stdout
    second = _tec("demo", env=env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "New rows: none" in second.stdout
    assert "Demo data loaded:" in second.stdout


def test_bad_settings_are_reported_without_a_traceback(tmp_path):
    result = _tec("migrate", env={"TEC_DATABASE_URL": "mysql://nope"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "TEC_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
