"""CPU per uncached portal request, read compiler on and off, on a benchmark database.

    python scripts/read_compiler_cpu.py sqlite://var/bench/bench.sqlite3
    python scripts/read_compiler_cpu.py postgres://…/bench

The database must hold the benchmark's dataset (``python -m bench.run`` builds it). The
app runs in this process with the response cache off; requests go through its ASGI
interface one after the other (no network, no load generator), so the figures are the
app's own CPU per request (``resource.getrusage``) plus, on PostgreSQL, the CPU its
backends connected to that database used meanwhile (``/proc/<pid>/stat``, when the
server runs on this machine). Each configuration is measured ``--rounds`` times,
alternating, and the best round is kept: the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.queries import PORTAL, PORTAL_VARIABLES, RESOURCE_PAGE


async def _server_ticks() -> int:
    """CPU ticks of the PostgreSQL backends connected to this database (0 on SQLite)."""
    from services.compat_tortoise import model_db
    from services.resources.models import Resource

    db = model_db(Resource)
    if db.capabilities.dialect != "postgres":
        return 0
    _, rows = await db.execute_query(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    )
    total = 0
    for row in rows:
        try:
            stat = Path(f"/proc/{row['pid']}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


async def _measure(
    app: object, query: str, variables: dict, requests: int
) -> tuple[float, float, float]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        body = {"query": query, "variables": variables}
        for _ in range(20):  # warm: plans, kept statements, connections
            response = await client.post("/graphql", json=body)
            assert response.status_code == 200 and "errors" not in response.json(), response.text
        ticks = await _server_ticks()
        usage, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for _ in range(requests):
            await client.post("/graphql", json=body)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        server = (await _server_ticks() - ticks) / os.sysconf("SC_CLK_TCK")
    app_cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return app_cpu / requests * 1000, server / requests * 1000, requests / wall


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from tortoise import Tortoise

    from gateway.app import create_app
    from services import db
    from services.settings import Settings

    settings = Settings(
        database_url=args.url,
        cache_enabled=False,
        rate_limit_anonymous=10**9,
        log_level="warning",
    )
    await Tortoise.init(config=db.tortoise_config(settings.database))
    apps = {
        "ordinary": create_app(settings.replace(read_compiler=False)),
        "compiled": create_app(settings.replace(read_compiler=True)),
    }
    queries = {
        # What every request costs here whatever it asks (HTTP in process, the client
        # included, guards, parsing): subtract it to see the execution's own cost.
        "floor: { __typename }": ("{ __typename }", {}),
        "portal": (PORTAL, PORTAL_VARIABLES),
        "resource page without related": (
            RESOURCE_PAGE.replace("    related(first: 5) { id slug title }\n", ""),
            {"slug": "ressource-1234"},
        ),
    }
    for name, (query, variables) in queries.items():
        best: dict[str, tuple[float, float, float]] = {}
        for _ in range(args.rounds):
            for label, app in apps.items():
                found = await _measure(app, query, variables, args.requests)
                if label not in best or sum(found[:2]) < sum(best[label][:2]):
                    best[label] = found
        for label, (app_ms, server_ms, rps) in best.items():
            print(
                f"{name:32} {label:9} app {app_ms:5.2f} ms + database {server_ms:5.2f} ms "
                f"CPU per request; {rps:6.0f} req/s (one client, in process)"
            )
    await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main())
