"""A field that fails does not take down the fields sharing its loads.

When a non-null field fails, graphql-core cancels the fields still pending beside it; one
of them may be waiting on a DataLoader key that another part of the document waits on
too. That other part must still get its value, and the request answers with the failure
as an error instead of crashing on a ``CancelledError``."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from schema.context import Context
from schema.resources import loaders as resource_loaders
from services.viewer import Viewer

# ``related(first: 1000)`` is refused; ``related``, the list and ``resources`` are all
# non-null, so the failure reaches the root while the rows' themes are loading, and
# ``b`` waits on the same themes.
SHARED = """{
  a: resources(first: 5) { nodes { slug themes { slug } related(first: 1000) { slug } } }
  b: resources(first: 5) { nodes { slug themes { slug } } }
}"""


async def test_a_cancelled_caller_leaves_the_load_to_the_others(database):
    batches: list[list[int]] = []

    async def fetch(keys: list[int]) -> dict[int, str]:
        batches.append(list(keys))
        await asyncio.sleep(0)
        return {key: f"value {key}" for key in keys}

    loader = Context(settings=database, viewer=Viewer()).loader("shared", fetch)
    cancelled = asyncio.ensure_future(loader.load(1))
    waiting = asyncio.ensure_future(loader.load(1))
    await asyncio.sleep(0)
    cancelled.cancel()

    assert await waiting == "value 1"
    assert cancelled.cancelled()
    assert batches == [[1]]
    assert await loader.load(1) == "value 1"  # kept for later callers too


@pytest.mark.parametrize("compiled_execution", [True, False], ids=["compiled", "graphql-core"])
async def test_a_failing_field_is_an_error_even_when_its_loads_are_shared(
    database, compiled_execution: bool, monkeypatch: pytest.MonkeyPatch
):
    # The themes take a few turns of the loop to load, so that ``b`` is waiting on them
    # when the failure cancels ``a``'s fields (without the shield, nearly every run).
    real = resource_loaders.service.get_themes_by_resource_ids

    async def slow_themes(*args: Any, **kwargs: Any) -> Any:
        for _ in range(5):
            await asyncio.sleep(0)
        return await real(*args, **kwargs)

    monkeypatch.setattr(resource_loaders.service, "get_themes_by_resource_ids", slow_themes)
    settings = database.replace(
        compiled_execution=compiled_execution, read_compiler=False, cache_enabled=False
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.post("/graphql", json={"query": SHARED})

    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["path"] == ["a", "nodes", 0, "related"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
