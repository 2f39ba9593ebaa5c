"""Instructions the app executes per uncached portal request, counted by callgrind.

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=var/portal.cg \\
        .venv/bin/python scripts/request_instructions.py postgres://…/bench --out var/portal.cg

CPU time per request moves with whatever else runs on the machine; the number of
instructions does not (within a fraction of a percent from one run to the next), so it
compares two versions of the code on a shared machine. The app runs in this process with
the response cache off and receives the benchmark's portal request (``bench/queries.py``)
through its ASGI interface, without an HTTP client or server: uvicorn's parsing is left
out, everything from the middleware on is in. After ``--warmup`` requests (plans, kept
statements, connections), the script turns callgrind's instrumentation on for
``--requests`` requests only (``callgrind_control``), dumps the counts (``--out`` and
``.1``, valgrind's ``--callgrind-out-file``) and prints instructions per request. Without
valgrind it prints the CPU time per request instead.
The database must hold the benchmark's dataset (``python -m bench.run`` builds it).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.asgi import post_graphql
from bench.queries import PORTAL, PORTAL_VARIABLES


async def _request(app: object, body: bytes) -> bytes:
    status, answer = await post_graphql(app, body)
    assert status == 200, answer[:500]
    return answer


def _callgrind(command: str) -> bool:
    """Tell the callgrind running this process ``command``; False outside callgrind."""
    try:
        done = subprocess.run(
            ["callgrind_control", command, str(os.getpid())], capture_output=True, check=False
        )
    except FileNotFoundError:
        return False
    return done.returncode == 0 and b"Error" not in done.stdout + done.stderr


def _instructions(out: Path) -> int:
    """The instructions counted in callgrind's first dump (``<out>.1``)."""
    for line in Path(f"{out}.1").read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise SystemExit(f"no summary in {out}.1")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--out", type=Path, help="valgrind's --callgrind-out-file")
    args = parser.parse_args()
    from tortoise import Tortoise

    from gateway.app import create_app
    from services import db
    from services.settings import Settings

    settings = Settings(
        database_url=args.url,
        cache_enabled=False,
        rate_limit_anonymous=10**9,
        graphql_ide=False,
        log_level="warning",
    )
    await Tortoise.init(config=db.tortoise_config(settings.database))
    app = create_app(settings)
    body = orjson.dumps({"query": PORTAL, "variables": PORTAL_VARIABLES})
    for _ in range(args.warmup):
        answer = await _request(app, body)
    assert b'"errors"' not in answer, answer[:500]
    counting = _callgrind("--instr=on")
    before = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(args.requests):
        await _request(app, body)
    after = resource.getrusage(resource.RUSAGE_SELF)
    if counting:
        _callgrind("--dump")
        _callgrind("--instr=off")
        if args.out is not None:
            per_request = _instructions(args.out) // args.requests
            print(f"{per_request:,} instructions per request (callgrind)")
    else:
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"{cpu / args.requests * 1000:.3f} ms of app CPU per request (no callgrind)")
    await Tortoise.close_connections()


if __name__ == "__main__":
    import uvloop  # the loop uvicorn runs the gateway on

    uvloop.run(main())
