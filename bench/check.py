"""Check that the gateway and the hand-written endpoints answer the portal (pages of 20 and
100) and the resource page with the same JSON, in-process (no server, no load):
``python -m bench.check sqlite://PATH``."""

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

PAGES = {
    "/portal": (queries.PORTAL, queries.PORTAL_VARIABLES),
    "/portal?first=100": (queries.PORTAL_100, queries.PORTAL_VARIABLES),
    f"/resource/{queries.RESOURCE_PAGE_VARIABLES['slug']}": (
        queries.RESOURCE_PAGE,
        queries.RESOURCE_PAGE_VARIABLES,
    ),
}
"""The hand-written endpoint of each gateway document."""


async def gateway_answers(url: str) -> dict[str, dict]:
    """The gateway's answer to each document of :data:`PAGES` on the database at ``url``."""
    settings = Settings(database_url=url, cache_enabled=False, search_worker=False)
    answers = {}
    async with db.database(settings.database):
        gateway = create_app(settings)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gateway), base_url="http://t"
        ) as c:
            for path, (query, variables) in PAGES.items():
                body = {"query": query, "variables": variables}
                answers[path] = (await c.post("/graphql", json=body)).json()
    await connections.close_all()
    return answers


async def gateway_portal(url: str) -> dict:
    """The gateway's answer to the portal query on the database at ``url``."""
    return (await gateway_answers(url))["/portal"]


async def differences(url: str) -> list[str]:
    """The hand-written endpoints whose answer is not the gateway's (or, for the portal,
    is empty: the resource page's slug may be missing from a small dataset)."""
    reference = handwritten_app(url)
    expected = {}
    async with (
        reference.router.lifespan_context(reference),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=reference), base_url="http://t") as c,
    ):
        for path in PAGES:
            expected[path] = (await c.post(path)).json()
    answers = await gateway_answers(url)
    return [
        path
        for path in PAGES
        if answers[path] != expected[path]
        or (path.startswith("/portal") and not answers[path]["data"]["resources"]["edges"])
    ]


async def compare(url: str) -> bool:
    """True when both answer the same data to every page (and none is empty)."""
    return not await differences(url)


def main() -> None:
    different = asyncio.run(differences(sys.argv[1]))
    print(f"DIFFERENT JSON: {', '.join(different)}" if different else "same JSON")
    sys.exit(1 if different else 0)


if __name__ == "__main__":
    main()
