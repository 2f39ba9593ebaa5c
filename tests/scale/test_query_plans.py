"""At 1,000,000 resources, every statement of the portal query and of the resource page
uses its indexes: no table read whole, no sort of the whole table, no read that grows
with the catalogue (``bench/plans.py`` explains each statement; docs/performance.md).

The dataset is written in bulk (``bench/bulk.py``) into a database of the test's own, on
the suite's backend (SQLite, or PostgreSQL with ``TEC_TEST_DATABASE_URL``), and the
gateway runs in another process, with the read compiler and without. Loading a million
resources takes about a minute, so these tests carry the ``scale`` marker: the default
run leaves them out and ``make test`` runs them as a step of their own
(``make test-scale``). ``TEC_SCALE_RESOURCES`` sets another size."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench import plans
from tests.conftest import POSTGRES_URL, ROOT

RESOURCES = int(os.environ.get("TEC_SCALE_RESOURCES", "1000000"))


@pytest.fixture(scope="module")
def explained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:
    """``{"<page>, read compiler on|off": [{sql, work, problems}]}`` at the full size."""
    workdir = tmp_path_factory.mktemp("scale")
    if POSTGRES_URL:
        url = _scratch_postgres()
    else:
        # In memory when the machine has a RAM disk: the load writes about a gigabyte.
        shm = Path("/dev/shm")
        base = Path(os.environ.get("TEC_SCALE_DIR", shm if shm.is_dir() else workdir))
        path = base / f"tec-scale-{os.getpid()}.sqlite3"
        url = f"sqlite://{path}"
    out = workdir / "plans.json"
    try:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.plans",
                f"--database-url={url}",
                f"--resources={RESOURCES}",
                "--build",
                f"--json={out}",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if not out.exists():
            raise AssertionError(f"bench.plans failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        return json.loads(out.read_text())
    finally:
        if POSTGRES_URL:
            _drop_postgres(url)
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{url.removeprefix('sqlite://')}{suffix}").unlink(missing_ok=True)


def _admin_url() -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(POSTGRES_URL)._replace(path="/postgres"))


def _scratch_postgres() -> str:
    import asyncio
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    name = f"tec_scale_{os.getpid()}"

    async def create() -> None:
        admin = await asyncpg.connect(_admin_url())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()

    asyncio.run(create())
    return urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{name}"))


def _drop_postgres(url: str) -> None:
    import asyncio

    import asyncpg

    async def drop() -> None:
        admin = await asyncpg.connect(_admin_url())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(drop())


@pytest.mark.scale
def test_every_statement_of_the_portal_and_the_resource_page_reads_by_index(explained):
    assert set(explained) == {
        f"{page}, read compiler {state}"
        for page in ("portal", "portal of 100", "resource page")
        for state in ("on", "off")
    }
    problems = [
        (name, statement["sql"][:300], problem)
        for name, statements in explained.items()
        for statement in statements
        for problem in statement["problems"]
    ]
    assert problems == []
    assert all(explained.values())


# --- the checker itself, on plans it must refuse -----------------------------------------


def test_the_check_refuses_a_full_scan_and_a_sort_of_the_whole_table_on_sqlite(tmp_path):
    path = tmp_path / "bad.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE resource (id INTEGER PRIMARY KEY, slug TEXT UNIQUE, title TEXT)")
    conn.executemany(
        "INSERT INTO resource VALUES (?, ?, ?)", [(i, f"r-{i}", f"t {i}") for i in range(5000)]
    )
    conn.commit()
    conn.close()
    scan = plans.Statement("SELECT * FROM resource ORDER BY title LIMIT 20", [])
    plans.explain_sqlite(str(path), scan)
    assert any(p.startswith("full scan: SCAN resource") for p in scan.problems), scan.plan
    assert any("USE TEMP B-TREE FOR ORDER BY" in p for p in scan.problems), scan.plan

    by_key = plans.Statement("SELECT * FROM resource WHERE slug = ?", ["r-12"])
    plans.explain_sqlite(str(path), by_key)
    assert by_key.problems == [], by_key.plan


def test_the_check_refuses_a_read_that_grows_with_the_data_on_sqlite(tmp_path, monkeypatch):
    path = tmp_path / "long.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE event (id INTEGER PRIMARY KEY, starts_at INT, ends_at INT)")
    conn.execute("CREATE INDEX by_start ON event (starts_at)")
    conn.executemany("INSERT INTO event VALUES (?, ?, ?)", [(i, i, i + 2) for i in range(20000)])
    conn.commit()
    conn.close()
    # An index walked in order, most of it filtered out: no SCAN in the plan, but a read
    # of most of the table.
    walk = plans.Statement(
        "SELECT id FROM event WHERE starts_at >= 0 AND ends_at >= ? ORDER BY starts_at LIMIT 10",
        [19990],
    )
    monkeypatch.setattr(plans, "SQLITE_STEPS", 50_000)
    plans.explain_sqlite(str(path), walk)
    assert any("virtual machine steps" in p for p in walk.problems), (walk.work, walk.plan)


def test_the_check_refuses_a_seq_scan_a_large_sort_and_a_large_read_on_postgres():
    seq_scan_and_sort = [
        {
            "Plan": {
                "Node Type": "Limit",
                "Plans": [
                    {
                        "Node Type": "Sort",
                        "Sort Key": ["published_at DESC"],
                        "Plans": [
                            {
                                "Node Type": "Seq Scan",
                                "Relation Name": "resource",
                                "Plan Rows": 980000,
                                "Actual Rows": 980000,
                                "Actual Loops": 1,
                                "Rows Removed by Filter": 20000,
                            }
                        ],
                    }
                ],
            }
        }
    ]
    problems = plans.postgres_problems(json.dumps(seq_scan_and_sort))
    assert any(p.startswith("full scan: Seq Scan on resource") for p in problems), problems
    assert any(p.startswith("sort of 980000 rows") for p in problems), problems
    assert any(p.startswith("reads 1000000 rows") for p in problems), problems

    walked_index = [
        {
            "Plan": {
                "Node Type": "Index Scan",
                "Relation Name": "event",
                "Index Name": "idx_event_status_fff538",
                "Plan Rows": 100,
                "Actual Rows": 10,
                "Actual Loops": 1,
                "Rows Removed by Filter": 50000,
            }
        }
    ]
    assert plans.postgres_problems(walked_index) == [
        f"reads 50010 rows of large tables (more than {plans.ROWS_READ}): in proportion to"
        " the catalogue (event 50010)"
    ]

    by_key = [
        {
            "Plan": {
                "Node Type": "Index Scan",
                "Relation Name": "resource",
                "Plan Rows": 1,
                "Actual Rows": 1,
                "Actual Loops": 1,
            }
        }
    ]
    assert plans.postgres_problems(by_key) == []
