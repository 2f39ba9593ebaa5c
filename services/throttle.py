"""Throttles of domain operations (sign-in attempts), counted by whoever runs the service.

The domain decides what is counted and how much is allowed; the counting itself — shared
by every process through Redis, or in one process — belongs to the gateway, which hands an
implementation of :class:`Throttle` to the operations that need one.
"""

from __future__ import annotations

from typing import Protocol


class Throttle(Protocol):
    async def attempt(self, key: str, *, limit: int) -> bool:
        """Count one attempt against ``key``; False once more than ``limit`` were made in
        the current window. Counting and deciding are one step, so attempts made at the
        same moment cannot all pass."""


class Unthrottled:
    """No throttle: command-line tools and tests of the rules themselves."""

    async def attempt(self, key: str, *, limit: int) -> bool:
        return True
