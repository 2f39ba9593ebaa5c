"""Crash safety: `tec worker` is killed with SIGKILL while a receiver is answering one of
its webhooks, then restarted. Every event reaches the real receiver on loopback at least
once, each object's events in order; the receiver de-duplicates by ``webhook-id``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections import defaultdict
from pathlib import Path

from services import publishing
from services.editing import create_content, update_content
from services.registry import content_type
from services.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from tests.services.webhooks.conftest import EDITOR
from tests.services.webhooks.receiver import verify_standard

TEC = str(Path(sys.executable).parent / "tec")
OBJECTS = 4
UPDATES = 3
HELD = 5  # the request the receiver holds while the worker is killed


def _env(settings, tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "TEC_DATABASE_URL": settings.database.database_url,
        "TEC_WEBHOOKS_ALLOW_PRIVATE": "true",
        "TEC_WEBHOOKS_TIMEOUT": "5",
        "TEC_WEBHOOKS_LEASE_SECONDS": "1",
        "TEC_WEBHOOKS_POLL_INTERVAL": "0.05",
        "TEC_MAIL_DIRECTORY": str(tmp_path / "mail"),
        "TEC_SIGNING_SECRET": "x" * 40,
        "TEC_LOG_LEVEL": "warning",
    }
    env.pop("TEC_TEST_DATABASE_URL", None)
    return env


async def _wait_for(condition, *, seconds: float, what: str) -> None:
    for _ in range(int(seconds / 0.02)):
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def test_worker_killed_mid_delivery_loses_nothing_and_keeps_order(
    database, endpoints, receiver, tmp_path
):
    held = threading.Event()
    release = threading.Event()

    def plan(number, request):
        if number == HELD:
            held.set()
            release.wait(10)  # the worker dies while this request is being answered
        return 204, 0.0

    receiver.plan = plan
    endpoint, secret = await endpoints(
        receiver.url, events=["concept.published", "concept.updated"]
    )
    concept = content_type("Concept")
    for n in range(OBJECTS):
        row = await create_content(EDITOR, concept, {"title": f"Panne {n} {uuid.uuid4().hex[:6]}"})
        row = await publishing.publish(EDITOR, "Concept", row.id, version=row.version)
        for version in range(UPDATES):
            row = await update_content(
                EDITOR, concept, row.id, version=row.version, given={"body": f"<p>{version}</p>"}
            )
    expected = await WebhookDelivery.filter(endpoint_id=endpoint.id).order_by("id")
    assert len(expected) == OBJECTS * (1 + UPDATES)

    env = _env(database, tmp_path)
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        first = subprocess.Popen([TEC, "worker", "--no-search"], env=env, stdout=log, stderr=log)
    try:
        for _ in range(1500):
            if held.is_set() or first.poll() is not None:
                break
            await asyncio.sleep(0.02)
        assert held.is_set(), log_path.read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
        release.set()
    at_kill = len(receiver.snapshot())
    assert HELD < at_kill < len(expected), "the kill must land mid-way"

    with log_path.open("a") as log:
        second = subprocess.Popen([TEC, "worker", "--no-search"], env=env, stdout=log, stderr=log)
    try:

        async def all_delivered() -> bool:
            return (
                not await WebhookDelivery.filter(endpoint_id=endpoint.id)
                .exclude(status=DeliveryStatus.DELIVERED)
                .exists()
            )

        await _wait_for(all_delivered, seconds=30, what="every delivery")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)

    requests = receiver.snapshot()
    assert all(verify_standard(secret, r) for r in requests)
    events = {e.id: e for e in await WebhookEvent.filter(id__in=[d.event_id for d in expected])}
    uids = [events[d.event_id].uid for d in expected]
    # At least once: every event arrived; what arrived twice was in flight at the kill.
    seen_once: dict[str, int] = {}
    for r in requests:
        seen_once.setdefault(r.webhook_id, len(seen_once))
    assert set(seen_once) == set(uids)
    assert len(requests) - len(uids) <= 1 + OBJECTS
    # In order per object, once duplicates are dropped as the receiver does.
    by_subject: dict[str, list[str]] = defaultdict(list)
    for r in requests:
        subject = r.payload["data"]["id"]
        if r.webhook_id not in by_subject[subject]:
            by_subject[subject].append(r.webhook_id)
    expected_by_subject: dict[str, list[str]] = defaultdict(list)
    for d in expected:
        event = events[d.event_id]
        expected_by_subject[json.loads(event.body)["data"]["id"]].append(event.uid)
    assert dict(by_subject) == dict(expected_by_subject)
