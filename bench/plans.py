"""The query plans of the portal and the resource page on a large catalogue: every SQL
statement the gateway sends for them, explained by the database, checked for work that
grows with the catalogue.

The gateway runs in process (response cache off, search worker off) on a database that
holds the benchmark's dataset (:mod:`bench.bulk`), once with the read compiler and once
without; each statement Tortoise logs (and the ones the gateway runs on its own reader,
logged the same way) is explained with its own values: ``EXPLAIN QUERY PLAN`` on SQLite,
``EXPLAIN (FORMAT JSON)`` on PostgreSQL. A plan is refused when it

- reads a large table whole: SQLite ``SCAN <table>`` (with or without an index: it
  visits every row or every entry), PostgreSQL ``Seq Scan`` on it;
- sorts many rows: SQLite ``USE TEMP B-TREE FOR ORDER BY`` / ``GROUP BY`` /
  ``DISTINCT`` in a statement that reads a large table by a range or whole, PostgreSQL
  a ``Sort`` node whose input is estimated above :data:`SORT_ROWS` rows.

Large tables are those of :data:`LARGE_TABLES` (the resources, events and their links).

    python -m bench.plans --database-url sqlite://var/scale/plans.sqlite3 --resources 1000000

prints each statement with its plan and the problems found, and exits 1 when there is one
(``--build`` writes the dataset first).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import enum
import json
import logging
import re
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bulk import TABLES
from services.compat_tortoise import statements_logged_to

LARGE_TABLES = frozenset(TABLES) - {"organization", "theme", "territory"}
SORT_ROWS = 10_000
"""A PostgreSQL sort of more rows than this is one that grows with the data."""
ROWS_READ = 20_000
"""A PostgreSQL statement reading more rows of large tables than this (filtered out ones
included) reads in proportion to the catalogue."""
SQLITE_STEPS = 300_000
"""The same on SQLite, in steps of its virtual machine (about ten per row read): the
portal takes about 5,000 (its next events under 1,000, read from near ``from``), a
resource page's related resources about 200,000 (the same at any size), and a walk
through 50,000 rows of an index about 450,000."""
_STEP = 1000


@dataclass
class Statement:
    sql: str
    values: list[Any]
    plan: Any = None
    problems: list[str] = field(default_factory=list)
    work: int = 0
    """SQLite: virtual machine steps of a run; PostgreSQL: rows of large tables read."""


# --- checks -----------------------------------------------------------------------------


def sqlite_problems(plan: list[tuple[int, int, int, str]]) -> list[str]:
    """What is wrong with an ``EXPLAIN QUERY PLAN`` (rows ``id, parent, notused, detail``)."""
    problems = []
    ranges = False
    for _, _, _, detail in plan:
        scanned = re.match(r"SCAN (\w+)", detail)
        if scanned and scanned.group(1) in LARGE_TABLES:
            problems.append(f"full scan: {detail}")
            ranges = True
        searched = re.match(r"SEARCH (\w+) USING .*\((.*)\)", detail)
        if searched and searched.group(1) in LARGE_TABLES and "=" not in searched.group(2):
            ranges = True  # a range only: as many rows as the range holds
    if ranges:
        for _, _, _, detail in plan:
            if re.match(r"USE TEMP B-TREE FOR (ORDER BY|GROUP BY|DISTINCT)", detail):
                problems.append(f"sort of a large read: {detail}")
    return problems


def postgres_problems(plan: Any) -> list[str]:
    """What is wrong with an ``EXPLAIN (FORMAT JSON)`` plan."""
    problems: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        kind = node.get("Node Type", "")
        relation = node.get("Relation Name")
        if kind == "Seq Scan" and relation in LARGE_TABLES:
            problems.append(f"full scan: Seq Scan on {relation} ({node.get('Plan Rows')} rows)")
        children = node.get("Plans", [])
        if kind == "Sort":
            rows = max((_rows(c) for c in children), default=0)
            if rows > SORT_ROWS:
                keys = ", ".join(node.get("Sort Key", []))
                problems.append(f"sort of {rows} rows by {keys}")
        for child in children:
            walk(child)

    document = json.loads(plan) if isinstance(plan, str) else plan
    for entry in document:
        walk(entry["Plan"])
    read = postgres_rows_read(document)
    if read > ROWS_READ:
        tables = postgres_rows_by_table(document)
        detail = ", ".join(f"{table} {n}" for table, n in sorted(tables.items()) if n)
        problems.append(
            f"reads {read} rows of large tables (more than {ROWS_READ}): in proportion to"
            f" the catalogue ({detail})"
        )
    return problems


def _rows(node: dict[str, Any]) -> int:
    """Rows a node returned over all its loops (the estimate for a plan not run)."""
    if "Actual Rows" in node:
        return int(node["Actual Rows"] * node.get("Actual Loops", 1))
    return int(node.get("Plan Rows", 0))


def postgres_rows_read(plan: Any) -> int:
    """Rows of large tables the scans of a plan read, those their filters removed included."""
    return sum(postgres_rows_by_table(plan).values())


def postgres_rows_by_table(plan: Any) -> dict[str, int]:
    """:func:`postgres_rows_read` per large table."""
    document = json.loads(plan) if isinstance(plan, str) else plan
    read: dict[str, int] = {}

    def walk(node: dict[str, Any]) -> None:
        table = node.get("Relation Name")
        if table in LARGE_TABLES:
            loops = node.get("Actual Loops", 1)
            removed = node.get("Rows Removed by Filter", 0) + node.get(
                "Rows Removed by Index Recheck", 0
            )
            read[table] = read.get(table, 0) + _rows(node) + int(removed * loops)
        for child in node.get("Plans", []):
            walk(child)

    for entry in document:
        walk(entry["Plan"])
    return read


def render_postgres(plan: Any, indent: int = 0) -> str:
    """A PostgreSQL JSON plan as short text lines."""
    document = json.loads(plan) if isinstance(plan, str) else plan
    lines: list[str] = []

    def walk(node: dict[str, Any], depth: int) -> None:
        parts = [node.get("Node Type", "?")]
        for key in ("Relation Name", "Index Name"):
            if key in node:
                parts.append(str(node[key]))
        parts.append(f"rows={node.get('Plan Rows')}")
        lines.append(" " * (indent + 2 * depth) + " ".join(parts))
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    for entry in document:
        walk(entry["Plan"], 0)
    return "\n".join(lines)


# --- capture ----------------------------------------------------------------------------


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.statements: list[Statement] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and isinstance(args[0], str):
            sql = args[0].strip()
            if sql.upper().startswith(("SELECT", "WITH")):
                self.statements.append(Statement(sql, list(args[1] or [])))


@contextlib.contextmanager
def capture() -> Iterator[list[Statement]]:
    """The read statements sent inside the block, with their values."""
    handler = _Capture()
    with statements_logged_to(handler):
        yield handler.statements


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):  # as the ORM stores it
        return value.astimezone(dt.UTC).isoformat(sep=" ")
    if isinstance(value, enum.Enum):
        return value.value
    return value


def explain_sqlite(path: str, statement: Statement) -> None:
    """Fill in the plan, the work and the problems of a statement on the SQLite file."""
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        values = [_sqlite_value(v) for v in statement.values]
        statement.plan = [
            tuple(row) for row in conn.execute("EXPLAIN QUERY PLAN " + statement.sql, values)
        ]
        steps = [0]

        def count() -> int:
            steps[0] += _STEP
            return 0

        conn.set_progress_handler(count, _STEP)
        conn.execute(statement.sql, values).fetchall()
        statement.work = steps[0]
    finally:
        conn.close()
    statement.problems = sqlite_problems(statement.plan)
    if statement.work > SQLITE_STEPS:
        statement.problems.append(
            f"{statement.work} virtual machine steps (more than {SQLITE_STEPS}):"
            " it reads rows in proportion to the catalogue"
        )


async def explain_postgres(statement: Statement) -> None:
    """Fill in the plan (run: actual rows), the work and the problems of a statement."""
    from tortoise import connections

    conn = connections.get("default")
    _, rows = await conn.execute_query(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement.sql, statement.values
    )
    statement.plan = rows[0][0]
    statement.problems = postgres_problems(statement.plan)
    statement.work = postgres_rows_read(statement.plan)


async def portal_and_page(url: str) -> dict[str, list[Statement]]:
    """``{"<page>, read compiler on|off": statements}``: each explained."""
    import httpx

    from bench import queries
    from gateway.app import create_app
    from services import db
    from services.settings import Settings

    found: dict[str, list[Statement]] = {}
    documents = {
        "portal": (queries.PORTAL, queries.PORTAL_VARIABLES),
        "portal of 100": (
            queries.PORTAL.replace("first: 20", "first: 100"),
            queries.PORTAL_VARIABLES,
        ),
        "resource page": (queries.RESOURCE_PAGE, queries.RESOURCE_PAGE_VARIABLES),
    }
    base = Settings(database_url=url, cache_enabled=False, search_worker=False)
    async with db.database(base.database):
        for compiler in (True, False):
            app = create_app(
                Settings(
                    database_url=url,
                    cache_enabled=False,
                    search_worker=False,
                    read_compiler=compiler,
                )
            )
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://plans") as client:
                for name, (query, variables) in documents.items():
                    body = {"query": query, "variables": variables}
                    # The first answer plans and prepares; the second is the steady state.
                    first = (await client.post("/graphql", json=body)).json()
                    if first.get("errors") or not first.get("data"):
                        raise RuntimeError(f"{name}: {first}")
                    with capture() as statements:
                        await client.post("/graphql", json=body)
                    for statement in statements:
                        if url.startswith("sqlite:"):
                            path = url.removeprefix("sqlite://")
                            await asyncio.to_thread(explain_sqlite, path, statement)
                        else:
                            await explain_postgres(statement)
                    found[f"{name}, read compiler {'on' if compiler else 'off'}"] = statements
    return found


def report(found: dict[str, list[Statement]], out: Any = sys.stdout) -> int:
    """Print the plans; the number of problems."""
    count = 0
    for name, statements in found.items():
        print(f"\n== {name}: {len(statements)} statements", file=out)
        for statement in statements:
            print(f"\n{statement.sql}\n  values: {statement.values[:12]}", file=out)
            print(f"  work: {statement.work}", file=out)
            if (
                isinstance(statement.plan, list)
                and statement.plan
                and isinstance(statement.plan[0], tuple)
            ):
                for row in statement.plan:
                    print(f"  {row[3]}", file=out)
            else:
                print(render_postgres(statement.plan, indent=2), file=out)
            for problem in statement.problems:
                print(f"  PROBLEM: {problem}", file=out)
            count += len(statement.problems)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--resources", type=int, default=1_000_000)
    parser.add_argument(
        "--build", action="store_true", help="write the dataset first (an empty database)"
    )
    parser.add_argument("--json", help="also write {name: [{sql, problems}]} to this file")
    args = parser.parse_args()
    if args.build:
        from bench import bulk

        started = time.monotonic()
        asyncio.run(bulk.build(args.database_url, resources=args.resources, short=True))
        print(f"dataset: {args.resources} resources in {time.monotonic() - started:.1f}s")
    found = asyncio.run(portal_and_page(args.database_url))
    problems = report(found)
    if args.json:
        with open(args.json, "w") as file:
            json.dump(
                {
                    name: [{"sql": s.sql, "problems": s.problems} for s in statements]
                    for name, statements in found.items()
                },
                file,
            )
    print(f"\n{problems} problem(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
