"""The GraphQL-over-HTTP audit suite (npm package graphql-http) against a live gateway:
no MUST and no SHOULD left unmet. Needs Node and npm; skipped with the reason otherwise."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.live import live_server

AUDIT = Path(__file__).resolve().parent.parent / "audit"


def _install() -> str | None:
    """Install the audit's pinned packages; the reason it cannot run, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "Node and npm are needed for the graphql-http audit"
    if (AUDIT / "node_modules" / "graphql-http").is_dir():
        return None
    result = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=AUDIT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        return f"npm ci failed in {AUDIT}: {result.stderr.strip()[-300:]}"
    return None


def test_the_graphql_over_http_audit_passes(tmp_path):
    problem = _install()
    if problem:
        pytest.skip(problem)
    # The audit sends its requests all at once from one address.
    with live_server(tmp_path, TEC_RATE_LIMIT_ANONYMOUS="100000") as server:
        result = subprocess.run(
            ["node", str(AUDIT / "audit.mjs"), f"{server.base_url}/graphql"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    results = json.loads(result.stdout)
    assert len(results) > 40, results
    unmet = [
        f"{r['id']} {r['name']}: {r['reason']}"
        for r in results
        if r["status"] != "ok" and r["name"].startswith(("MUST", "SHOULD"))
    ]
    assert unmet == []
