"""The webhook sender: the loop ``tec worker`` runs beside the search consumer.

Each round it records the theme's state events (a new month, a scheduled publication),
tells owners about endpoints it disabled, claims due deliveries and sends them at once,
signed, each with its own timeout. Time comes from an injected clock and the jitter of
retries from an injected random generator, so tests can run 24 hours in a moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.compat_tortoise import in_own_context
from services.editing import write_transaction
from services.webhooks import queue
from services.webhooks.events import THEME_CURRENT, THEME_NEXT, queue_events, theme_state_events
from services.webhooks.models import WebhookEndpoint
from services.webhooks.signing import headers as signed_headers
from services.webhooks.transport import TransportError, WebhookTransport

logger = logging.getLogger("tec.webhooks")

Clock = Callable[[], dt.datetime]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class DisabledNotice:
    """What the owner of a disabled endpoint is told."""

    endpoint_id: int
    url: str
    reason: str
    disabled_at: dt.datetime
    recipients: tuple[str, ...]


Notify = Callable[[DisabledNotice], Awaitable[None]]


@dataclass(frozen=True)
class SenderOptions:
    timeout: float = 15.0
    lease: dt.timedelta = dt.timedelta(seconds=60)
    """How long a claim lasts: longer than ``timeout``, or a slow delivery goes out twice."""
    batch_size: int = 20
    poll_interval: float = 1.0
    retry_window: dt.timedelta = dt.timedelta(hours=24)
    disable_after: dt.timedelta = dt.timedelta(hours=24)
    backoff_base: float = 5.0
    backoff_cap: float = 7200.0
    state_interval: dt.timedelta = dt.timedelta(minutes=1)
    keep_log: dt.timedelta = dt.timedelta(days=30)
    """How long settled deliveries stay in the log."""


async def owner_addresses(endpoint: WebhookEndpoint) -> tuple[str, ...]:
    """Who hears about an endpoint: the account that registered it, else the active
    partner accounts of its organisation."""
    from services.accounts.models import Account
    from services.viewer import Role

    created_by_id = endpoint.created_by_id  # type: ignore[attr-defined]
    if created_by_id is not None:
        found = await Account.filter(id=created_by_id, is_active=True).values_list(
            "email", flat=True
        )
        if found:
            return tuple(found)
    organization_id = endpoint.organization_id  # type: ignore[attr-defined]
    if organization_id is None:
        return ()
    return tuple(
        await Account.filter(
            organization_id=organization_id, role=Role.PARTNER, is_active=True
        ).values_list("email", flat=True)
    )


class WebhookSender:
    def __init__(
        self,
        transport: WebhookTransport,
        *,
        options: SenderOptions | None = None,
        clock: Clock = _now,
        rng: random.Random | None = None,
        notify: Notify | None = None,
    ) -> None:
        self.transport = transport
        self.options = options or SenderOptions()
        self.clock = clock
        self.rng = rng or random.Random()
        self.notify = notify
        self._state_checked: dt.datetime | None = None
        self._pruned: dt.datetime | None = None

    async def record_state(self) -> int:
        """Record the theme of the month and the next theme when they changed without a
        write (a month began, a scheduled publication took effect)."""
        now = self.clock()
        if (
            self._state_checked is not None
            and now - self._state_checked < self.options.state_interval
        ):
            return 0
        self._state_checked = now
        async with write_transaction():
            return await queue_events(await theme_state_events(now=now), now=now)

    async def prune(self) -> int:
        """Forget deliveries settled more than ``keep_log`` ago (at most once an hour)."""
        now = self.clock()
        if self._pruned is not None and now - self._pruned < dt.timedelta(hours=1):
            return 0
        self._pruned = now
        return await queue.prune(
            before=now - self.options.keep_log, keep_types=(THEME_CURRENT, THEME_NEXT)
        )

    async def send_notices(self) -> int:
        sent = 0
        for endpoint in await queue.notices_due():
            notice = DisabledNotice(
                endpoint_id=endpoint.id,
                url=endpoint.url,
                reason=endpoint.disabled_reason or "",
                disabled_at=endpoint.disabled_at or self.clock(),
                recipients=await owner_addresses(endpoint),
            )
            if self.notify is not None and notice.recipients:
                await self.notify(notice)
            else:
                logger.warning(
                    "webhook endpoint %s disabled (%s); nobody to tell", endpoint.id, notice.reason
                )
            await queue.mark_notice_sent(endpoint.id, now=self.clock())
            sent += 1
        return sent

    async def deliver(self, claimed: queue.Claimed) -> bool:
        """One attempt of one delivery; True when delivered."""
        now = self.clock()
        body = claimed.body.encode()
        headers = signed_headers(claimed.secrets, claimed.msg_id, int(now.timestamp()), body)
        status: int | None = None
        text: str | None = None
        try:
            response = await self.transport.post(
                claimed.url, headers=headers, body=body, timeout=self.options.timeout
            )
            status, text = response.status, response.body
        except TransportError as error:
            message = str(error)
        else:
            if 200 <= status < 300:
                await queue.mark_delivered(claimed, status=status, body=text, now=self.clock())
                return True
            message = f"HTTP {status}"
        now = self.clock()
        if status == 410:
            # The receiver asks for no more webhooks (Standard Webhooks: disable).
            await queue.give_up(claimed, error=message, status=status, body=text)
            await queue.disable([claimed.endpoint_id], reason="l'adresse répond 410 Gone", now=now)
            return False
        retry_in = backoff_for(claimed.attempts, self.rng, self.options)
        await queue.mark_failed_attempt(
            claimed,
            error=message,
            status=status,
            body=text,
            now=now,
            retry_in=retry_in,
            window=self.options.retry_window,
        )
        return False

    async def run_once(self) -> int:
        """One round; returns how many deliveries were attempted."""
        await self.record_state()
        await self.prune()
        await queue.disable_failing(now=self.clock(), after=self.options.disable_after)
        await self.send_notices()
        claimed = await queue.claim(
            now=self.clock(), limit=self.options.batch_size, lease=self.options.lease
        )
        if claimed:
            await asyncio.gather(*(self.deliver(c) for c in claimed))
            await queue.disable_failing(now=self.clock(), after=self.options.disable_after)
            await self.send_notices()
        return len(claimed)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            attempted = 0
            try:
                attempted = await in_own_context(self.run_once)
            except Exception:
                logger.exception("webhook round failed; retrying")
            if attempted == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.options.poll_interval)


def backoff_for(attempts: int, rng: random.Random, options: SenderOptions) -> float:
    return queue.backoff(attempts, rng, base=options.backoff_base, cap=options.backoff_cap)
