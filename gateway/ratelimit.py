"""Rate limiting per API key, per signed-in account and per IP address for anonymous
callers, with ``RateLimit``/``RateLimit-Policy``/``Retry-After`` headers.

Counters live in Redis (``TEC_REDIS_URL``), shared by every app process; without Redis
an in-process counter is used, which is only correct for a single process (the embedded
default). Fixed windows: ``INCR`` then ``EXPIRE`` on the first hit, one round trip.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Protocol

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http import error_response

logger = logging.getLogger("tec.ratelimit")

EXEMPT_PREFIXES = ("/healthz", "/readyz", "/metrics", "/static/")


class Counter(Protocol):
    async def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count a hit; (hits in the current window, seconds until it resets)."""

    async def close(self) -> None: ...


class MemoryCounter:
    """One process only: for the embedded default and tests."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        now = int(time.time())
        start = now - now % window
        current_start, count = self._windows.get(key, (start, 0))
        if current_start != start:
            count = 0
        self._windows[key] = (start, count + 1)
        if len(self._windows) > 100_000:  # forget old windows
            self._windows = {k: v for k, v in self._windows.items() if v[0] == start}
        return count + 1, start + window - now

    async def close(self) -> None:
        return None


class RedisCounter:
    """Shared by every process through Redis."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        now = int(time.time())
        start = now - now % window
        name = f"tec:rl:{key}:{start}"
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(name)
            pipe.expire(name, window + 1, nx=True)
            count, _ = await pipe.execute()
        return int(count), start + window - now

    async def close(self) -> None:
        await self._redis.aclose()


@dataclass(frozen=True)
class Limits:
    anonymous: int
    account: int
    api_key: int
    window: int


def _client_key(scope: Scope, limits: Limits, trust_forwarded: bool) -> tuple[str, int]:
    headers = Headers(scope=scope)
    authorization = headers.get("authorization", "")
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        secret = secret.strip()
        digest = hashlib.sha256(secret.encode()).hexdigest()[:24]
        if secret.startswith("tec_k_"):
            return f"key:{digest}", limits.api_key
        return f"account:{digest}", limits.account
    address = scope.get("client", ("unknown", 0))[0]
    if trust_forwarded and headers.get("x-forwarded-for"):
        address = headers["x-forwarded-for"].split(",")[0].strip()
    return f"ip:{address}", limits.anonymous


class RateLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, counter: Counter, limits: Limits, trust_forwarded: bool = False
    ) -> None:
        self.app = app
        self.counter = counter
        self.limits = limits
        self.trust_forwarded = trust_forwarded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        key, limit = _client_key(scope, self.limits, self.trust_forwarded)
        try:
            hits, reset = await self.counter.hit(key, self.limits.window)
        except Exception:  # the limiter must not take the API down with it
            logger.warning("rate limiter unavailable; request let through", exc_info=True)
            await self.app(scope, receive, send)
            return
        remaining = max(limit - hits, 0)
        policy = f"{limit};w={self.limits.window}"
        state = f"limit={limit}, remaining={remaining}, reset={reset}"
        if hits > limit:
            response = error_response(
                429,
                "RATE_LIMITED",
                f"Trop de requêtes : {limit} par {self.limits.window} s. Réessayez dans {reset} s.",
                headers={"Retry-After": str(reset), "RateLimit-Policy": policy, "RateLimit": state},
            )
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers.append((b"ratelimit-policy", policy.encode()))
                headers.append((b"ratelimit", state.encode()))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def build_counter(redis_url: str) -> Counter:
    return RedisCounter(redis_url) if redis_url else MemoryCounter()
