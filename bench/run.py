"""The portal benchmark: ``make bench`` (or ``python -m bench.run``).

Each backend runs in a process of its own (``python -m bench.run --backend sqlite``, then
``--backend postgres``), so that nothing one database prepared lives on into the other.
For each:

1. Builds the deterministic dataset (10,000 resources; ``bench/dataset.py``) on SQLite in
   ``var/bench/``, and on PostgreSQL when ``TEC_BENCH_DATABASE_URL`` is set (that
   database is WIPED: give it a database of its own).
2. Starts the gateway with uvicorn, one process, and the hand-written reference endpoint
   (``bench/handwritten.py``) beside it, each in its own process; on PostgreSQL also
   PostGraphile 5 (``bench/postgraphile/``) when Node and npm are there.
3. Drives them from another process with wrk (Debian: ``apt-get install -y wrk``; the
   Makefile installs it when it can) at 16 connections, or with ``bench/load.py`` when wrk
   is missing, and prints requests/s, p50 and p99 for: the portal query (response cache on,
   then off), a resource page, a search, a mutation, the hand-written portal endpoint,
   PostGraphile's portal, and the ratios gateway / hand-written and gateway / PostGraphile.
   Each configuration runs ``--repeat`` times (2): the machine is shared, numbers are noisy.

``--tiny`` runs every step on 60 resources for a second each: a check that the benchmark
works, not a measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import postgraphile, queries
from bench.dataset import build

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
_STDIN = ("--password-stdin",)


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int = 0
    requests: int = 0
    app_cpu_ms: float | None = None
    """CPU time of the server's process per request (SQLite's work included)."""
    db_cpu_ms: float | None = None
    """CPU time of the PostgreSQL backends serving the database, per request (a local
    server only: read from /proc)."""


@dataclass
class Scenario:
    name: str
    results: list[Result] = field(default_factory=list)
    note: str = ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.2)
    raise SystemExit(f"server did not start in {timeout}s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def _server(app: str, env: dict[str, str], health: str, workdir: Path) -> Iterator[tuple[str, int]]:
    port = _free_port()
    log = workdir / f"{app.split(':')[0].replace('.', '_')}-{port}.log"
    command = [
        str(BIN / "uvicorn"),
        "--factory",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base + health, process, log)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _parse_duration(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _wrk(url: str, body: bytes | None, headers: dict[str, str], args: argparse.Namespace) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if body is not None:
            script.write('wrk.method = "POST"\n')
            script.write(f"wrk.body = [==[{body.decode()}]==]\n")
        script.write('wrk.headers["Content-Type"] = "application/json"\n')
        for name, value in headers.items():
            script.write(f'wrk.headers["{name}"] = "{value}"\n')
    try:
        output = subprocess.run(
            [
                "wrk",
                f"-t{min(2, args.connections)}",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--latency",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    if not re.search(r"^\s+99%\s+(\S+)\s*$", output, re.M):
        raise SystemExit(f"unexpected wrk output:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _parse_duration(re.search(r"^\s+50%\s+(\S+)\s*$", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _parse_duration(re.search(r"^\s+99%\s+(\S+)\s*$", output, re.M).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    done = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    return Result(rps, p50, p99, int(errors.group(1)) if errors else 0, done)


def _python_load(
    url: str, body: bytes | None, headers: dict[str, str], args: argparse.Namespace
) -> Result:
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as file:
        file.write(body or b"")
    command = [
        sys.executable,
        "-m",
        "bench.load",
        url,
        "--connections",
        str(args.connections),
        "--duration",
        str(args.duration),
        *[f"--header={k}: {v}" for k, v in headers.items()],
    ]
    if body is not None:
        command += ["--body", file.name]
    try:
        output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    finally:
        os.unlink(file.name)
    data = json.loads(output.stdout.strip().splitlines()[-1])
    return Result(data["rps"], data["p50_ms"], data["p99_ms"], data["errors"], data["requests"])


def _load(
    url: str,
    body: bytes | None,
    args: argparse.Namespace,
    headers: dict[str, str] | None = None,
    *,
    pid: int,
    database: str,
) -> Result:
    """Drive ``url``; also the CPU time the server ``pid`` and the database's backends
    spent per request, which the other processes sharing the machine do not skew as
    much as requests/s."""
    headers = headers or {}
    if args.warmup:  # JIT, plans, pools and caches of each server, before it is measured
        warm = argparse.Namespace(**{**vars(args), "duration": args.warmup})
        (_wrk if args.generator == "wrk" else _python_load)(url, body, headers, warm)
    backends = _backend_pids(database)
    app_before, db_before = _cpu_seconds([pid]), _cpu_seconds(backends)
    if args.generator == "wrk":
        result = _wrk(url, body, headers, args)
    else:
        result = _python_load(url, body, headers, args)
    app_after = _cpu_seconds([pid])
    db_after = _cpu_seconds({*backends, *_backend_pids(database)})
    if result.requests and pid in app_after and pid in app_before:
        result.app_cpu_ms = (app_after[pid] - app_before[pid]) / result.requests * 1000
    if result.requests and db_after:
        spent = sum(after - db_before.get(p, 0.0) for p, after in db_after.items())
        result.db_cpu_ms = spent / result.requests * 1000
    return result


def _cpu_seconds(pids: Iterable[int]) -> dict[int, float]:
    """User + system CPU seconds of each process still there (``/proc/<pid>/stat``)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return found


