"""The search engine's life in the app: opened in the lifespan, handed to resolvers on
the context, and — for the embedded engine — drained by an in-process outbox consumer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from search.consumer import OutboxConsumer
from search.engines import build_engine
from search.port import SearchUnavailable
from services.settings import Settings

logger = logging.getLogger("tec.search")


@contextlib.asynccontextmanager
async def search_runtime(settings: Settings, holder: Any) -> AsyncIterator[None]:
    """Open the configured engine on ``holder.search`` (unless one was injected) and,
    with the embedded engine and ``TEC_SEARCH_WORKER``, run the consumer beside the app."""
    if holder.search is not None:
        yield
        return
    engine = build_engine(settings.search)
    try:
        await engine.open()
    except SearchUnavailable as error:
        # The gateway still serves everything else; search answers SEARCH_UNAVAILABLE.
        logger.warning("search engine unavailable at start-up: %s", error.message)
    holder.search = engine
    stop = asyncio.Event()
    task = None
    if settings.search.search_engine == "embedded" and settings.search.search_worker:
        consumer = OutboxConsumer(
            engine,
            batch_size=settings.search.search_batch_size,
            poll_interval=settings.search.search_poll_interval,
            max_backoff=settings.search.search_max_backoff,
        )
        task = asyncio.create_task(consumer.run(stop), name="search-outbox-consumer")
    try:
        yield
    finally:
        stop.set()
        if task is not None:
            await task
        holder.search = None
        await engine.close()
