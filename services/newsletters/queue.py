"""The durable delivery queue: one row per (issue, subscriber).

Senders claim batches (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share
an issue; SQLite has one writer and runs one sender). A claim is a lease: a row whose
sender died mid-send is claimed again once its lease has expired — those few messages
(at most one batch per dead sender) may reach their recipient twice, and are counted in
``reclaims``. Everything else is sent exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise import connections
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from services.audit.service import record
from services.editing import now
from services.errors import Conflict
from services.newsletters.models import Delivery, DeliveryStatus, IssueStatus, NewsletterIssue
from services.subscribers.models import Subscriber, SubscriberStatus
from services.subscribers.service import Segment, mark_bounced
from services.viewer import Viewer

_OPEN = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)


@dataclass(frozen=True)
class Claimed:
    """A claimed message: who it goes to, and how many times it was reclaimed."""

    delivery_id: int
    issue_id: int
    subscriber_id: int
    email: str
    name: str
    generation: int
    reclaims: int


def _is_postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


def _params(sql: str) -> str:
    """``?`` placeholders in PostgreSQL's ``$n`` style when needed."""
    if not _is_postgres():
        return sql
    parts = sql.split("?")
    return "".join(p + (f"${i}" if i < len(parts) else "") for i, p in enumerate(parts, 1))


async def freeze_and_enqueue(
    issue_id: int, *, subject: str, html: str, text: str, by: Viewer | None = None
) -> tuple[NewsletterIssue, int]:
    """Freeze the composed content and queue one message per confirmed subscriber of the
    segment, in one transaction and one INSERT … SELECT (memory does not grow with the
    number of subscribers). An issue already sending is left as it is (resuming). The
    audit log records the start under ``by``: the operator of ``tec newsletter send``, or
    None for the platform (a scheduled issue)."""
    async with in_transaction() as conn:
        issue = await NewsletterIssue.filter(id=issue_id).select_for_update().first()
        if issue is None:
            raise Conflict("Numéro de newsletter introuvable.", field="id")
        if issue.status is IssueStatus.SENDING:
            return issue, await Delivery.filter(issue_id=issue_id).count()
        if issue.status not in (IssueStatus.DRAFT, IssueStatus.SCHEDULED):
            raise Conflict(f"Ce numéro a déjà été envoyé ou annulé ({issue.status.value}).")
        at, before = now(), issue.status.value
        from services.newsletters.service import segment_of

        select_sql, select_values = _segment_sql(segment_of(issue))
        await conn.execute_query(
            _params(
                "INSERT INTO newsletter_delivery (issue_id, subscriber_id, status, attempts, "
                "reclaims, created_at, updated_at) SELECT ?, r.id, 'PENDING', 0, 0, ?, ? "
                f"FROM ({select_sql}) AS r ORDER BY r.id"
            ),
            [issue_id, at, at, *select_values],
        )
        await NewsletterIssue.filter(id=issue_id).update(
            status=IssueStatus.SENDING,
            frozen_at=at,
            frozen_subject=subject,
            frozen_html=html,
            frozen_text=text,
            version=issue.version + 1,
            updated_at=at,
        )
        await issue.refresh_from_db()
        count = await Delivery.filter(issue_id=issue_id).count()
        await record(
            by,
            "newsletter.send",
            issue,
            changes={"status": [before, IssueStatus.SENDING.value], "recipients": [None, count]},
        )
    return issue, count


def _segment_sql(segment: Segment) -> tuple[str, list[object]]:
    """Ids of the confirmed subscribers of ``segment`` (same rule as segment_condition)."""
    sql = "SELECT DISTINCT s.id FROM subscriber s"
    values: list[object] = []
    if segment.theme_ids:
        marks = ", ".join("?" for _ in segment.theme_ids)
        sql += f" JOIN subscriber_theme st ON st.subscriber_id = s.id AND st.theme_id IN ({marks})"
        values.extend(segment.theme_ids)
    sql += " WHERE s.status = 'CONFIRMED'"
    if segment.audiences:
        sql += f" AND s.audience IN ({', '.join('?' for _ in segment.audiences)})"
        values.extend(segment.audiences)
    return sql, values


