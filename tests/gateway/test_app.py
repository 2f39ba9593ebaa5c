"""Health endpoints, and the app's own start-up (lifespan) in a separate process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_the_database_answers(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_graphql_ide_is_served_on_get(client):
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_tec_serve_starts_migrates_and_answers(tmp_path):
    """``tec serve`` on an empty SQLite file: migrations, lifespan, health, GraphQL."""
    port = _free_port()
    env = {
        **os.environ,
        "TEC_DATABASE_URL": f"sqlite://{tmp_path / 'var' / 'serve.sqlite3'}",
        "TEC_HOST": "127.0.0.1",
        "TEC_PORT": str(port),
        "TEC_LOG_LEVEL": "warning",
    }
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "tec"), "serve"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=base, timeout=5)
    try:
        # Migrating an empty database and starting take a few seconds; a shared, loaded
        # machine can take much longer. The poll ends as soon as the process answers.
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                health = client.get("/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["database"] == "ok"
        # Migrated but empty: lists answer, with nothing in them.
        answer = client.post("/graphql", json={"query": "{ resources { nodes { slug } } }"})
        assert answer.status_code == 200
        assert answer.json() == {"data": {"resources": {"nodes": []}}}
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
    assert (tmp_path / "var" / "serve.sqlite3").exists()


async def test_readyz_when_the_database_does_not_answer(client, monkeypatch):
    import services.db

    async def unreachable() -> bool:
        return False

    monkeypatch.setattr(services.db, "ping", unreachable)
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
