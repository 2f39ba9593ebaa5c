"""What compiled execution assumes of asyncio's protocol between a coroutine and the Task
driving it (``schema/compat_asyncio.py``): a change of it fails here, by name."""

from __future__ import annotations

import asyncio

import pytest

from schema.compat_asyncio import claims_future


async def test_a_coroutine_awaiting_a_future_yields_it_flagged_as_blocking():
    future = asyncio.get_running_loop().create_future()

    async def resolver() -> str:
        return await future

    coroutine = resolver()
    yielded = coroutine.send(None)
    assert yielded is future and future._asyncio_future_blocking is True
    assert claims_future(yielded)
    assert future._asyncio_future_blocking is False  # claimed, as Task claims it
    future.set_result("done")
    with pytest.raises(StopIteration) as finished:
        coroutine.send(None)
    assert finished.value.value == "done"


async def test_a_task_awaited_by_a_coroutine_is_claimed_too():
    task = asyncio.ensure_future(asyncio.sleep(0, "slept"))

    async def resolver() -> str:
        return await task

    coroutine = resolver()
    yielded = coroutine.send(None)
    assert yielded is task and claims_future(yielded)
    await task
    with pytest.raises(StopIteration) as finished:
        coroutine.send(None)
    assert finished.value.value == "slept"


async def test_a_bare_yield_is_none_and_claims_nothing():
    async def resolver() -> str:
        await asyncio.sleep(0)
        return "next turn"

    coroutine = resolver()
    yielded = coroutine.send(None)
    assert yielded is None and not claims_future(yielded)
    with pytest.raises(StopIteration):
        coroutine.send(None)


def test_other_objects_are_not_futures():
    assert not claims_future(object())
    assert not claims_future("future")
