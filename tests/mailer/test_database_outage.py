"""A database outage in the middle of a batch: what the SMTP server accepted is still
recorded as sent once the database answers again, so nobody gets the issue twice."""

from __future__ import annotations

import pytest

from mailer.delivery import Sender
from mailer.sending import start_issue
from mailer.transport import MemoryTransport, PermanentFailure
from schema import build_schema
from schema.newsletters.executor import build_executor
from services.newsletters import queue, service
from services.newsletters.models import Delivery, DeliveryStatus
from services.viewer import Role, Viewer
from tests.mailer.support import fresh_theme, make_subscribers

EDITOR = Viewer(role=Role.EDITOR)


async def test_sends_accepted_before_an_outage_are_recorded(news_settings, monkeypatch):
    theme = await fresh_theme()
    subscribers = await make_subscribers(4, theme)
    issue = await service.create_issue(
        EDITOR, title="Numéro coupé", changes=service.IssueChanges(segment_themes=[theme.id])
    )
    execute = build_executor(build_schema(news_settings), news_settings)
    await start_issue(execute, issue, settings=news_settings, viewer=EDITOR)

    transport = MemoryTransport()
    refused = subscribers[0].email
    transport.fail[refused] = PermanentFailure("550 mailbox unavailable")
    # Recording the refusal meets the outage; recording the sends meets it twice more.
    outage = {"mark_failed": 1, "mark_sent": 2}
    originals = {name: getattr(queue, name) for name in outage}

    def flaky(name):
        async def call(*args, **kwargs):
            if outage[name]:
                outage[name] -= 1
                raise ConnectionRefusedError(111, "Connection refused")
            return await originals[name](*args, **kwargs)

        return call

    for name in outage:
        monkeypatch.setattr(queue, name, flaky(name))
    settings = news_settings.replace(**{"mail_batch_size": 10})
    with pytest.raises(ConnectionRefusedError):
        await Sender(settings, transport).run_batch(issue_id=issue.id)

    delivered = {envelope.recipient for envelope in transport.sent}
    assert delivered == {s.email for s in subscribers[1:]}
    rows = await Delivery.filter(issue_id=issue.id).prefetch_related("subscriber")
    status = {row.subscriber.email: row.status for row in rows}
    assert all(status[email] is DeliveryStatus.SENT for email in delivered)
    # The refused one could not be recorded: it stays claimed, and is tried again later.
    assert status[refused] is DeliveryStatus.SENDING
