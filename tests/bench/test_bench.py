"""The benchmark's pieces work on a tiny dataset: the generator, the hand-written endpoint
(same JSON as the gateway), the Python load generator, and the whole run on both
databases. Nothing here is timed."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from bench.load import drive

pytestmark = pytest.mark.heavy


def _run(*args: str, cwd) -> str:
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_handwritten_endpoint_returns_the_gateways_json(tmp_path, repo_root):
    # In subprocesses: the dataset lives in a database of its own, not the session's.
    url = f"sqlite://{tmp_path / 'bench.sqlite3'}"
    made = _run("bench.dataset", "--database-url", url, "--resources", "60", cwd=repo_root)
    assert "'resources': 60" in made
    assert "same JSON" in _run("bench.check", url, cwd=repo_root)


def test_the_bulk_dataset_is_deterministic_and_answered_alike_by_both_endpoints(
    tmp_path, repo_root
):
    """2,000 resources written by the database, twice into the same empty schema: the same
    rows; the portal (20 and 100) and the page of ressource-1234 with its related
    resources, the same JSON from the gateway and the hand-written endpoints."""
    import asyncio
    import shutil
    import sqlite3

    from bench import bulk

    empty = tmp_path / "empty.sqlite3"
    migrate = (
        "import asyncio, sys; from services import db; from services.settings import Settings;"
        " asyncio.run(db.migrate(Settings(database_url=sys.argv[1]).database))"
    )
    subprocess.run([sys.executable, "-c", migrate, f"sqlite://{empty}"], cwd=repo_root, check=True)
    dumps = []
    for run in range(2):
        path = tmp_path / f"bulk-{run}.sqlite3"
        shutil.copy(empty, path)
        counts = asyncio.run(bulk.generate(f"sqlite://{path}", resources=2000))
        assert counts["resources"] == 2000 and counts["events"] == 200
        conn = sqlite3.connect(path)
        dumps.append(
            [
                conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
                for table in ("resource", "resource_theme", "resource_organization", "event")
            ]
        )
        shape = conn.execute(
            "SELECT (SELECT COUNT(*) FROM resource WHERE status = 'DRAFT'),"
            " (SELECT COUNT(*) FROM resource_theme), (SELECT COUNT(*) FROM event),"
            " (SELECT COUNT(DISTINCT resource_id) FROM resource_organization)"
        ).fetchone()
        conn.close()
        assert shape == (40, 4000, 200, 2000)
    assert dumps[0] == dumps[1]
    assert "same JSON" in _run("bench.check", f"sqlite://{path}", cwd=repo_root)


async def test_the_python_load_generator_counts_requests():
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    transport = httpx.ASGITransport(app=app)
    original = httpx.AsyncClient.__init__

    def with_transport(self, *args, **kwargs):
        kwargs["transport"] = transport
        original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx.AsyncClient, "__init__", with_transport)
        result = await drive("http://t/", body=b"{}", headers={}, connections=2, duration=0.2)
    assert result["requests"] > 0 and result["errors"] == 0
    assert result["p50_ms"] <= result["p99_ms"]


def test_the_tiny_benchmark_runs_on_sqlite_then_postgres_in_one_invocation(
    tmp_path, scratch_postgres, repo_root
):
    # Each backend in a process of its own: SQL prepared for SQLite never reaches PostgreSQL.
    command = [
        sys.executable,
        "-m",
        "bench.run",
        "--tiny",
        "--generator=python",
        "--no-postgraphile",
        f"--sqlite-path={tmp_path / 'bench.sqlite3'}",
    ]
    result = subprocess.run(
        command,
        cwd=repo_root,
        env={**os.environ, "TEC_BENCH_DATABASE_URL": scratch_postgres},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for backend in ("sqlite", "postgres"):
        report = result.stdout.split(f"\n{backend}: requests/s")[1]
        assert "portal, cache off" in report and "peak RSS" in report, result.stdout
    assert "differs" not in result.stdout, result.stdout
