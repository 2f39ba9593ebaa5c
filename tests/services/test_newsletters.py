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


# --- Sections as data, the issue's date ----------------------------------------------------


async def test_an_issue_keeps_its_sections_order_wording_and_the_ones_left_out(database):
    from services.newsletters.sections import Section

    issue = await service.create_issue(EDITOR, title="Numéro des sections")
    assert issue.sections is None  # the template's
    chosen = [
        Section(kind=SectionKind.VIEW_IN_BROWSER),
        Section(kind=SectionKind.VOTE, title="Votez !", cta=""),
        Section(kind=SectionKind.THEME_OF_THE_MONTH),
        Section(kind=SectionKind.AGENDA, curated=True),
        Section(kind=SectionKind.FOOTER),
    ]
    updated = await service.set_sections(EDITOR, issue.id, version=issue.version, sections=chosen)
    assert [s["kind"] for s in updated.sections] == [
        "VIEW_IN_BROWSER",
        "VOTE",
        "THEME_OF_THE_MONTH",
        "AGENDA",
        "FOOTER",
    ]
    vote = updated.sections[1]
    assert (vote["title"], vote["cta"], vote["body"]) == ("Votez !", "", None)
    assert updated.sections[3]["curated"] is True
    with pytest.raises(Conflict):  # an old version
        await service.set_sections(EDITOR, issue.id, version=issue.version, sections=chosen)
    for refused in (
        chosen[:-1],  # no footer: no unsubscribe link, no postal address
        [*chosen, Section(kind=SectionKind.VOTE)],  # twice
        [Section(kind=SectionKind.FOOTER, title="x" * 301)],
    ):
        with pytest.raises(BadUserInput):
            await service.set_sections(EDITOR, issue.id, version=updated.version, sections=refused)
    with pytest.raises(Forbidden):
        await service.set_sections(
            Viewer(role=Role.LOCAL_AUTHORITY, account_id=1),
            issue.id,
            version=updated.version,
            sections=chosen,
        )
    assert (await service.get_issue(EDITOR, issue.id)).version == updated.version


async def test_an_issue_is_composed_as_of_its_date(database):
    issue = await service.create_issue(EDITOR, title="Numéro daté", month=dt.date(2031, 3, 1))
    now = dt.datetime(2030, 12, 1, tzinfo=dt.UTC)
    # A draft prepared ahead of its month: as of the start of the month (Paris).
    assert service.issue_date(issue, at=now) == dt.datetime(
        2031, 3, 1, tzinfo=service.PARIS
    ).astimezone(dt.UTC)
    # Later than its month's start: now.
    later = dt.datetime(2031, 3, 10, tzinfo=dt.UTC)
    assert service.issue_date(issue, at=later) == later
    issue.scheduled_at = dt.datetime(2031, 3, 2, 8, tzinfo=dt.UTC)
    assert service.issue_date(issue, at=later) == issue.scheduled_at
    issue.sent_at = dt.datetime(2031, 3, 2, 9, tzinfo=dt.UTC)
    assert service.issue_date(issue, at=later) == issue.sent_at


async def test_a_draft_for_a_month_takes_the_current_theme_and_the_agenda_from_today(database):
    issue = await service.draft_issue(EDITOR, month=dt.date(2022, 11, 15))
    assert issue.month == dt.date(2022, 11, 1)
    assert issue.title == "Territoires en Commun — novembre 2022 : Le passage à l'action"
    assert issue.variables["theme"] == "le-passage-a-l-action"
    assert issue.variables["concept"] == "la-cooperation"
    assert issue.sections is None
    # A month without a theme of its own: the current one (the latest begun) stays.
    later = await service.draft_issue(EDITOR, month=dt.date(2023, 2, 1))
    assert later.title == "Territoires en Commun — février 2023"
    assert later.variables["theme"] == "le-passage-a-l-action"
    assert later.variables["from"].startswith("2023-01-31T23:00:00")  # 1 February, Paris
    assert later.variables["to"].startswith("2023-03-31T22:00:00")  # 1 April, Paris
    with pytest.raises(Forbidden):
        await service.draft_issue(
            Viewer(role=Role.PARTNER, account_id=1), month=dt.date(2023, 2, 1)
        )


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2021, 6, 15), "democratie-sanitaire-et-nouvelles-cooperations-territoriales"),
        (dt.date(2021, 7, 1), "la-participation-citoyenne-des-adolescent-e-s"),
        (dt.date(2022, 9, 20), "le-passage-a-l-action"),
        # Announced for November 2022: no longer « next » once November has begun.
        (dt.date(2022, 11, 2), None),
    ],
)
async def test_the_next_theme_is_the_latest_announcement_until_its_month_begins(
    database, day, expected
):
    from services.themes.service import get_next_theme
    from services.viewer import ANONYMOUS

    found = await get_next_theme(ANONYMOUS, today=day)
    assert (found.slug if found else None) == expected


def test_a_project_stage_is_the_one_under_way_that_day():
    from types import SimpleNamespace

    from services.projects.service import stage_on

    stages = [
        SimpleNamespace(position=1, starts_on=dt.date(2021, 6, 1), ends_on=dt.date(2021, 7, 31)),
        SimpleNamespace(position=2, starts_on=dt.date(2021, 9, 1), ends_on=None),
    ]
    assert stage_on(stages, dt.date(2021, 5, 31)) is None
    assert stage_on(stages, dt.date(2021, 6, 1)) is stages[0]
    assert stage_on(stages, dt.date(2021, 8, 15)) is None  # between stages
    assert stage_on(stages, dt.date(2030, 1, 1)) is stages[1]  # open-ended