def _backend_pids(url: str) -> list[int]:
    """The PostgreSQL server processes connected to the database at ``url`` (none for
    SQLite, whose work is the server's own)."""
    if not url.startswith("postgres"):
        return []
    import asyncpg

    async def pids() -> list[int]:
        conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await conn.close()
        return [row["pid"] for row in rows]

    return asyncio.run(pids())


def _graphql_body(query: str, variables: dict) -> bytes:
    return json.dumps({"query": query, "variables": variables}).encode()


def _check(base: str, body: bytes, headers: dict[str, str] | None = None) -> dict:
    answer = httpx.post(
        base + "/graphql",
        content=body,
        headers={"content-type": "application/json", **(headers or {})},
        timeout=60,
    ).json()
    if answer.get("errors"):
        raise SystemExit(f"the benchmark's query fails: {answer['errors']}")
    refused = [
        p["errors"]
        for p in (answer.get("data") or {}).values()
        if isinstance(p, dict) and p.get("errors")
    ]
    if refused:
        raise SystemExit(f"the benchmark's mutation is refused: {refused}")
    return answer


def _has_search(base: str) -> bool:
    fields = httpx.post(
        base + "/graphql",
        json={"query": '{ __type(name: "Query") { fields { name } } }'},
        timeout=10,
    ).json()["data"]["__type"]["fields"]
    return any(f["name"] == "search" for f in fields)


def _wait_for_search_index(base: str, timeout: float = 180) -> bool:
    body = _graphql_body(queries.SEARCH, queries.SEARCH_VARIABLES)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = httpx.post(
            base + "/graphql", content=body, headers={"content-type": "application/json"}
        ).json()
        if not answer.get("errors") and answer["data"]["search"]["total"] > 0:
            return True
        time.sleep(1)
    return False


def _rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return rss / 1024, hwm / 1024


