"""Crash safety: `tec newsletter send` is killed with SIGKILL in the middle of an issue,
restarted, and a real SMTP server on loopback checks that every confirmed subscriber got
the issue exactly once — except the messages in flight at the kill (at most one claimed
batch), which may arrive twice and are counted."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from services.newsletters import service
from services.newsletters.models import Delivery, DeliveryStatus, IssueStatus
from services.viewer import Role, Viewer
from tests.mailer.support import SECRET, fresh_theme, make_subscribers

TEC = str(Path(sys.executable).parent / "tec")
SUBSCRIBERS = 300
BATCH = 20


def _env(settings, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "TEC_DATABASE_URL": settings.database.database_url,
        "TEC_SMTP_HOST": "127.0.0.1",
        "TEC_SMTP_PORT": str(port),
        "TEC_SMTP_POOL_SIZE": "4",
        "TEC_MAIL_BATCH_SIZE": str(BATCH),
        "TEC_MAIL_LEASE_SECONDS": "1",
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
        for _ in range(600):
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
    await asyncio.sleep(1.2)  # the dead sender's lease expires
    second = subprocess.run(
        [TEC, "newsletter", "send", str(issue.id)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert second.returncode == 0, log_path.read_text() + second.stdout + second.stderr
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
