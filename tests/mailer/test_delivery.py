"""Delivery to a real SMTP server (aiosmtpd on loopback): once per confirmed subscriber,
retries on 4xx, bounce on 5xx, nothing marked sent while the server is down, composition
errors refused before anything is queued, rate limit."""

from __future__ import annotations

import time
from email.header import decode_header, make_header

import pytest

from mailer.delivery import Sender, drain
from mailer.sending import send_issue
from mailer.transport import SMTPTransport
from schema import build_schema
from schema.newsletters.executor import build_executor
from services.newsletters import queue, service
from services.newsletters.errors import CompositionFailed
from services.newsletters.models import Delivery, DeliveryStatus, IssueStatus
from services.subscribers.models import Subscriber, SubscriberStatus
from services.viewer import Role, Viewer
from tests.mailer.support import fresh_theme, make_subscribers

EDITOR = Viewer(role=Role.EDITOR)


@pytest.fixture(scope="module")
def execute(news_settings):
    return build_executor(build_schema(news_settings), news_settings)


def _transport(port: int, **options) -> SMTPTransport:
    return SMTPTransport(host="127.0.0.1", port=port, timeout=5, **options)


async def _issue(theme, **changes):
    return await service.create_issue(
        EDITOR,
        title="Juin 2021 : la démocratie culturelle",
        changes=service.IssueChanges(segment_themes=[theme.id], **changes),
    )


async def test_each_confirmed_subscriber_of_the_segment_gets_the_issue_once(
    news_settings, smtp_server, execute
):
    recorder, port = smtp_server
    theme = await fresh_theme()
    confirmed = await make_subscribers(5, theme)
    pending = await make_subscribers(2, theme, status=SubscriberStatus.PENDING)
    left = await make_subscribers(1, theme, status=SubscriberStatus.UNSUBSCRIBED)
    issue = await _issue(theme, introduction="Bienvenue dans ce numéro.")
    transport = _transport(port)
    try:
        counts = await send_issue(execute, issue.id, settings=news_settings, transport=transport)
    finally:
        await transport.close()
    assert counts["SENT"] == 5 and counts["PENDING"] == counts["FAILED"] == 0
    for subscriber in confirmed:
        got = recorder.to(subscriber.email)
        assert len(got) == 1, subscriber.email
        message = got[0].message
        assert message["Message-ID"] == (
            f"<newsletter-{issue.id}.{subscriber.id}@territoires-en-commun.example>"
        )
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Unsubscribe"].startswith("<https://tec.example/newsletters/unsub")
        subject = str(make_header(decode_header(message["Subject"])))
        assert subject == "Juin 2021 : la démocratie culturelle"
        html = next(p for p in message.walk() if p.get_content_type() == "text/html")
        body = html.get_payload(decode=True).decode()
        assert f"Bonjour {subscriber.name}," in body and 'lang="fr"' in body
    for subscriber in pending + left:
        assert recorder.to(subscriber.email) == []
    await issue.refresh_from_db()
    assert issue.status is IssueStatus.SENT and issue.frozen_html and issue.sent_at


async def test_transient_failures_are_retried_and_permanent_ones_bounce(
    news_settings, smtp_server, execute
):
    recorder, port = smtp_server
    theme = await fresh_theme()
    later, refused, fine = await make_subscribers(3, theme)
    recorder.refuse[later.email] = "451 4.7.1 Greylisted, try again later"
    recorder.refuse[refused.email] = "550 5.1.1 No such user"
    issue = await _issue(theme)
    settings = news_settings.replace(**{"mail_retry_backoff": 30.0})
    transport = _transport(port)
    try:
        from mailer.sending import start_issue

        await start_issue(execute, issue, settings=settings, viewer=EDITOR)
        sender = Sender(settings, transport)
        report = await sender.run_batch(issue_id=issue.id)
        assert (report.sent, report.retried, report.failed) == (1, 1, 1)
        rows = {
            d.subscriber_id: d
            for d in await Delivery.filter(issue_id=issue.id)  # type: ignore[attr-defined]
        }
        assert rows[later.id].status is DeliveryStatus.PENDING
        assert rows[later.id].next_attempt_at is not None and rows[later.id].attempts == 1
        assert "451" in rows[later.id].last_error
        assert rows[refused.id].status is DeliveryStatus.FAILED
        assert (await Subscriber.get(id=refused.id)).status is SubscriberStatus.BOUNCED
        # Nothing is due before the backoff: the greylisted message waits.
        assert (await sender.run_batch(issue_id=issue.id)).claimed == 0
        # Once due, it goes through.
        del recorder.refuse[later.email]
        await Delivery.filter(id=rows[later.id].id).update(next_attempt_at=None)
        await drain(sender, issue_id=issue.id)
    finally:
        await transport.close()
    assert len(recorder.to(later.email)) == 1 and len(recorder.to(fine.email)) == 1
    assert recorder.to(refused.email) == []
    assert (await queue.progress(issue.id))["SENT"] == 2
    await issue.refresh_from_db()
    assert issue.status is IssueStatus.SENT


