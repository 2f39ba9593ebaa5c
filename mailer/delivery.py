"""Sending the queue: claim a batch, personalise each message from the issue's frozen
render, send over the transport's pooled connections at the configured rate, record
the outcome. Safe to stop at any moment (see services.newsletters.queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from mailer.links import recipient_values
from mailer.message import MessageFactory
from mailer.render import Personalizer
from mailer.transport import (
    DeliveryError,
    MailTransport,
    PermanentFailure,
    ServerUnavailable,
)
from services import db
from services.clock import Clock, system_clock
from services.newsletters import queue
from services.newsletters.models import NewsletterIssue
from services.settings import Settings
from services.subscribers.signing import signing_keys

logger = logging.getLogger("tec.mailer")


@dataclass
class _Prepared:
    factory: MessageFactory
    html: Personalizer
    text: Personalizer


@dataclass
class BatchReport:
    """What one batch did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    reclaimed: int = 0
    server_down: bool = False


@dataclass
class RateLimiter:
    """At most ``rate`` sends per second (0: unlimited), spread evenly."""

    rate: float
    _next: float = field(default=0.0)

    async def wait(self) -> None:
        if self.rate <= 0:
            return
        now = time.monotonic()
        slot = max(self._next, now)
        self._next = slot + 1.0 / self.rate
        if slot > now:
            await asyncio.sleep(slot - now)


class Sender:
    """Delivers claimed messages of any issue being sent; ``clock`` dates claims, leases
    and outcomes."""

    def __init__(
        self, settings: Settings, transport: MailTransport, *, clock: Clock = system_clock
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.clock = clock
        self.keys = signing_keys(settings)
        self.rate = RateLimiter(settings.mail.mail_rate)
        self._issues: dict[int, _Prepared] = {}

    async def _prepared(self, issue_id: int) -> _Prepared:
        found = self._issues.get(issue_id)
        if found is None:
            issue = await NewsletterIssue.get(id=issue_id)
            found = self._issues[issue_id] = _Prepared(
                factory=MessageFactory(
                    sender=self.settings.mail.mail_from,
                    subject=issue.frozen_subject or issue.subject,
                    domain_key=str(issue.id),
                ),
                html=Personalizer.of(issue.frozen_html or "", escape=True),
                text=Personalizer.of(issue.frozen_text or "", escape=False),
            )
        return found

    async def run_batch(self, *, issue_id: int | None = None) -> BatchReport:
        """Claim and send one batch; the report says what happened."""
        settings = self.settings
        claimed = await queue.claim_batch(
            limit=settings.mail.mail_batch_size,
            lease=dt.timedelta(seconds=settings.mail.mail_lease_seconds),
            issue_id=issue_id,
            at=self.clock(),
        )
        report = BatchReport(claimed=len(claimed), reclaimed=sum(1 for c in claimed if c.reclaims))
        if report.reclaimed:
            logger.warning(
                "%d message(s) were in flight when a sender died: sent again (may be "
                "duplicates; same Message-ID)",
                report.reclaimed,
            )
        sent: list[int] = []
        down: list[int] = []

        async def deliver(item: queue.Claimed) -> None:
            prepared = await self._prepared(item.issue_id)
            values = recipient_values(
                settings,
                self.keys,
                subscriber_id=item.subscriber_id,
                generation=item.generation,
                name=item.name,
            )
            try:
                envelope = prepared.factory.build(
                    to_name=item.name,
                    to_address=item.email,
                    subscriber_key=item.subscriber_id,
                    html=prepared.html.fill(values),
                    text=prepared.text.fill(values),
                    unsubscribe_url=values["unsubscribe_url"],
                )
            except Exception as error:  # a bad stored address or name: never retried
                await queue.mark_failed(
                    item.delivery_id, item.subscriber_id, error=str(error), at=self.clock()
                )
                report.failed += 1
                return
            if down:  # the server went away during this batch: keep the rest for later
                down.append(item.delivery_id)
                return
            await self.rate.wait()
            try:
                await self.transport.send(envelope)
            except ServerUnavailable as error:
                logger.warning("SMTP server unavailable: %s", error)
                down.append(item.delivery_id)
                return
            except PermanentFailure as error:
                await queue.mark_failed(
                    item.delivery_id, item.subscriber_id, error=str(error), at=self.clock()
                )
                report.failed += 1
                return
            except DeliveryError as error:
                attempts = await _attempts(item.delivery_id)
                retried = await queue.mark_retry(
                    item.delivery_id,
                    error=str(error),
                    attempts=attempts,
                    max_attempts=settings.mail.mail_max_attempts,
                    backoff=settings.mail.mail_retry_backoff,
                    at=self.clock(),
                )
                report.retried += int(retried)
                report.failed += int(not retried)
                return
            sent.append(item.delivery_id)

        # One task per message: the transport's pool bounds how many talk to SMTP at once.
        # Every message's fate is awaited before anything is raised: what the SMTP server
        # accepted is recorded even when others of the batch failed (a database outage),
        # since an unrecorded send is sent again once its lease expires.
        outcomes = await asyncio.gather(
            *(deliver(item) for item in claimed), return_exceptions=True
        )
        await _record_until_done(
            lambda: queue.mark_sent(sent, at=self.clock()), within=settings.mail.mail_lease_seconds
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        report.sent = len(sent)
        if down:
            report.server_down = True
            await queue.release(down, error="SMTP server unavailable", retry_in=0, at=self.clock())
        return report


async def _record_until_done(
    write: Callable[[], Awaitable[None]], *, within: float, pause: float = 0.5
) -> None:
    """Record what the SMTP server accepted, waiting out a database outage for as long as
    the batch's lease lasts: given up earlier, the batch would be sent a second time."""
    deadline = time.monotonic() + within
    while True:
        try:
            await write()
            return
        except Exception as error:
            if not db.is_unavailable(error) or time.monotonic() + pause > deadline:
                raise
            logger.warning("database unavailable while recording sends; retrying: %s", error)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 10.0)


async def _attempts(delivery_id: int) -> int:
    from services.newsletters.models import Delivery

    row = await Delivery.filter(id=delivery_id).values_list("attempts", flat=True)
    return row[0] if row else 0


async def drain(
    sender: Sender,
    *,
    issue_id: int | None = None,
    stop: asyncio.Event | None = None,
    progress: Callable[[BatchReport], None] | None = None,
    retry_pause: float = 1.0,
    max_pause: float = 60.0,
) -> None:
    """Send until nothing is due (for ``issue_id`` or every issue), or ``stop`` is set.
    While the SMTP server is down, wait (doubling the pause) and try again: nothing is
    marked sent that was not accepted."""
    pause = retry_pause
    while stop is None or not stop.is_set():
        report = await sender.run_batch(issue_id=issue_id)
        if progress:
            progress(report)
        if report.server_down:
            await _sleep(pause, stop)
            pause = min(pause * 2, max_pause)
            continue
        pause = retry_pause
        if report.claimed == 0:
            break
    for issue in [issue_id] if issue_id is not None else await queue.sending_issue_ids():
        await queue.finish_if_done(issue, at=sender.clock())


async def _sleep(seconds: float, stop: asyncio.Event | None) -> None:
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
