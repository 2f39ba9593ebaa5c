"""Fixtures of the newsletter tests: settings with a signing secret and a mail directory,
an app whose mail goes to memory, a real SMTP server (aiosmtpd) on loopback, and helpers
to make subscribers and a segment of one's own (a fresh theme) inside the shared database.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from gateway.app import create_app
from mailer.transport import MemoryTransport
from services.editing import now
from services.settings import Settings
from services.subscribers.models import Subscriber, SubscriberStatus, SubscriberTheme
from services.themes.models import Theme
from tests.unique import unique_tag

SECRET = "test-signing-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def news_settings(database: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return database.replace(
        **{
            "signing_secret": [SECRET],
            "mail_directory": tmp_path_factory.mktemp("mail"),
            "public_url": "https://tec.example",
            "mail_retry_backoff": 0.0,
        }
    )


@pytest.fixture(scope="session")
def outbox() -> MemoryTransport:
    """Where the test app's mail goes (shared: filter by recipient)."""
    return MemoryTransport()


@pytest.fixture(scope="session")
def news_app(news_settings: Settings, outbox: MemoryTransport) -> Any:
    app = create_app(news_settings)
    app.state.mail_transport_factory = lambda settings: outbox
    return app


@pytest.fixture
async def news_client(news_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=news_app, client=("203.0.113.7", 4242))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def news_gql(news_client: httpx.AsyncClient) -> Any:
    from tests.conftest import GraphQLClient

    return GraphQLClient(news_client)


@pytest.fixture(scope="module", autouse=True)
async def _remove_segment_themes(database: Settings) -> AsyncIterator[None]:
    """Themes are public at once: remove the ones made for segments, so that the theme
    list tests still see the demo data only."""
    yield
    await Theme.filter(slug__startswith="segment-").delete()


@pytest.fixture(scope="session")
async def archived(news_settings: Settings) -> dict[str, str]:
    """The four seed issues as ``tec demo`` puts them in the archive (composed from the
    demo data as of their dates, frozen, sent): {seed number: frozen HTML}."""
    from mailer.compose import archive_issue
    from schema import build_schema
    from schema.newsletters.executor import build_executor
    from services.demo.issues import issues_to_archive
    from services.demo.loader import load_demo, read_demo_data
    from services.newsletters.models import IssueStatus, NewsletterIssue

    data = read_demo_data()
    await load_demo(data)
    execute = build_executor(build_schema(news_settings), news_settings)
    for issue, sent_at in await issues_to_archive(data):
        await archive_issue(execute, issue, settings=news_settings, sent_at=sent_at)
    found = {}
    for newsletter in data["newsletters"]:
        issue = await NewsletterIssue.get(slug=newsletter["slug"])
        assert issue.status is IssueStatus.SENT and issue.frozen_html
        found[newsletter["seed"]] = issue.frozen_html
    return found


async def fresh_theme() -> Theme:
    """A theme nobody else follows: a segment of one's own in the shared database."""
    tag = unique_tag(10)
    return await Theme.create(slug=f"segment-{tag}", title=f"Segment {tag}")


async def make_subscribers(
    count: int, theme: Theme, *, status: SubscriberStatus = SubscriberStatus.CONFIRMED
) -> list[Subscriber]:
    tag = unique_tag(8)
    rows = [
        Subscriber(
            email=f"abonne-{tag}-{i}@example.org",
            name=f"Abonné {i}",
            status=status,
            consent_at=now(),
            consent_ip="198.51.100.1",
            consent_source="tests",
            consent_wording_version="test",
        )
        for i in range(count)
    ]
    await Subscriber.bulk_create(rows, batch_size=500)
    found = await Subscriber.filter(email__startswith=f"abonne-{tag}-").order_by("id")
    await SubscriberTheme.bulk_create(
        [SubscriberTheme(subscriber_id=s.id, theme_id=theme.id) for s in found], batch_size=500
    )
    return list(found)


# --- A real SMTP server on loopback ------------------------------------------------------


@dataclass
class Received:
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data)


@dataclass
class SMTPRecorder:
    """aiosmtpd handler: records messages; ``refuse`` maps an address to an SMTP reply."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refuse.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.received.append(Received(list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted"

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.recipients]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[SMTPRecorder, int]]:
    recorder = SMTPRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()
