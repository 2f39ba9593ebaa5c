"""Fixtures of the gateway's tests."""

from __future__ import annotations

import httpx
import pytest

from gateway.app import create_app


@pytest.fixture(scope="module")
def cached_app(database):
    """An app with its response cache on, one per test module: other modules' traffic
    cannot warm its cache."""
    return create_app(
        database.replace(**{"rate_limit_anonymous": 1_000_000, "cache_enabled": True})
    )


@pytest.fixture
async def cc(cached_app):
    """A client of :func:`cached_app`."""
    transport = httpx.ASGITransport(app=cached_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
