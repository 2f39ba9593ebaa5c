"""PostGraphile beside the gateway (bench/postgraphile/): on the same PostgreSQL data, its
portal query answers the same rows and values as the gateway's. Needs Node and npm
(``npm ci`` into var/bench/postgraphile/, once per lock) and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.node


def _run(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=900
    )


def test_postgraphile_answers_the_portal_with_the_gateways_content(scratch_postgres, repo_root):
    url = scratch_postgres
    made = _run("bench.dataset", "--database-url", url, "--resources", "60", cwd=repo_root)
    assert made.returncode == 0, made.stderr[-2000:]
    checked = _run("bench.postgraphile", url, cwd=repo_root)
    if checked.returncode == 2:
        pytest.skip(checked.stdout.strip())
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    assert checked.stdout.strip() == "same content"
