"""PostGraphile 5 beside the gateway, on the benchmark's PostgreSQL database.

``make bench`` on PostgreSQL starts it with the amber preset (``graphile.config.mjs``),
sends it the portal query in its own dialect (``portal.graphql``: the link tables through
``@graphile-contrib/pg-many-to-many``, the time conditions through
``postgraphile-plugin-connection-filter``), checks that it answers the same content as
the gateway, and measures it with the same load, the same connections, the same data.

It is installed with ``npm ci`` from ``package.json`` and ``package-lock.json`` into
``var/bench/postgraphile/`` (again only when the lock changes); nothing is committed but
those two files. PostGraphile 5 needs Node 22 or later: the machine's ``node`` when it is
that recent, else the Node 22 the lock brings as the ``node`` package. Without Node or
npm, or when the install fails, :func:`install` says why and the benchmark skips it.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.dataset import EVENTS_FROM

HERE = Path(__file__).resolve().parent
FILES = ("package.json", "package-lock.json", "graphile.config.mjs")
_TIMES = ("publishedAt", "startsAt", "endsAt")


def _node_major(node: str) -> int:
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
        return int(version.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return 0


def install(cache: Path) -> tuple[str | None, str]:
    """``(node, message)``: the Node binary to run PostGraphile with and what was used,
    or ``(None, reason)`` when it cannot run here."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None, "Node and npm are needed (Debian: apt-get install -y nodejs npm)"
    cache.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(HERE / name, cache / name)
    lock = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()
    stamp = cache / ".installed"
    if not (stamp.exists() and stamp.read_text() == lock and (cache / "node_modules").exists()):
        try:
            result = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=cache,
                capture_output=True,
                text=True,
                timeout=900,
            )
        except subprocess.TimeoutExpired:
            return None, f"npm ci in {cache} took more than 15 minutes"
        if result.returncode != 0:
            return None, f"npm ci failed in {cache}: {result.stderr.strip()[-400:]}"
        stamp.write_text(lock)
    machine = shutil.which("node") or "node"
    major = _node_major(machine)
    if major >= 22:
        return machine, f"Node {major} of the machine"
    packaged = str(cache / "node_modules" / ".bin" / "node")
    if (bundled := _node_major(packaged)) >= 22:
        return packaged, f"Node {bundled} from npm (the machine's is Node {major})"
    return None, f"PostGraphile 5 needs Node 22 or later; the machine has Node {major}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server(node: str, cache: Path, database_url: str, log: Path) -> Iterator[tuple[str, int]]:
    """PostGraphile serving ``database_url``: ``(base URL, pid)`` until the block ends."""
    port = _free_port()
    cli = cache / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": database_url,
        "BENCH_PORT": str(port),
        "NODE_ENV": "production",
        "GRAPHILE_ENV": "production",
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [node, str(cli), "-C", "graphile.config.mjs"],
            cwd=cache,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"PostGraphile exited:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                answer = httpx.post(base + "/graphql", json={"query": "{ __typename }"}, timeout=2)
                if answer.status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostGraphile did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def portal_body(now: dt.datetime) -> bytes:
    """The portal request in PostGraphile's dialect. ``now`` stands for the gateway's
    visibility rule (published, publication time come), which PostGraphile does not know:
    it is a filter of the query."""
    variables = {"from": EVENTS_FROM, "now": now.isoformat()}
    query = (HERE / "portal.graphql").read_text()
    return json.dumps({"query": query, "variables": variables}).encode()


def _gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def as_gateway_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """PostGraphile's portal answer in the gateway's shape (its ids and field names)."""
    data = answer["data"]
    resources = [
        {
            "id": _gid("Resource", r["rowId"]),
            "slug": r["slug"],
            "title": r["title"],
            "kind": r["kind"],
            "publishedAt": r["publishedAt"],
            "organizations": r["organizationsByResourceOrganizationResourceIdAndOrganizationId"][
                "nodes"
            ],
            "themes": r["themesByResourceThemeResourceIdAndThemeId"]["nodes"],
        }
        for r in data["allResources"]["nodes"]
    ]
    events = [
        {
            "id": _gid("Event", e["rowId"]),
            "slug": e["slug"],
            "title": e["title"],
            "startsAt": e["startsAt"],
            "endsAt": e["endsAt"],
            "city": e["city"],
            "online": e["online"],
        }
        for e in data["allEvents"]["nodes"]
    ]
    return {
        "data": {
            "resources": {"edges": [{"node": n} for n in resources]},
            "events": {"edges": [{"node": n} for n in events]},
        }
    }


def same_content(gateway: dict[str, Any], postgraphile: dict[str, Any]) -> bool:
    """True when both portal answers hold the same rows and values (times compared as
    instants: PostGraphile writes microseconds, the gateway does not)."""
    if postgraphile.get("errors"):
        return False
    return _normal(gateway) == _normal(as_gateway_answer(postgraphile))


def _normal(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _normal(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if key in _TIMES and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value
