"""Crash safety: `tec newsletter send` is killed with SIGKILL in the middle of an issue,
the sending is resumed once the dead sender's lease has expired, and a real SMTP server
on loopback checks that every confirmed subscriber got the issue exactly once — except
the messages in flight at the kill (at most one claimed batch), which may arrive twice
and are counted.

The resumed sender runs in this process on a clock set past the lease, the way an
operator's restart a little later would find the queue."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from mailer.delivery import Sender, drain
from mailer.transport import SMTPTransport
from services.newsletters import queue, service
from services.newsletters.models import Delivery, DeliveryStatus, IssueStatus
from services.viewer import Role, Viewer
from tests.clock import FakeClock
from tests.mailer.support import SECRET, fresh_theme, make_subscribers

pytestmark = pytest.mark.heavy

TEC = str(Path(sys.executable).parent / "tec")
SUBSCRIBERS = 300
BATCH = 20
LEASE_SECONDS = 60


def _env(settings, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "TEC_DATABASE_URL": settings.database.database_url,
        "TEC_SMTP_HOST": "127.0.0.1",
        "TEC_SMTP_PORT": str(port),
        "TEC_SMTP_POOL_SIZE": "4",
        "TEC_MAIL_BATCH_SIZE": str(BATCH),
        "TEC_MAIL_LEASE_SECONDS": str(LEASE_SECONDS),
        "TEC_SIGNING_SECRET": SECRET,
        "TEC_LOG_LEVEL": "warning",
    }
    env.pop("TEC_TEST_DATABASE_URL", None)
    return env


async def test_sender_killed_mid_issue_resumes_without_losing_or_repeating(
    news_settings, smtp_server, tmp_path
):
    recorder, port = smtp_server
    recorder.delay = 0.004  # a realistic server: the kill lands mid-issue
    theme = await fresh_theme()
    people = await make_subscribers(SUBSCRIBERS, theme)
    issue = await service.create_issue(
        Viewer(role=Role.EDITOR),
        title="Numéro du test de panne",
        changes=service.IssueChanges(segment_themes=[theme.id]),
    )
    env = _env(news_settings, port)
    log_path = tmp_path / "send.log"
    with log_path.open("w") as log:
        first = subprocess.Popen(
            [TEC, "newsletter", "send", str(issue.id)], env=env, stdout=log, stderr=log
        )
    try:
        # The sender is a new process: on a busy machine it may take many seconds to
        # start sending, so the wait ends on what it did, not after a number of polls.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if len(recorder.received) >= SUBSCRIBERS // 3 or first.poll() is not None:
                break
            await asyncio.sleep(0.02)
        assert first.poll() is None, "the sender finished before the kill: slow it down"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    at_kill = len(recorder.received)
    assert 0 < at_kill < SUBSCRIBERS
    settings = news_settings.replace(
        **{"mail_batch_size": BATCH, "mail_lease_seconds": LEASE_SECONDS}
    )
    # Restarted before the lease expires, a sender sends everything else and leaves the
    # dead sender's batch (if one was in flight) alone; once the lease has expired, it
    # sends that batch too.
    clock = FakeClock()
    transport = SMTPTransport(host="127.0.0.1", port=port, timeout=10, pool_size=4)
    try:
        await drain(Sender(settings, transport, clock=clock), issue_id=issue.id)
        held = await Delivery.filter(issue_id=issue.id, status=DeliveryStatus.SENDING)
        assert len(held) <= BATCH and all(d.reclaims == 0 for d in held)
        assert await Delivery.filter(issue_id=issue.id, status=DeliveryStatus.PENDING).count() == 0
        clock.advance(LEASE_SECONDS + 1)
        await drain(Sender(settings, transport, clock=clock), issue_id=issue.id)
    finally:
        await transport.close()
    progress = await queue.progress(issue.id)
    assert progress["PENDING"] + progress["SENDING"] == 0, log_path.read_text()
    counts = Counter(r for received in recorder.received for r in received.recipients)
    missed = [p.email for p in people if counts[p.email] == 0]
    duplicated = {address: n for address, n in counts.items() if n > 1}
    reclaimed = sum(await Delivery.filter(issue_id=issue.id).values_list("reclaims", flat=True))
    print(
        f"\ncrash test: {SUBSCRIBERS} subscribers, {at_kill} delivered before SIGKILL, "
        f"{reclaimed} in flight reclaimed, {len(duplicated)} duplicated, {len(missed)} missed"
    )
    assert missed == []
    assert set(counts) == {p.email for p in people}
    assert all(n == 2 for n in duplicated.values())
    # Only messages claimed by the dead sender may repeat: at most one batch.
    assert len(duplicated) <= reclaimed <= BATCH
    assert await Delivery.filter(issue_id=issue.id, status=DeliveryStatus.SENT).count() == (
        SUBSCRIBERS
    )
    await issue.refresh_from_db()
    assert issue.status is IssueStatus.SENT
    # The same Message-ID each time: receivers can drop the duplicate.
    for address in duplicated:
        ids = {r.message["Message-ID"] for r in recorder.received if address in r.recipients}
        assert len(ids) == 1
