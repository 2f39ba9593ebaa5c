"""Rate limits: budgets per client address, per signed-in account and per API key, shared
by every process through Redis, with ``RateLimit``/``RateLimit-Policy``/``Retry-After``.

Who pays:

- anonymous requests, and requests whose credentials fail to authenticate, pay from the
  budget of the client's address (:mod:`gateway.client_address`);
- credentials that fail also spend from a second budget of the address, kept for failed
  authentications: a request with credentials is checked against it *without* spending
  it, and refused before its token is looked up once the address has used it up. Random
  tokens therefore cost neither a database lookup nor an escape from the limit, while
  signed-in people behind an address busy with anonymous traffic keep their own budget;
- authenticated requests pay from their account's or API key's budget, keyed by its id.

GraphQL pays one unit per operation (a batch of ten pays ten, each WebSocket ``subscribe``
pays one); every other route pays one unit per request.

Counters live in Redis (``TEC_REDIS_URL``); without Redis an in-process counter is used,
which is only correct for a single process (the embedded default). Fixed windows:
``INCRBY`` then ``EXPIRE`` on the first hit, one round trip.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from services.clock import Clock, system_clock

logger = logging.getLogger("tec.ratelimit")


class Counter(Protocol):
    async def hit(self, key: str, window: int, *, units: int = 1) -> tuple[int, int]:
        """Count ``units``; (hits in the current window, seconds until it resets)."""

    async def peek(self, key: str, window: int) -> tuple[int, int]:
        """(hits in the current window, seconds until it resets), counting nothing."""

    async def close(self) -> None: ...


def _window_start(now: float, window: int) -> int:
    """Epoch second at which the fixed window holding ``now`` began."""
    second = int(now)
    return second - second % window


class MemoryCounter:
    """One process only: for the embedded default and tests."""

    def __init__(self, clock: Clock = system_clock) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str, window: int, *, units: int = 1) -> tuple[int, int]:
        now = self._clock().timestamp()
        start = _window_start(now, window)
        current_start, count = self._windows.get(key, (start, 0))
        if current_start != start:
            count = 0
        self._windows[key] = (start, count + units)
        if len(self._windows) > 100_000:  # forget old windows
            self._windows = {k: v for k, v in self._windows.items() if v[0] == start}
        return count + units, start + window - int(now)

    async def peek(self, key: str, window: int) -> tuple[int, int]:
        now = self._clock().timestamp()
        start = _window_start(now, window)
        current_start, count = self._windows.get(key, (start, 0))
        return (count if current_start == start else 0), start + window - int(now)

    async def close(self) -> None:
        return None


class RedisCounter:
    """Shared by every process through Redis."""

    def __init__(self, url: str, clock: Clock = system_clock) -> None:
        import redis.asyncio as redis

        self._clock = clock
        self._redis = redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def _name(self, key: str, window: int) -> tuple[str, int]:
        now = self._clock().timestamp()
        start = _window_start(now, window)
        return f"tec:rl:{key}:{start}", start + window - int(now)

    async def hit(self, key: str, window: int, *, units: int = 1) -> tuple[int, int]:
        name, reset = self._name(key, window)

        async def count() -> int:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.incrby(name, units)
                pipe.expire(name, window + 1, nx=True)
                counted, _ = await pipe.execute()
            return int(counted)

        return await self._once_more(count), reset

    async def peek(self, key: str, window: int) -> tuple[int, int]:
        name, reset = self._name(key, window)

        async def read() -> int:
            return int(await self._redis.get(name) or 0)

        return await self._once_more(read), reset

    async def _once_more(self, call: Callable[[], Awaitable[int]]) -> int:
        """Retry once on a connection Redis closed: after Redis restarts, every pooled
        connection fails once before a fresh one is made, and letting those requests
        through would break the limit. A retried INCRBY may count twice, never too little."""
        from redis.exceptions import ConnectionError as Closed

        try:
            return await call()
        except Closed:
            return await call()

    async def close(self) -> None:
        await self._redis.aclose()


def build_counter(redis_url: str, clock: Clock = system_clock) -> Counter:
    return RedisCounter(redis_url, clock) if redis_url else MemoryCounter(clock)


@dataclass(frozen=True)
class Limits:
    anonymous: int
    account: int
    api_key: int
    window: int


@dataclass(frozen=True)
class Budget:
    """The bucket a caller pays from."""

    key: str
    limit: int


@dataclass(frozen=True)
class Spent:
    """The state of a budget after a charge: allowed or not, and the headers to send."""

    allowed: bool
    limit: int
    window: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Policy": f"{self.limit};w={self.window}",
            "RateLimit": f"limit={self.limit}, remaining={self.remaining}, reset={self.reset}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(self.reset, 1))
        return headers

    @property
    def message(self) -> str:
        return (
            f"Trop de requêtes : {self.limit} par {self.window} s. "
            f"Réessayez dans {max(self.reset, 1)} s."
        )


class RateLimiter:
    """Budgets of addresses, accounts and API keys over one counter."""

    def __init__(self, counter: Counter, limits: Limits) -> None:
        self.counter = counter
        self.limits = limits

    def address_budget(self, address: str) -> Budget:
        return Budget(f"ip:{address}", self.limits.anonymous)

    def failed_authentication_budget(self, address: str) -> Budget:
        """Credentials that failed to authenticate from ``address``: checked before any
        lookup, so guessing tokens costs the database nothing once it is spent."""
        return Budget(f"ip-auth:{address}", self.limits.anonymous)

    def account_budget(self, account_id: int) -> Budget:
        return Budget(f"account:{account_id}", self.limits.account)

    def api_key_budget(self, api_key_id: int) -> Budget:
        return Budget(f"key:{api_key_id}", self.limits.api_key)

    async def charge(self, budget: Budget, units: int = 1) -> Spent:
        """Spend ``units`` from ``budget``; allowed while the window's total stays within."""
        try:
            hits, reset = await self.counter.hit(budget.key, self.limits.window, units=units)
        except Exception:  # the limiter must not take the API down with it
            logger.warning("rate limiter unavailable; request let through", exc_info=True)
            return Spent(True, budget.limit, self.limits.window, budget.limit, self.limits.window)
        return Spent(
            hits <= budget.limit,
            budget.limit,
            self.limits.window,
            max(budget.limit - hits, 0),
            reset,
        )

    async def check(self, budget: Budget) -> Spent:
        """Whether ``budget`` still has room, spending nothing."""
        try:
            hits, reset = await self.counter.peek(budget.key, self.limits.window)
        except Exception:
            logger.warning("rate limiter unavailable; request let through", exc_info=True)
            return Spent(True, budget.limit, self.limits.window, budget.limit, self.limits.window)
        return Spent(
            hits < budget.limit,
            budget.limit,
            self.limits.window,
            max(budget.limit - hits, 0),
            reset,
        )

    async def close(self) -> None:
        await self.counter.close()


class CounterThrottle:
    """:class:`services.throttle.Throttle` over the rate limiter's counter: attempts of
    throttled operations are shared by every process like request budgets."""

    def __init__(self, counter: Counter, *, window: int) -> None:
        self.counter = counter
        self.window = window

    async def attempt(self, key: str, *, limit: int) -> bool:
        try:
            hits, _ = await self.counter.hit(f"throttle:{key}", self.window)
        except Exception:
            logger.warning("throttle unavailable; attempt let through", exc_info=True)
            return True
        return hits <= limit