async def claim_batch(
    *,
    limit: int,
    lease: dt.timedelta,
    issue_id: int | None = None,
    at: dt.datetime | None = None,
) -> list[Claimed]:
    """Claim up to ``limit`` messages due ``at`` (the present by default): pending ones
    whose retry time has come, and ones whose sender's lease expired (it died). Only
    confirmed subscribers are returned; messages to anyone else (unsubscribed, bounced
    since) are cancelled here."""
    at = at or now()
    only_issue = " AND issue_id = ?" if issue_id is not None else ""
    lock = " FOR UPDATE SKIP LOCKED" if _is_postgres() else ""
    sql = _params(
        "UPDATE newsletter_delivery SET status = 'SENDING', lease_until = ?, "
        "attempts = attempts + 1, updated_at = ?, "
        "reclaims = reclaims + CASE WHEN status = 'SENDING' THEN 1 ELSE 0 END "
        "WHERE id IN (SELECT id FROM newsletter_delivery WHERE "
        "((status = 'PENDING' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)) "
        "OR (status = 'SENDING' AND lease_until < ?))"
        f"{only_issue} ORDER BY id LIMIT ?{lock}) "
        "RETURNING id, issue_id, subscriber_id, reclaims"
    )
    if _is_postgres():
        # Tortoise's asyncpg client returns rows for statements that do not start with
        # UPDATE: wrap it in a CTE.
        sql = f"WITH claimed AS ({sql}) SELECT * FROM claimed"
    values: list[object] = [at + lease, at, at, at]
    if issue_id is not None:
        values.append(issue_id)
    values.append(limit)
    async with in_transaction() as conn:
        _, rows = await conn.execute_query(sql, values)
    rows = [dict(r) for r in rows]
    if not rows:
        return []
    people = {
        s["id"]: s
        for s in await Subscriber.filter(id__in=[r["subscriber_id"] for r in rows]).values(
            "id", "email", "name", "status", "link_generation"
        )
    }
    claimed, gone = [], []
    for r in sorted(rows, key=lambda r: r["id"]):
        person = people.get(r["subscriber_id"])
        status = person and str(getattr(person["status"], "value", person["status"]))
        if person is None or status != SubscriberStatus.CONFIRMED.value:
            gone.append(r["id"])
            continue
        claimed.append(
            Claimed(
                delivery_id=r["id"],
                issue_id=r["issue_id"],
                subscriber_id=r["subscriber_id"],
                email=person["email"],
                name=person["name"],
                generation=person["link_generation"],
                reclaims=r["reclaims"],
            )
        )
    if gone:
        await Delivery.filter(id__in=gone).update(
            status=DeliveryStatus.CANCELLED, last_error="no longer subscribed", updated_at=at
        )
    return claimed


async def mark_sent(delivery_ids: Sequence[int], *, at: dt.datetime | None = None) -> None:
    """Record messages the SMTP server accepted (one statement for many)."""
    if delivery_ids:
        at = at or now()
        await Delivery.filter(id__in=list(delivery_ids), status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.SENT, sent_at=at, lease_until=None, updated_at=at
        )


async def mark_retry(
    delivery_id: int,
    *,
    error: str,
    attempts: int,
    max_attempts: int,
    backoff: float,
    at: dt.datetime | None = None,
) -> bool:
    """A transient failure: retry later (delay doubling at each attempt), or give up after
    ``max_attempts``. True when a retry is planned."""
    at = at or now()
    if attempts >= max_attempts:
        await Delivery.filter(id=delivery_id).update(
            status=DeliveryStatus.FAILED, last_error=error[:500], lease_until=None, updated_at=at
        )
        return False
    delay = dt.timedelta(seconds=backoff * 2 ** max(attempts - 1, 0))
    await Delivery.filter(id=delivery_id).update(
        status=DeliveryStatus.PENDING,
        next_attempt_at=at + delay,
        last_error=error[:500],
        lease_until=None,
        updated_at=at,
    )
    return True


async def release(
    delivery_ids: Sequence[int], *, error: str, retry_in: float, at: dt.datetime | None = None
) -> None:
    """Give claimed messages back without counting an attempt (the server is down)."""
    if delivery_ids:
        at = at or now()
        await Delivery.filter(id__in=list(delivery_ids), status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.PENDING,
            attempts=F("attempts") - 1,
            next_attempt_at=at + dt.timedelta(seconds=retry_in),
            last_error=error[:500],
            lease_until=None,
            updated_at=at,
        )


async def mark_failed(
    delivery_id: int, subscriber_id: int, *, error: str, at: dt.datetime | None = None
) -> None:
    """A permanent refusal (5xx): the message failed and the address is marked bounced."""
    at = at or now()
    async with in_transaction():
        await Delivery.filter(id=delivery_id).update(
            status=DeliveryStatus.FAILED, last_error=error[:500], lease_until=None, updated_at=at
        )
        await mark_bounced(subscriber_id, error)


async def cancel_pending(issue_id: int) -> int:
    """Cancel the messages of an issue not sent yet (pending or waiting for a retry)."""
    return await Delivery.filter(issue_id=issue_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.CANCELLED, updated_at=now()
    )


async def progress(issue_id: int) -> dict[str, int]:
    """Messages of an issue per status (all statuses present, zeros included)."""
    rows = await Delivery.filter(issue_id=issue_id).values_list("status", flat=True)
    counts = Counter(str(getattr(s, "value", s)) for s in rows)
    return {s.value: counts.get(s.value, 0) for s in DeliveryStatus}


async def finish_if_done(issue_id: int, *, at: dt.datetime | None = None) -> bool:
    """Mark a sending issue SENT once no message is pending or in flight."""
    if await Delivery.filter(issue_id=issue_id, status__in=list(_OPEN)).exists():
        return False
    at = at or now()
    updated = await NewsletterIssue.filter(id=issue_id, status=IssueStatus.SENDING).update(
        status=IssueStatus.SENT, sent_at=at, updated_at=at
    )
    return bool(updated)


async def sending_issue_ids() -> list[int]:
    return list(
        await NewsletterIssue.filter(status=IssueStatus.SENDING).values_list("id", flat=True)
    )


async def claim_due_issues(*, at: dt.datetime) -> list[NewsletterIssue]:
    """Scheduled issues whose time has come."""
    # Two workers may pick the same issue: freeze_and_enqueue locks it and starts it once.
    return list(
        await NewsletterIssue.filter(status=IssueStatus.SCHEDULED, scheduled_at__lte=at).order_by(
            "scheduled_at"
        )
    )


async def queue_depth() -> int:
    """Messages waiting to be sent or being sent, all issues together (for monitoring)."""
    return await Delivery.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
    ).count()
