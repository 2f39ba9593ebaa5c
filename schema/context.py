"""The typed per-request context: settings, the viewer, and this request's DataLoaders."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from mailer.transport import MailTransport
from search.port import SearchEngine
from services.pagination import PageRequest
from services.settings import Settings
from services.throttle import Throttle
from services.viewer import Viewer

K = TypeVar("K")
V = TypeVar("V")


class SharedLoader(DataLoader[K, V]):
    """A DataLoader whose loads many fields may await at once.

    graphql-core cancels the fields still pending beside one that fails (non-null
    bubbling), and cancelling a task cancels the future it awaits. A load's future is
    shared by every field asking for the same key, so each caller awaits it through
    :func:`asyncio.shield`: a cancelled field stops waiting, the load goes on for the
    others."""

    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))


@dataclass
class Context:
    """Built for each request by the app; loaders die with it, so no cache outlives it."""

    settings: Settings
    viewer: Viewer
    credentials: str | None = None
    """The bearer secret the request was authenticated with (None when anonymous)."""
    client_ip: str = ""
    """The caller's address as the gateway resolved it (trusted proxies applied)."""
    mail_transport: Callable[[Settings], MailTransport] | None = None
    """Builds the mail transport of one operation; None: the one the settings name."""
    throttle: Throttle | None = None
    """Counts attempts of throttled operations (sign-in) across processes."""
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    search: SearchEngine | None = None
    """The search engine opened by the app's lifespan (None when search is not set up)."""
    _loaders: dict[Hashable, SharedLoader[Any, Any]] = field(default_factory=dict)

    def loader(
        self,
        key: Hashable,
        fetch: Callable[[Sequence[Any]], Awaitable[dict[Any, Any]]],
        *,
        default: Any = None,
    ) -> SharedLoader[Any, Any]:
        """The DataLoader registered under ``key`` for this request, created on first use.

        ``fetch`` answers a batch of keys with a dict; missing keys get ``default``
        (a fresh empty list when ``default`` is ``list``)."""
        found = self._loaders.get(key)
        if found is None:

            async def batch(keys: list[Any]) -> list[Any]:
                answered = await fetch(keys)
                if default is list:
                    return [answered.get(k) or [] for k in keys]
                return [answered.get(k, default) for k in keys]

            found = self._loaders[key] = SharedLoader(load_fn=batch)
        return found

    def fresh(self) -> Context:
        """A copy for another operation of the same connection: same caller, new clock
        and no loaded data."""
        return dataclasses.replace(self, now=dt.datetime.now(dt.UTC), _loaders={})

    def clear_loaders(self) -> None:
        """Forget cached loads (subscriptions: one context serves many results)."""
        self._loaders.clear()

    def page_loader(
        self,
        name: str,
        fetch: Callable[..., Awaitable[dict[Any, Any]]],
        order: enum.Enum | None,
        request: PageRequest,
    ) -> SharedLoader[Any, Any]:
        """Loader of one page of children per parent (reverse relations).

        One loader per distinct (order, page), so all parents asking for the same page
        are answered by one batched call: ``fetch(viewer, ids, order=…, page=…)``."""
        value = order.value if order is not None else None
        bound = partial(fetch, self.viewer, order=value, page=request)
        return self.loader((name, value, request), bound)
