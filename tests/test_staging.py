"""The staging run, reduced (``python -m deploy.staging --quick``, docs/deploy.md): the
production process layout started on this machine — its own PostgreSQL and Redis, two
gateway replicas behind the load balancer, the search worker, the mail worker, an SMTP
sink — under a mixed load while the replica, the worker, the mailer, Redis and PostgreSQL
are each SIGKILLed and restarted; every acknowledged write must be in the database, the
search index must converge, each subscriber must get the issue once and the rate limit
must hold across the replicas.

It runs once per `make test`, in the PostgreSQL pass (the production layout; it brings
its own PostgreSQL, so it runs once, and the SQLite pass stays quick), and only where the
PostgreSQL server binaries and redis-server are installed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.staging.processes import find_binaries

ROOT = Path(__file__).resolve().parent.parent
BINARIES, MISSING = find_binaries()

pytestmark = [
    pytest.mark.skipif(BINARIES is None, reason=f"the staging run needs {MISSING}"),
    pytest.mark.skipif(
        not os.environ.get("TEC_TEST_DATABASE_URL"),
        reason="the staging run is the production layout: it runs in the PostgreSQL pass",
    ),
    pytest.mark.heavy(seconds=100),
]


def test_the_production_layout_loses_nothing_when_each_component_is_killed(tmp_path):
    run = subprocess.Popen(
        [sys.executable, "-m", "deploy.staging", "--quick", "--report-dir", str(tmp_path)],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("TEC_")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = run.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        run.send_signal(signal.SIGTERM)  # the run stops what it started, then exits
        stdout, stderr = run.communicate(timeout=60)
        pytest.fail(f"the quick staging run took more than 4 minutes:\n{stdout[-6000:]}")
    print(stdout)
    if run.returncode == 0 and stdout.startswith("skipped:"):
        pytest.skip(stdout.strip())
    assert run.returncode == 0, stdout[-6000:] + stderr[-3000:]
    report = json.loads(next(tmp_path.glob("*-quick.json")).read_text(encoding="utf-8"))
    assert [c["name"] for c in report["checks"] if not c["passed"]] == []
    killed = {fault["target"] for fault in report["timeline"]["faults"]}
    assert killed == {"replica-a", "worker", "mailer", "redis", "postgres"}
    assert all(fault["ready_at"] is not None for fault in report["timeline"]["faults"])
