"""Issues and their delivery queue in the domain: editing rules, claims, leases, retries."""

from __future__ import annotations

import datetime as dt

import pytest

from services.errors import BadUserInput, Conflict, Forbidden
from services.newsletters import queue, service
from services.newsletters.models import Delivery, DeliveryStatus, IssueStatus, SectionKind
from services.subscribers.models import Subscriber, SubscriberStatus
from services.viewer import Role, Viewer
from tests.mailer import support
from tests.mailer.support import fresh_theme, make_subscribers

_remove_segment_themes = support._remove_segment_themes

EDITOR = Viewer(role=Role.EDITOR)


async def _sending_issue(count: int):
    theme = await fresh_theme()
    people = await make_subscribers(count, theme)
    issue = await service.create_issue(
        EDITOR, title="Numéro", changes=service.IssueChanges(segment_themes=[theme.id])
    )
    issue, queued = await queue.freeze_and_enqueue(
        issue.id, subject="Sujet", html="<p>x</p>", text="x"
    )
    assert queued == count
    return issue, people


async def test_only_editors_write_issues(database):
    with pytest.raises(Forbidden):
        await service.create_issue(Viewer(role=Role.PARTNER, account_id=1), title="Non")


async def test_items_only_in_item_sections_and_never_twice(database):
    issue = await service.create_issue(EDITOR, title="Numéro des items")
    with pytest.raises(BadUserInput):
        await service.add_item(EDITOR, issue.id, section=SectionKind.FOOTER, node_id="x")
    with pytest.raises(BadUserInput):
        await service.reorder_items(
            EDITOR, issue.id, section=SectionKind.AGENDA, node_ids=["a", "a"]
        )
    updated = await service.add_item(EDITOR, issue.id, section=SectionKind.AGENDA, node_id="a")
    assert updated.version == issue.version + 1


async def test_enqueue_is_one_row_per_confirmed_subscriber_and_freezes(database):
    issue, _people = await _sending_issue(5)
    assert issue.status is IssueStatus.SENDING and issue.frozen_html == "<p>x</p>"
    again, queued = await queue.freeze_and_enqueue(issue.id, subject="S", html="y", text="y")
    assert queued == 5 and again.frozen_html == "<p>x</p>"  # resuming changes nothing
    with pytest.raises(Conflict):
        await service.update_issue(
            EDITOR, issue.id, version=again.version, changes=service.IssueChanges(title="Trop tard")
        )


async def test_claims_skip_unsubscribed_and_reclaim_expired_leases(database):
    issue, people = await _sending_issue(4)
    await Subscriber.filter(id=people[0].id).update(status=SubscriberStatus.UNSUBSCRIBED)
    first = await queue.claim_batch(limit=10, lease=dt.timedelta(seconds=60), issue_id=issue.id)
    assert {c.subscriber_id for c in first} == {p.id for p in people[1:]}
    assert await Delivery.filter(issue_id=issue.id, status=DeliveryStatus.CANCELLED).count() == 1
    # Claimed with a live lease: nobody else gets them.
    assert (
        await queue.claim_batch(limit=10, lease=dt.timedelta(seconds=60), issue_id=issue.id) == []
    )
    # Their sender died: once the lease has expired they are claimed again, and counted.
    await Delivery.filter(issue_id=issue.id, status=DeliveryStatus.SENDING).update(
        lease_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    )
    again = await queue.claim_batch(limit=10, lease=dt.timedelta(seconds=60), issue_id=issue.id)
    assert len(again) == 3 and all(c.reclaims == 1 for c in again)
    await queue.mark_sent([c.delivery_id for c in again])
    assert await queue.finish_if_done(issue.id)
    progress = await queue.progress(issue.id)
    assert progress["SENT"] == 3 and progress["CANCELLED"] == 1


async def test_retries_back_off_then_fail(database):
    issue, _ = await _sending_issue(1)
    [claimed] = await queue.claim_batch(limit=1, lease=dt.timedelta(seconds=60), issue_id=issue.id)
    assert await queue.mark_retry(
        claimed.delivery_id, error="451 later", attempts=1, max_attempts=3, backoff=10
    )
    row = await Delivery.get(id=claimed.delivery_id)
    delay = (row.next_attempt_at - dt.datetime.now(dt.UTC)).total_seconds()
    assert 8 < delay <= 10 and row.status is DeliveryStatus.PENDING
    assert not await queue.mark_retry(
        claimed.delivery_id, error="451 later", attempts=3, max_attempts=3, backoff=10
    )
    assert (await Delivery.get(id=claimed.delivery_id)).status is DeliveryStatus.FAILED


async def test_cancelling_a_sending_issue_stops_what_is_not_sent(database):
    issue, _ = await _sending_issue(3)
    [one] = await queue.claim_batch(limit=1, lease=dt.timedelta(seconds=60), issue_id=issue.id)
    await queue.mark_sent([one.delivery_id])
    cancelled = await service.cancel_issue(EDITOR, issue.id)
    assert cancelled.status is IssueStatus.CANCELLED
    progress = await queue.progress(issue.id)
    assert (progress["SENT"], progress["CANCELLED"], progress["PENDING"]) == (1, 2, 0)
    with pytest.raises(Conflict):
        await service.cancel_issue(EDITOR, issue.id)
