"""A real gateway in a subprocess (``tec demo`` then ``tec serve``) for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

TEC = str(Path(sys.executable).parent / "tec")


@dataclass
class LiveServer:
    base_url: str
    env: dict[str, str]
    # Every command and the server run here, as an operator's shell would.
    cwd: Path

    def tec(self, *args: str, stdin: str | None = None) -> str:
        """Run a ``tec`` command against the same database; its standard output."""
        result = subprocess.run(
            [TEC, *args],
            env=self.env,
            cwd=self.cwd,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def graphql(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(
            f"{self.base_url}/graphql",
            headers=headers,
            timeout=10,
            json={"query": query, "variables": variables or {}},
        )
        return response.json()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(tmp_path: Path, port: int, settings: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        "TEC_DATABASE_URL": f"sqlite://{tmp_path / 'live.sqlite3'}",
        "TEC_HOST": "127.0.0.1",
        "TEC_PORT": str(port),
        "TEC_LOG_LEVEL": "warning",
        **settings,
    }
    env.pop("TEC_TEST_DATABASE_URL", None)
    return env


@contextlib.contextmanager
def live_server(tmp_path: Path, **settings: str) -> Iterator[LiveServer]:
    """``tec demo`` then ``tec serve`` on a free port, both started in ``tmp_path`` (a SQLite
    file there unless ``TEC_DATABASE_URL`` is given; a relative path is read from there)."""
    port = _free_port()
    server = LiveServer(
        base_url=f"http://127.0.0.1:{port}",
        env=_environment(tmp_path, port, settings),
        cwd=tmp_path,
    )
    server.tec("demo")
    with _serving(tmp_path, server):
        yield server


@contextlib.contextmanager
def serving(tmp_path: Path, **settings: str) -> Iterator[LiveServer]:
    """``tec serve`` on a free port over a database already migrated and filled (no
    ``tec demo``: the caller's data stays as it is)."""
    port = _free_port()
    server = LiveServer(
        base_url=f"http://127.0.0.1:{port}",
        env=_environment(tmp_path, port, settings),
        cwd=tmp_path,
    )
    with _serving(tmp_path, server):
        yield server


@contextlib.contextmanager
def _serving(tmp_path: Path, server: LiveServer) -> Iterator[None]:
    port = server.base_url.rsplit(":", 1)[1]
    log = (tmp_path / f"serve-{port}.log").open("w+")
    process = subprocess.Popen(
        [TEC, "serve", "--no-migrate"],
        env=server.env,
        cwd=server.cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                log.seek(0)
                raise AssertionError(f"tec serve did not start:\n{log.read()}")
            time.sleep(0.1)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
