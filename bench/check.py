"""Check that the gateway and the hand-written endpoint answer the portal with the same
JSON, in-process (no server, no load): ``python -m bench.check sqlite://PATH``."""

from __future__ import annotations

import asyncio
import sys

import httpx
from tortoise import connections

from bench import queries
from bench.handwritten import create_app as handwritten_app
from gateway.app import create_app
from services import db
from services.settings import Settings


async def gateway_portal(url: str) -> dict:
    """The gateway's answer to the portal query on the database at ``url``."""
    settings = Settings(database_url=url, cache_enabled=False, search_worker=False)
    async with db.database(settings.database):
        gateway = create_app(settings)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gateway), base_url="http://t"
        ) as c:
            body = {"query": queries.PORTAL, "variables": queries.PORTAL_VARIABLES}
            answer = (await c.post("/graphql", json=body)).json()
    await connections.close_all()
    return answer


async def compare(url: str) -> bool:
    """True when both answer the same portal data (and it is not empty)."""
    reference = handwritten_app(url)
    async with (
        reference.router.lifespan_context(reference),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=reference), base_url="http://t") as c,
    ):
        expected = (await c.post("/portal")).json()
    answer = await gateway_portal(url)
    return answer == expected and bool(answer["data"]["resources"]["edges"])


def main() -> None:
    same = asyncio.run(compare(sys.argv[1]))
    print("same JSON" if same else "DIFFERENT JSON")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