async def test_server_down_marks_nothing_sent_and_the_issue_resumes(
    news_settings, smtp_server, execute
):
    recorder, port = smtp_server
    theme = await fresh_theme()
    people = await make_subscribers(4, theme)
    issue = await _issue(theme)
    from mailer.sending import start_issue
    from tests.mailer.support import free_port

    await start_issue(execute, issue, settings=news_settings, viewer=EDITOR)
    down = _transport(free_port())  # nothing listens there
    report = await Sender(news_settings, down).run_batch(issue_id=issue.id)
    assert report.server_down and report.sent == 0
    counts = await queue.progress(issue.id)
    assert counts["SENT"] == 0 and counts["PENDING"] == 4
    assert all(d.attempts == 0 for d in await Delivery.filter(issue_id=issue.id))
    up = _transport(port)
    try:
        await drain(Sender(news_settings, up), issue_id=issue.id)
    finally:
        await up.close()
    assert all(len(recorder.to(p.email)) == 1 for p in people)


async def test_a_template_with_graphql_errors_is_refused_and_nothing_is_queued(
    news_settings, execute
):
    theme = await fresh_theme()
    await make_subscribers(2, theme)
    template = await service.create_template(
        EDITOR,
        name="Gabarit cassé",
        document="query { themes { nodes { nope } } }",
        mjml="<mjml><mj-body></mj-body></mjml>",
    )
    issue = await _issue(theme, template_id=template.id)
    with pytest.raises(CompositionFailed) as refused:
        await send_issue(execute, issue.id, settings=news_settings, transport=None)  # type: ignore[arg-type]
    assert "nope" in refused.value.message and refused.value.errors
    await issue.refresh_from_db()
    assert issue.status is IssueStatus.DRAFT and issue.frozen_html is None
    assert await Delivery.filter(issue_id=issue.id).count() == 0


async def test_the_rate_limit_spreads_messages(news_settings, smtp_server, execute):
    _recorder, port = smtp_server
    theme = await fresh_theme()
    await make_subscribers(6, theme)
    issue = await _issue(theme)
    settings = news_settings.replace(**{"mail_rate": 20.0})
    transport = _transport(port)
    started = time.monotonic()
    try:
        counts = await send_issue(execute, issue.id, settings=settings, transport=transport)
    finally:
        await transport.close()
    assert counts["SENT"] == 6
    assert time.monotonic() - started >= 5 / 20 * 0.9


async def test_the_worker_starts_scheduled_issues_when_due(news_settings, execute):
    import datetime as dt

    from mailer.sending import start_due_issues
    from mailer.transport import MemoryTransport

    theme = await fresh_theme()
    people = await make_subscribers(3, theme)
    due = await _issue(theme)
    later = await _issue(theme)
    now = dt.datetime.now(dt.UTC)
    await service.schedule_issue(EDITOR, due.id, at=now - dt.timedelta(minutes=1))
    await service.schedule_issue(EDITOR, later.id, at=now + dt.timedelta(days=1))
    started = await start_due_issues(execute, settings=news_settings)
    assert due.id in started and later.id not in started
    memory = MemoryTransport()
    await drain(Sender(news_settings, memory), issue_id=due.id)
    assert sorted(m.recipient for m in memory.sent) == sorted(p.email for p in people)
    await due.refresh_from_db()
    await later.refresh_from_db()
    assert due.status is IssueStatus.SENT and later.status is IssueStatus.SCHEDULED
