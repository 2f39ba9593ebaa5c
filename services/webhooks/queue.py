"""The durable delivery queue of webhooks.

Senders claim due deliveries with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several workers share the queue; SQLite has one writer). A delivery waits while an
earlier delivery of the same subject to the same endpoint is pending or in flight: a
later event of an object never overtakes an earlier one. A sender that dies mid-delivery
leaves its claim to expire; the delivery is then claimed again with the same
``webhook-id`` (at least once; receivers de-duplicate by that id).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise import connections
from tortoise.transactions import in_transaction

from services.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

BODY_KEPT = 1000  # characters of a response kept in the delivery log
ERROR_KEPT = 500


@dataclass(frozen=True)
class Claimed:
    """A claimed delivery, with everything needed to send it."""

    delivery_id: int
    endpoint_id: int
    url: str
    secrets: tuple[str, ...]
    msg_id: str
    body: str
    attempts: int
    due_at: dt.datetime


def _is_postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


def _params(sql: str) -> str:
    if not _is_postgres():
        return sql
    parts = sql.split("?")
    return "".join(p + (f"${i}" if i < len(parts) else "") for i, p in enumerate(parts, 1))


def backoff(attempts: int, rng: random.Random, *, base: float, cap: float) -> float:
    """Seconds before the next attempt after ``attempts`` failures: doubling from
    ``base`` up to ``cap``, half of it random ("equal jitter"), so that endpoints that
    failed together are not retried together."""
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return delay / 2 + rng.random() * delay / 2


async def claim(*, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[Claimed]:
    """Claim up to ``limit`` due deliveries of enabled endpoints, oldest first."""
    lock = " FOR UPDATE OF d SKIP LOCKED" if _is_postgres() else ""
    open_states = f"'{DeliveryStatus.PENDING.value}', '{DeliveryStatus.SENDING.value}'"
    sql = _params(
        "UPDATE webhook_delivery SET status = 'SENDING', lease_until = ?, "
        "attempts = attempts + 1, last_attempt_at = ? "
        "WHERE id IN (SELECT d.id FROM webhook_delivery d "
        "JOIN webhook_endpoint e ON e.id = d.endpoint_id WHERE e.enabled AND "
        "((d.status = 'PENDING' AND d.next_attempt_at <= ?) "
        "OR (d.status = 'SENDING' AND d.lease_until < ?)) "
        "AND NOT EXISTS (SELECT 1 FROM webhook_delivery p WHERE p.endpoint_id = d.endpoint_id "
        f"AND p.subject = d.subject AND p.id < d.id AND p.status IN ({open_states})) "
        f"ORDER BY d.id LIMIT ?{lock}) "
        "RETURNING id"
    )
    if _is_postgres():
        # Tortoise's asyncpg client returns rows only for statements that do not start
        # with UPDATE.
        sql = f"WITH claimed AS ({sql}) SELECT * FROM claimed"
    async with in_transaction() as conn:
        _, rows = await conn.execute_query(sql, [now + lease, now, now, now, limit])
    ids = sorted(dict(r)["id"] for r in rows)
    if not ids:
        return []
    deliveries = await WebhookDelivery.filter(id__in=ids).order_by("id")
    events = {e.id: e for e in await WebhookEvent.filter(id__in={d.event_id for d in deliveries})}  # type: ignore[attr-defined]
    endpoints = {
        e.id: e
        for e in await WebhookEndpoint.filter(id__in={d.endpoint_id for d in deliveries})  # type: ignore[attr-defined]
    }
    claimed = []
    for d in deliveries:
        endpoint, event = endpoints[d.endpoint_id], events[d.event_id]  # type: ignore[attr-defined]
        claimed.append(
            Claimed(
                delivery_id=d.id,
                endpoint_id=endpoint.id,
                url=endpoint.url,
                secrets=secrets_in_use(endpoint, now=now),
                msg_id=event.uid,
                body=event.body,
                attempts=d.attempts,
                due_at=d.due_at,
            )
        )
    return claimed


def secrets_in_use(endpoint: WebhookEndpoint, *, now: dt.datetime) -> tuple[str, ...]:
    """The current secret, and the previous one while its grace period lasts."""
    previous = endpoint.previous_secret
    until = endpoint.previous_secret_until
    if previous and until is not None and until > now:
        return (endpoint.secret, previous)
    return (endpoint.secret,)


async def mark_delivered(claimed: Claimed, *, status: int, body: str, now: dt.datetime) -> None:
    """The endpoint answered 2xx: the delivery is done and the endpoint healthy."""
    async with in_transaction():
        await WebhookDelivery.filter(id=claimed.delivery_id).update(
            status=DeliveryStatus.DELIVERED,
            response_code=status,
            response_body=body[:BODY_KEPT],
            last_error=None,
            lease_until=None,
            delivered_at=now,
        )
        await WebhookEndpoint.filter(id=claimed.endpoint_id).update(
            failing_since=None, last_success_at=now
        )


async def mark_failed_attempt(
    claimed: Claimed,
    *,
    error: str,
    status: int | None,
    body: str | None,
    now: dt.datetime,
    retry_in: float,
    window: dt.timedelta,
) -> bool:
    """An attempt failed: retry at ``now + retry_in`` (the last attempt falls at the end
    of the retry window), or give up once the window has passed. True when a retry is
    planned."""
    end = claimed.due_at + window
    values = {
        "response_code": status,
        "response_body": body[:BODY_KEPT] if body is not None else None,
        "last_error": error[:ERROR_KEPT],
        "lease_until": None,
    }
    async with in_transaction():
        if now >= end:
            await WebhookDelivery.filter(id=claimed.delivery_id).update(
                status=DeliveryStatus.FAILED, **values
            )
            retrying = False
        else:
            retry_at = min(now + dt.timedelta(seconds=retry_in), end)
            await WebhookDelivery.filter(id=claimed.delivery_id).update(
                status=DeliveryStatus.PENDING, next_attempt_at=retry_at, **values
            )
            retrying = True
        await WebhookEndpoint.filter(id=claimed.endpoint_id, failing_since__isnull=True).update(
            failing_since=now
        )
    return retrying


async def disable_failing(*, now: dt.datetime, after: dt.timedelta) -> list[int]:
    """Disable the enabled endpoints whose deliveries have all failed for ``after``."""
    due = list(
        await WebhookEndpoint.filter(enabled=True, failing_since__lte=now - after).values_list(
            "id", flat=True
        )
    )
    if due:
        hours = after.total_seconds() / 3600
        await disable(due, reason=f"toutes les livraisons échouent depuis {hours:g} h", now=now)
    return due


async def disable(ids: Sequence[int], *, reason: str, now: dt.datetime) -> None:
    """Stop sending to these endpoints (their pending deliveries wait), recorded in the
    audit log as the platform's doing; the owner's notice is sent by the worker."""
    from services.audit.service import record

    async with in_transaction():
        for endpoint in await WebhookEndpoint.filter(
            id__in=list(ids), enabled=True
        ).select_for_update():
            await WebhookEndpoint.filter(id=endpoint.id).update(
                enabled=False,
                disabled_at=now,
                disabled_reason=reason[:500],
                disabled_notice_sent_at=None,
            )
            await record(
                None,
                "webhook.disable",
                endpoint,
                changes={"enabled": [True, False], "disabled_reason": [None, reason[:500]]},
            )


async def give_up(claimed: Claimed, *, error: str, status: int | None, body: str | None) -> None:
    """A refusal for good (410 Gone): the delivery fails without retry."""
    await WebhookDelivery.filter(id=claimed.delivery_id).update(
        status=DeliveryStatus.FAILED,
        response_code=status,
        response_body=body[:BODY_KEPT] if body is not None else None,
        last_error=error[:ERROR_KEPT],
        lease_until=None,
    )


async def notices_due() -> list[WebhookEndpoint]:
    """Disabled endpoints whose owner has not been told yet."""
    return list(
        await WebhookEndpoint.filter(
            enabled=False, disabled_at__isnull=False, disabled_notice_sent_at__isnull=True
        ).order_by("id")
    )


async def mark_notice_sent(endpoint_id: int, *, now: dt.datetime) -> None:
    await WebhookEndpoint.filter(id=endpoint_id).update(disabled_notice_sent_at=now)


async def prune(*, before: dt.datetime, keep_types: Sequence[str]) -> int:
    """Forget settled deliveries (delivered or given up) created before ``before``, and
    the events left without deliveries — except the last event of each of ``keep_types``,
    which later comparisons start from. Returns how many deliveries were removed."""
    removed = await WebhookDelivery.filter(
        status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.FAILED], created_at__lt=before
    ).delete()
    kept = []
    for kind in keep_types:
        last = await WebhookEvent.filter(type=kind).order_by("-id").first()
        if last is not None:
            kept.append(last.id)
    await (
        WebhookEvent.filter(occurred_at__lt=before, deliveries__id__isnull=True)
        .exclude(id__in=kept)
        .delete()
    )
    return removed
