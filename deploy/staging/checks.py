"""What a staging run must prove once the load is over and every component is back:
nothing acknowledged was lost, the search index converged to the database, every
subscriber got the issue once (up to one in-flight batch per dead sender), the rate limit
held across the replicas, and nothing failed outside the outages.

Each check reads the database through the services' models (the ORM is opened by the
caller), the search index through the search port, the SMTP sink's SQLite file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.staging.load import Ledger, Outcome
from deploy.staging.plan import Timeline


@dataclass
class Check:
    name: str
    passed: bool
    detail: str
    figures: dict[str, Any] = field(default_factory=dict)


def _pk(global_id: str) -> int:
    from schema.relay import from_global_id

    return from_global_id(global_id)[1]


# --- Waiting for the system to settle ----------------------------------------------------


async def outbox_backlog() -> int:
    from services.outbox.models import OutboxEntry
    from services.outbox.service import SEARCH

    return await OutboxEntry.filter(topic=SEARCH, processed_at__isnull=True).count()


async def issue_state(issue_pk: int) -> tuple[str, dict[str, int]]:
    from services.newsletters.models import NewsletterIssue
    from services.newsletters.queue import progress

    issue = await NewsletterIssue.get(id=issue_pk)
    return issue.status.value, await progress(issue_pk)


async def settle(issue_pk: int | None, *, timeout: float) -> dict[str, Any]:
    """Poll until the outbox is drained and the issue is sent, at most ``timeout`` s."""
    started = time.monotonic()
    outbox_at = issue_at = None
    status, counts = "", {}
    while time.monotonic() - started < timeout:
        elapsed = round(time.monotonic() - started, 1)
        if outbox_at is None and await outbox_backlog() == 0:
            outbox_at = elapsed
        if issue_pk is not None and issue_at is None:
            status, counts = await issue_state(issue_pk)
            if status == "SENT":
                issue_at = elapsed
        if outbox_at is not None and (issue_pk is None or issue_at is not None):
            break
        await asyncio.sleep(0.5)
    return {
        "outbox_drained_after_s": outbox_at,
        "issue_sent_after_s": issue_at,
        "outbox_backlog": await outbox_backlog(),
        "issue_status": status,
        "deliveries": counts,
    }


# --- 1. Acknowledged writes ------------------------------------------------------------------


async def acknowledged_writes(
    ledger: Ledger, *, round_id: str, territories: dict[str, int]
) -> Check:
    from schema.relay import to_global_id
    from services.resources.models import Resource
    from services.subscribers.models import Subscriber
    from services.votes.models import Vote

    pks = {_pk(rid): record for rid, record in ledger.resources.items()}
    rows = {r.id: r for r in await Resource.filter(id__in=list(pks))}
    missing, wrong, ambiguous_resolved = [], [], 0
    for pk, record in pks.items():
        row = rows.get(pk)
        if row is None:
            missing.append(record.slug)
            continue
        state = (row.version, row.title, row.status.value)
        if state == record.acked:
            continue
        if state in record.unconfirmed:
            ambiguous_resolved += 1
            continue
        wrong.append({"slug": record.slug, "database": state, "acknowledged": record.acked})
    committed_unacked = await Resource.filter(slug__in=ledger.unconfirmed_creates).count()

    slug_of = {pk: slug for slug, pk in territories.items()}
    rows_votes = await Vote.filter(round_id=_pk(round_id)).values_list("territory_id", "theme_id")
    present = {(slug_of.get(t, str(t)), to_global_id("Theme", th)) for t, th in rows_votes}
    lost_votes = [k for k, s in ledger.votes.items() if s == "voted" and k not in present]
    ghost_votes = [k for k, s in ledger.votes.items() if s == "absent" and k in present]
    unknown_votes = sum(1 for s in ledger.votes.values() if s == "unknown")

    emails = list(ledger.subscriptions)
    found = {
        s.email: s.consent_ip
        for s in await Subscriber.filter(email__in=emails).only("email", "consent_ip")
    }
    lost_subscriptions = [e for e in emails if e not in found]
    consent_ip_is_client = sum(1 for e, ip in ledger.subscriptions.items() if found.get(e) == ip)

    acked_resource_writes = sum(r.acked_writes for r in ledger.resources.values())
    figures = {
        "resources": len(pks),
        "resource_writes_acknowledged": acked_resource_writes,
        "resources_missing": missing,
        "resources_wrong_state": wrong,
        "resources_settled_by_an_unacknowledged_write": ambiguous_resolved,
        "creates_unacknowledged": len(ledger.unconfirmed_creates),
        "creates_unacknowledged_but_committed": committed_unacked,
        "vote_pairs_checked": sum(1 for s in ledger.votes.values() if s != "unknown"),
        "votes_cast_acknowledged": ledger.acked_casts,
        "votes_withdrawn_acknowledged": ledger.acked_withdrawals,
        "votes_lost": [list(k) for k in lost_votes],
        "votes_withdrawn_but_present": [list(k) for k in ghost_votes],
        "vote_pairs_unknown": unknown_votes,
        "subscriptions_acknowledged": len(emails),
        "subscriptions_lost": lost_subscriptions,
        "subscriptions_unacknowledged": len(ledger.unconfirmed_subscriptions),
        "consent_ip_is_the_client_address": f"{consent_ip_is_client}/{len(emails)}",
    }
    problems = len(missing) + len(wrong) + len(lost_votes) + len(ghost_votes)
    problems += len(lost_subscriptions)
    detail = (
        f"{len(pks)} resources ({acked_resource_writes} writes), "
        f"{figures['vote_pairs_checked']} vote pairs ({ledger.acked_casts} casts, "
        f"{ledger.acked_withdrawals} withdrawals), {len(emails)} subscriptions; "
        f"{problems} lost or wrong"
    )
    return Check("acknowledged writes are in the database", problems == 0, detail, figures)


# --- 2. Search index ---------------------------------------------------------------------------


async def search_converges(search_path: Path, settled: dict[str, Any]) -> Check:
    from search.port import SearchFilter, SearchRequest
    from search.tantivy_engine import TantivyEngine
    from services.content import ContentStatus
    from services.events.models import Event
    from services.resources.models import Resource

    now = dt.datetime.now(dt.UTC)
    engine = TantivyEngine(search_path)
    await engine.open()
    indexed: dict[str, dict[int, str]] = {"resource": {}, "event": {}}
    try:
        for doc_type in indexed:
            offset = 0
            while True:
                result = await engine.search(
                    SearchRequest(filter=SearchFilter(types=[doc_type]), limit=100, offset=offset)
                )
                for hit in result.hits:
                    indexed[doc_type][hit.pk] = html.unescape(hit.title_html)
                offset += len(result.hits)
                if not result.hits or offset >= result.total:
                    break
    finally:
        await engine.close()
    expected: dict[str, dict[int, str]] = {}
    for doc_type, model in (("resource", Resource), ("event", Event)):
        rows = await model.filter(status=ContentStatus.PUBLISHED).values_list(
            "id", "title", "published_at"
        )
        expected[doc_type] = {pk: title for pk, title, at in rows if at is None or at <= now}
    figures: dict[str, Any] = {"outbox_backlog": settled["outbox_backlog"]}
    problems = 0
    for doc_type in indexed:
        db_ids, index_ids = set(expected[doc_type]), set(indexed[doc_type])
        stale = sorted(
            pk for pk in db_ids & index_ids if expected[doc_type][pk] != indexed[doc_type][pk]
        )
        figures[doc_type] = {
            "published_in_database": len(db_ids),
            "in_index": len(index_ids),
            "missing_from_index": sorted(db_ids - index_ids),
            "not_published_but_indexed": sorted(index_ids - db_ids),
            "stale_titles": stale,
        }
        problems += len(db_ids ^ index_ids) + len(stale)
    problems += settled["outbox_backlog"]
    detail = (
        f"outbox drained {_after(settled['outbox_drained_after_s'])}; "
        f"{len(expected['resource'])} published resources and {len(expected['event'])} events "
        f"in the database, {len(indexed['resource'])} and {len(indexed['event'])} in the index"
        + (f"; {problems} differences" if problems else "")
    )
    return Check("search index converges to the database", problems == 0, detail, figures)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _after(seconds: float | None) -> str:
    return "never (timed out)" if seconds is None else f"{seconds} s after the load"


# --- 3. Newsletter -------------------------------------------------------------------------


async def newsletter_once(
    *,
    issue_pk: int | None,
    recipients: list[str],
    sink: Path,
    batch_size: int,
    sender_deaths: list[float],
    database_restarts: list[float],
    epoch: float,
    settled: dict[str, Any],
) -> Check:
    """``sender_deaths``: when mail senders died (killed or exited), in seconds from
    ``epoch`` (the start of the load, Unix time); ``database_restarts``: when PostgreSQL
    was killed. Each of them while the issue was being sent may strand one batch that the
    SMTP server accepted but the queue did not record, sent again once its lease expires:
    duplicates are bounded by those batches, and each duplicate is a reclaimed delivery."""
    from services.newsletters.models import Delivery, NewsletterIssue

    if issue_pk is None:
        return Check("every subscriber got the issue once", False, "the issue was never scheduled")
    db = sqlite3.connect(sink)
    try:
        marks = ",".join("?" for _ in recipients)
        rows = db.execute(
            f"SELECT recipient, message_id, received_at FROM received WHERE recipient IN ({marks})",
            [r.lower() for r in recipients],
        ).fetchall()
    finally:
        db.close()
    counts = Counter(recipient for recipient, _, _ in rows)
    ids: dict[str, set[str]] = {}
    for recipient, message_id, _ in rows:
        ids.setdefault(recipient, set()).add(message_id)
    issue = await NewsletterIssue.get(id=issue_pk)
    started = issue.frozen_at.timestamp() - epoch if issue.frozen_at else None
    times = [at - epoch for _, _, at in rows]
    first, last = (min(times), max(times)) if times else (None, None)

    def while_sending(times: list[float]) -> list[float]:
        if started is None or last is None:
            return []
        return [t for t in times if started <= t <= last]

    during = while_sending(sender_deaths)
    restarts = while_sending(database_restarts)
    missed = [r for r in recipients if counts[r.lower()] == 0]
    duplicated = {r: n for r, n in counts.items() if n > 1}
    extra = sum(n - 1 for n in duplicated.values())
    mixed_ids = [r for r, found in ids.items() if len(found) > 1]
    reclaims = sum(await Delivery.filter(issue_id=issue_pk).values_list("reclaims", flat=True))
    allowed = min(batch_size * (len(during) + len(restarts)), reclaims)
    figures = {
        "issue_queued_at_s": _round(started),
        "first_received_at_s": _round(first),
        "last_received_at_s": _round(last),
        "sender_deaths_at_s": [round(t, 1) for t in sender_deaths],
        "recipients": len(recipients),
        "received": len(counts),
        "messages": len(rows),
        "missed": len(missed),
        "missed_sample": missed[:10],
        "duplicated_recipients": len(duplicated),
        "extra_messages": extra,
        "allowed_extra": allowed,
        "sender_deaths_while_sending": len(during),
        "database_restarts_while_sending": len(restarts),
        "batch_size": batch_size,
        "reclaimed_deliveries": reclaims,
        "duplicates_with_different_message_ids": len(mixed_ids),
        "issue_status": settled.get("issue_status"),
        "issue_sent_after_load_s": settled.get("issue_sent_after_s"),
        "deliveries": settled.get("deliveries"),
    }
    passed = (
        not missed
        and extra <= allowed
        and not mixed_ids
        and settled.get("issue_status") == "SENT"
        and len(counts) == len(recipients)
    )
    detail = (
        f"{len(counts)}/{len(recipients)} recipients, {len(missed)} missed, {extra} duplicates "
        f"(allowed {allowed}: batch {batch_size} × ({len(during)} sender deaths + "
        f"{len(restarts)} database restarts while sending), at most the {reclaims} deliveries "
        f"reclaimed), issue {settled.get('issue_status') or '?'}, "
        f"sent from {_round(first)} s to {_round(last)} s"
    )
    return Check("every subscriber got the issue once", passed, detail, figures)


# --- 4. Rate limit ---------------------------------------------------------------------------


def rate_limit_held(bursts: list[dict[str, Any]], *, budget: int) -> Check:
    problems = []
    for n, result in enumerate(bursts, 1):
        if result.get("error"):
            problems.append(f"burst {n}: {result['error']}")
            continue
        if result["ok"] != budget:
            problems.append(f"burst {n}: {result['ok']} successes, expected {budget}")
        if result["ok"] + result["rate_limited"] != result["requests"]:
            problems.append(f"burst {n}: other answers {result['codes']}")
        if len(result["upstreams"]) < 2:
            problems.append(f"burst {n}: served by {sorted(result['upstreams'])} only")
        if not result["one_window"]:
            problems.append(f"burst {n}: crossed a window boundary")
    detail = "; ".join(
        f"burst {n} at {r.get('at', '?')} s: {r.get('ok')}/{r.get('requests')} ok, "
        f"{r.get('rate_limited')} refused, replicas {sorted((r.get('upstreams') or {}).values())}"
        for n, r in enumerate(bursts, 1)
    )
    if not bursts:
        problems.append("no burst ran")
    return Check(
        f"rate limit of {budget} per window held across replicas",
        not problems,
        detail + ("; " + "; ".join(problems) if problems else ""),
        {"bursts": bursts, "budget": budget, "problems": problems},
    )


# --- 5. Nothing failed outside the outages --------------------------------------------------------


def steady_state(outcomes: list[Outcome], timeline: Timeline) -> Check:
    failed = Counter()
    for outcome in outcomes:
        if outcome.category == "failed" and timeline.phase_of(*outcome.span) == "steady":
            failed[f"{outcome.kind}: {outcome.code}"] += 1
    total = sum(failed.values())
    detail = "none" if not total else ", ".join(f"{k} ×{n}" for k, n in failed.most_common())
    return Check(
        "no failure outside the outages",
        total == 0,
        f"{total} failed requests in steady phases" + ("" if not total else f": {detail}"),
        {"failed": dict(failed)},
    )