def _editor_token(env: dict[str, str]) -> str:
    full_env = {**os.environ, **env}
    email = "bench-editor@bench.test"
    subprocess.run(
        [str(BIN / "tec"), "user", "create", "--email", email, "--role", "editor", *_STDIN],
        input="mot de passe du banc d'essai\n",
        env=full_env,
        capture_output=True,
        text=True,
        check=False,  # already there on a reused dataset
    )
    return subprocess.run(
        [str(BIN / "tec"), "token", "create", "--email", email],
        env=full_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _prepare(url: str, resources: int) -> None:
    """Build the dataset unless this database already holds it."""
    stamp = None
    if url.startswith("sqlite://"):
        path = Path(url.removeprefix("sqlite://"))
        stamp = path.with_suffix(".ready")
        if stamp.exists() and stamp.read_text() == str(resources) and path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        import asyncpg

        async def wipe() -> None:
            conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
            try:
                await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
            finally:
                await conn.close()

        asyncio.run(wipe())
    from services.settings import Settings

    started = time.monotonic()
    asyncio.run(build(Settings(database_url=url), resources=resources))
    print(f"  dataset: {resources} resources written in {time.monotonic() - started:.1f}s")
    if stamp is not None:
        stamp.write_text(str(resources))


def bench_backend(label: str, url: str, args: argparse.Namespace) -> list[Scenario]:
    print(f"\n== {label}: {url}", flush=True)
    _prepare(url, args.resources)
    workdir = ROOT / "var" / "bench" / label
    shutil.rmtree(workdir / "search", ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    base_env = {
        "TEC_DATABASE_URL": url,
        "TEC_SEARCH_PATH": str(workdir / "search"),
        "TEC_LOG_LEVEL": "warning",
        "TEC_RATE_LIMIT_ANONYMOUS": "1000000000",
        "TEC_RATE_LIMIT_ACCOUNT": "1000000000",
        "TEC_RATE_LIMIT_API_KEY": "1000000000",
        "TEC_GRAPHQL_IDE": "false",
    }
    token = _editor_token(base_env)
    portal = _graphql_body(queries.PORTAL, queries.PORTAL_VARIABLES)
    page = _graphql_body(queries.RESOURCE_PAGE, queries.RESOURCE_PAGE_VARIABLES)
    search = _graphql_body(queries.SEARCH, queries.SEARCH_VARIABLES)
    scenarios = {
        name: Scenario(name)
        for name in (
            "hand-written portal",
            "PostGraphile portal",
            "portal, cache hit",
            "portal, cache off",
            "resource page, cache hit",
            "resource page, cache off",
            "search",
            "mutation",
        )
    }
    memory: list[float] = []
    with contextlib.ExitStack() as servers:
        reference, reference_pid = servers.enter_context(
            _server("bench.handwritten:create_app", {"BENCH_DATABASE_URL": url}, "/portal", workdir)
        )
        reference_answer = httpx.post(reference + "/portal").json()
        graphile, graphile_pid, graphile_body = _start_postgraphile(
            label, url, args, workdir, servers, scenarios["PostGraphile portal"]
        )
        for run in range(args.repeat):
            for cache in (True, False):
                env = {**base_env, "TEC_CACHE_ENABLED": "true" if cache else "false"}
                with _server("gateway.app:create_app", env, "/healthz", workdir) as (gateway, pid):
                    url_gql = gateway + "/graphql"
                    answer = _check(gateway, portal)
                    if answer != reference_answer:
                        print("  warning: the gateway's portal JSON differs from the reference")
                    if graphile and run == 0 and cache:
                        _compare_postgraphile(answer, graphile, graphile_body, scenarios)
                    _check(gateway, page)
                    suffix = "cache hit" if cache else "cache off"
                    if cache:
                        scenarios["hand-written portal"].results.append(
                            _load(
                                reference + "/portal",
                                b"{}",
                                args,
                                pid=reference_pid,
                                database=url,
                            )
                        )
                        if graphile and not scenarios["PostGraphile portal"].note:
                            scenarios["PostGraphile portal"].results.append(
                                _load(
                                    graphile + "/graphql",
                                    graphile_body,
                                    args,
                                    pid=graphile_pid,
                                    database=url,
                                )
                            )
                    measure = {"pid": pid, "database": url}
                    scenarios[f"portal, {suffix}"].results.append(
                        _load(url_gql, portal, args, **measure)
                    )
                    scenarios[f"resource page, {suffix}"].results.append(
                        _load(url_gql, page, args, **measure)
                    )
                    if cache:
                        if not _has_search(gateway):
                            scenarios["search"].note = "skipped: no `search` field in this schema"
                        elif not _wait_for_search_index(gateway):
                            scenarios["search"].note = "skipped: the search index stayed empty"
                        else:
                            scenarios["search"].results.append(
                                _load(url_gql, search, args, **measure)
                            )
                        mutation = _graphql_body(
                            queries.MUTATION,
                            {"id": _global_id("Organization", 1), "description": f"Banc {run}"},
                        )
                        _check(gateway, mutation, {"Authorization": f"Bearer {token}"})
                        scenarios["mutation"].results.append(
                            _load(
                                url_gql,
                                mutation,
                                args,
                                {"Authorization": f"Bearer {token}"},
                                **measure,
                            )
                        )
                    memory.append(_rss_mb(pid)[1])
    _report(label, list(scenarios.values()), memory)
    return list(scenarios.values())


def _start_postgraphile(
    label: str,
    url: str,
    args: argparse.Namespace,
    workdir: Path,
    servers: contextlib.ExitStack,
    scenario: Scenario,
) -> tuple[str | None, int, bytes]:
    """PostGraphile's base URL, pid and portal request, or None (the reason in
    ``scenario``)."""
    if label != "postgres":
        scenario.note = "PostgreSQL only"
        return None, 0, b""
    if not args.postgraphile:
        scenario.note = "skipped (--no-postgraphile)"
        return None, 0, b""
    node, message = postgraphile.install(ROOT / "var" / "bench" / "postgraphile")
    if node is None:
        scenario.note = f"skipped: {message}"
        print(f"  PostGraphile {scenario.note}", flush=True)
        return None, 0, b""
    print(f"  PostGraphile 5 on {message}", flush=True)
    base, pid = servers.enter_context(
        postgraphile.server(
            node, ROOT / "var" / "bench" / "postgraphile", url, workdir / "postgraphile.log"
        )
    )
    # One instant for the whole run: the dataset's times are fixed and all in the past.
    return base, pid, postgraphile.portal_body(dt.datetime.now(dt.UTC))


def _compare_postgraphile(
    gateway_answer: dict, base: str, body: bytes, scenarios: dict[str, Scenario]
) -> None:
    answer = httpx.post(
        base + "/graphql", content=body, headers={"content-type": "application/json"}, timeout=60
    ).json()
    if postgraphile.same_content(gateway_answer, answer):
        print("  PostGraphile answers the portal with the gateway's content", flush=True)
        return
    scenarios["PostGraphile portal"].note = "skipped: its portal content differs from the gateway's"
    print(f"  warning: PostGraphile {scenarios['PostGraphile portal'].note}: {str(answer)[:600]}")


def _global_id(type_name: str, pk: int) -> str:
    import base64

    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def _report(label: str, scenarios: list[Scenario], memory: list[float]) -> None:
    by_name = {s.name: s for s in scenarios}
    reference = by_name["hand-written portal"].results
    graphile = by_name["PostGraphile portal"].results
    print(
        f"\n{label}: requests/s, p50 / p99 in ms, CPU ms per request (server + database), "
        "per run; ratio = gateway / hand-written"
    )
    for scenario in scenarios:
        if not scenario.results:
            print(f"  {scenario.name:<26} {scenario.note or 'not run'}")
            continue
        cells = []
        for i, r in enumerate(scenario.results):
            ratio = ""
            if scenario.name.startswith("portal") and i < len(reference) and reference[i].rps:
                ratio = f" ({r.rps / reference[i].rps:.2f}x)"
            errors = f" {r.errors} errors" if r.errors else ""
            cells.append(f"{r.rps:8.0f}{ratio} {r.p50_ms:6.1f} / {r.p99_ms:6.1f}{_cpu(r)}{errors}")
        print(f"  {scenario.name:<26} " + " | ".join(cells))
    if graphile:
        for name in ("portal, cache off", "portal, cache hit"):
            runs = by_name[name].results
            ratios = [
                f"{g.rps / p.rps:.2f}x{_cpu_ratio(g, p)}" if p.rps else "n/a (no request done)"
                for g, p in zip(runs, graphile, strict=False)
            ]
            print(f"  gateway / PostGraphile, {name[8:]:<10} " + " | ".join(ratios))
    if memory:
        print(f"  peak RSS of the gateway process: {max(memory):.0f} MB")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="The portal benchmark (see bench/run.py).")
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of load before each measurement"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--sqlite-path", default=str(ROOT / "var" / "bench" / "bench.sqlite3"))
    parser.add_argument(
        "--postgraphile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="PostGraphile 5 beside the gateway on PostgreSQL (needs Node and npm)",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="60 resources, 1 s per step, 1 run: a smoke test"
    )
    parser.add_argument(
        "--backend", choices=["sqlite", "postgres"], help="run this backend in this process"
    )
    return parser


