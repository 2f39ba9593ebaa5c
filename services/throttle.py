"""Throttles of domain operations (sign-in attempts), counted by whoever runs the service.

The domain decides what is counted and how much is allowed; the counting itself — shared
by every process through Redis, or in one process — belongs to the gateway, which hands an
implementation of :class:`Throttle` to the operations that need one.
"""

from __future__ import annotations

from typing import Protocol


class Throttle(Protocol):
    async def exhausted(self, key: str, *, limit: int) -> bool:
        """Whether ``key`` has used its ``limit`` attempts in the current window."""

    async def spend(self, key: str) -> None:
        """Count one attempt against ``key``."""


class Unthrottled:
    """No throttle: command-line tools and tests of the rules themselves."""

    async def exhausted(self, key: str, *, limit: int) -> bool:
        return False

    async def spend(self, key: str) -> None:
        return None
