"""The growth benchmark (``python -m bench.run --growth``) runs end to end on two small
sizes: datasets written in bulk, both hand-written endpoints, the gateway cache off and on,
the table across sizes. A minute of servers and load: marked ``scale``
(``make test-scale``). Nothing here is timed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import POSTGRES_URL


@pytest.mark.scale
def test_the_growth_benchmark_runs_on_sqlite(tmp_path, repo_root):
    if POSTGRES_URL:
        pytest.skip("SQLite only: the driver is the same on both databases")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--growth",
            "--sizes=150,300",
            "--duration=0.3",
            "--warmup=0",
            "--connections=2",
            "--generator=python",
            f"--sqlite-path={tmp_path / 'growth.sqlite3'}",
        ],
        cwd=repo_root,
        env={k: v for k, v in os.environ.items() if k != "TEC_BENCH_DATABASE_URL"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = result.stdout.split("\ngrowth: ")[1]
    for row in (
        "hand-written resource page",
        "resource page, cache off",
        "portal of 100, cache hit",
    ):
        assert row in table, result.stdout
    assert "differs" not in result.stdout, result.stdout