def _backend_command(args: argparse.Namespace, backend: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bench.run",
        f"--resources={args.resources}",
        f"--duration={args.duration}",
        f"--warmup={args.warmup}",
        f"--connections={args.connections}",
        f"--repeat={args.repeat}",
        f"--generator={args.generator}",
        f"--sqlite-path={args.sqlite_path}",
        "--postgraphile" if args.postgraphile else "--no-postgraphile",
        f"--backend={backend}",
    ]


def _cpu(result: Result) -> str:
    if result.app_cpu_ms is None:
        return ""
    database = "" if result.db_cpu_ms is None else f" + {result.db_cpu_ms:.1f}"
    return f" · {result.app_cpu_ms:.1f}{database} CPU"


def _cpu_ratio(gateway: Result, other: Result) -> str:
    """« (CPU 1.9x) »: the gateway's CPU per request (server + database) over the other's."""
    costs = [
        None if r.app_cpu_ms is None else r.app_cpu_ms + (r.db_cpu_ms or 0.0)
        for r in (gateway, other)
    ]
    if None in costs or not costs[1]:
        return ""
    return f" (CPU per request {costs[0] / costs[1]:.2f}x)"


def main() -> None:
    args = _parser().parse_args()
    if args.tiny:
        args.resources, args.repeat, args.warmup = 60, 1, 0.0
        args.duration = min(args.duration, 1.0)
        args.connections = min(args.connections, 4)
    if args.generator == "auto":
        args.generator = "wrk" if shutil.which("wrk") else "python"
        if args.generator == "python":
            print(
                "wrk not found (Debian: apt-get install -y wrk): falling back to bench/load.py, "
                "a slower Python load generator; its numbers are lower than wrk's."
            )
    if args.generator == "wrk":
        args.duration = max(1, int(args.duration))
        args.warmup = max(1, round(args.warmup)) if args.warmup else 0
    postgres = os.environ.get("TEC_BENCH_DATABASE_URL", "")
    if args.backend is not None:
        if args.backend == "sqlite":
            bench_backend("sqlite", f"sqlite://{args.sqlite_path}", args)
        else:
            bench_backend("postgres", postgres, args)
        return
    print(
        f"portal benchmark: {args.resources} resources, {args.connections} connections, "
        f"{args.duration}s per measurement after {args.warmup}s of warm-up, {args.repeat} runs, "
        f"load by {args.generator}",
        flush=True,
    )
    backends = [] if args.skip_sqlite else ["sqlite"]
    if postgres:
        backends.append("postgres")
    failed = []
    for backend in backends:
        # A process per backend: Tortoise and the gateway's caches of SQL belong to the
        # database they were made for.
        if subprocess.run(_backend_command(args, backend), cwd=ROOT, check=False).returncode:
            failed.append(backend)
    if not postgres:
        print("\nPostgreSQL: skipped (set TEC_BENCH_DATABASE_URL to a database of its own).")
    if failed:
        raise SystemExit(f"\nthe benchmark failed on: {', '.join(failed)}")


if __name__ == "__main__":
    main()
