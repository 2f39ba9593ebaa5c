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
