"""Check that PostGraphile answers the portal with the gateway's content, on the dataset
already written at a PostgreSQL URL: ``python -m bench.postgraphile postgres://…``.
Prints ``same content``, or why not (exit 1), or why it cannot run here (exit 2)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path

import httpx

from bench import postgraphile
from bench.check import gateway_portal

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    url = sys.argv[1]
    cache = ROOT / "var" / "bench" / "postgraphile"
    node, message = postgraphile.install(cache)
    if node is None:
        print(f"cannot run PostGraphile: {message}")
        sys.exit(2)
    expected = asyncio.run(gateway_portal(url))
    with postgraphile.server(node, cache, url, cache / "check.log") as (base, _):
        body = postgraphile.portal_body(dt.datetime.now(dt.UTC))
        answer = httpx.post(
            base + "/graphql", content=body, headers={"content-type": "application/json"}
        ).json()
    if expected["data"]["resources"]["edges"] and postgraphile.same_content(expected, answer):
        print("same content")
        return
    print(f"DIFFERENT CONTENT\ngateway: {expected}\nPostGraphile: {answer}")
    sys.exit(1)


if __name__ == "__main__":
    main()
