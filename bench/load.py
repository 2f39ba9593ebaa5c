"""A small HTTP load generator, for machines without wrk (and for the bench's smoke test).

Runs in its own process, like wrk: ``connections`` concurrent keep-alive clients send the
same request for ``duration`` seconds; prints one JSON line with requests/s, p50 and p99.

    python -m bench.load http://127.0.0.1:8000/graphql --body body.json --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx


async def drive(
    url: str,
    *,
    body: bytes | None,
    headers: dict[str, str],
    connections: int,
    duration: float,
) -> dict[str, float]:
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal failures
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                if body is None:
                    response = await client.get(url, headers=headers)
                else:
                    response = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - start)
                if response.status_code >= 400:
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "errors": failures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="HTTP load generator (wrk stand-in)")
    parser.add_argument("url")
    parser.add_argument("--body", help="file holding the POST body (JSON); GET without it")
    parser.add_argument("--header", action="append", default=[], help="Name: value")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    headers = {"content-type": "application/json"}
    for header in args.header:
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()
    body = open(args.body, "rb").read() if args.body else None  # noqa: SIM115
    result = asyncio.run(
        drive(
            args.url,
            body=body,
            headers=headers,
            connections=args.connections,
            duration=args.duration,
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
