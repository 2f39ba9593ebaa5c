"""Newsletter benchmark: N confirmed subscribers, compose + deliver an issue to an SMTP
server on loopback (aiosmtpd, in its own process), against a bare aiosmtplib loop sending
the same pre-rendered message N times on one connection, in the same run.

    .venv/bin/python -m bench.newsletter.run --subscribers 10000

Prints messages/s of both, their ratio, and the peak memory (RSS) of the sender.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import socket
import tempfile
import time
from pathlib import Path


def _sink(port: int, counter, ready) -> None:  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _setup(settings, count: int):  # type: ignore[no-untyped-def]
    from tortoise import Tortoise

    from services import db
    from services.demo.loader import load_demo
    from services.editing import now
    from services.newsletters import service
    from services.subscribers.models import Subscriber, SubscriberStatus, SubscriberTheme
    from services.themes.models import Theme
    from services.viewer import Role, Viewer

    await db.migrate(settings.database)
    await Tortoise.init(config=db.tortoise_config(settings.database))
    await load_demo()
    theme = await Theme.create(slug=f"bench-{int(time.time())}", title="Bench")
    at = now()
    for start in range(0, count, 2000):
        rows = [
            Subscriber(
                email=f"bench-{theme.id}-{i}@example.org",
                name=f"Abonné {i}",
                status=SubscriberStatus.CONFIRMED,
                consent_at=at,
                consent_wording_version="bench",
            )
            for i in range(start, min(start + 2000, count))
        ]
        await Subscriber.bulk_create(rows)
    ids = await Subscriber.filter(email__startswith=f"bench-{theme.id}-").values_list(
        "id", flat=True
    )
    for start in range(0, len(ids), 2000):
        await SubscriberTheme.bulk_create(
            [SubscriberTheme(subscriber_id=i, theme_id=theme.id) for i in ids[start : start + 2000]]
        )
    return await service.create_issue(
        Viewer(role=Role.EDITOR),
        title="Juin 2021 : la démocratie culturelle",
        month=__import__("datetime").date(2021, 6, 1),
        changes=service.IssueChanges(segment_themes=[theme.id]),
    )


async def _bare_loop(port: int, data: bytes, count: int) -> float:
    import aiosmtplib

    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
    await client.connect()
    started = time.perf_counter()
    for i in range(count):
        await client.sendmail("newsletter@tec.example", [f"bare-{i}@example.org"], data)
    elapsed = time.perf_counter() - started
    await client.quit()
    return count / elapsed


async def main(args: argparse.Namespace) -> None:
    from tortoise import connections

    from mailer.sending import send_issue
    from mailer.transport import SMTPTransport
    from schema import build_schema
    from schema.newsletters.executor import build_executor
    from services.newsletters.models import NewsletterIssue
    from services.settings import Settings

    port = _free_port()
    counter = multiprocessing.Value("q", 0)
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(port, counter, ready), daemon=True)
    sink.start()
    ready.wait(10)
    folder = Path(tempfile.mkdtemp(prefix="tec-bench-"))
    url = args.database or f"sqlite://{folder / 'bench.sqlite3'}"
    settings = Settings(
        database_url=url,
        signing_secret="bench-signing-secret-0123456789abcdef",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_pool_size=args.pool,
        mail_batch_size=args.batch,
        public_url="https://tec.example",
    )
    try:
        issue = await _setup(settings, args.subscribers)
        rss_before = _rss_mb()
        execute = build_executor(build_schema(settings), settings)
        transport = SMTPTransport(host="127.0.0.1", port=port, pool_size=args.pool)
        started = time.perf_counter()
        counts = await send_issue(execute, issue.id, settings=settings, transport=transport)
        elapsed = time.perf_counter() - started
        await transport.close()
        rss_after = _rss_mb()
        system_rate = counts["SENT"] / elapsed
        # The same message, pre-rendered: one recipient's envelope of the frozen issue.
        from mailer.links import public_values
        from mailer.message import MessageFactory
        from mailer.render import Personalizer

        frozen = await NewsletterIssue.get(id=issue.id)
        envelope = MessageFactory(
            sender=settings.mail.mail_from, subject=frozen.frozen_subject or "", domain_key="bare"
        ).build(
            to_name="Abonné",
            to_address="bare@example.org",
            subscriber_key=0,
            html=Personalizer.of(frozen.frozen_html or "", escape=True).fill(
                public_values(settings)
            ),
            text=Personalizer.of(frozen.frozen_text or "", escape=False).fill(
                public_values(settings)
            ),
        )
        bare_rate = await _bare_loop(port, envelope.data, args.subscribers)
        await connections.close_all()
    finally:
        sink.terminate()
    print(f"subscribers            {args.subscribers}")
    print(f"message size           {len(envelope.data) / 1024:.1f} KiB")
    print(f"sent / failed          {counts['SENT']} / {counts['FAILED']}")
    print(f"compose + deliver      {elapsed:.2f} s, {system_rate:.0f} messages/s")
    print(f"bare aiosmtplib loop   {bare_rate:.0f} messages/s")
    print(f"ratio                  {system_rate / bare_rate:.2f}")
    print(f"peak RSS               {rss_after:.0f} MB (before sending: {rss_before:.0f} MB)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--pool", type=int, default=4, help="SMTP connections of the sender")
    parser.add_argument("--batch", type=int, default=200, help="deliveries claimed at once")
    parser.add_argument("--database", default="", help="database URL (default: temp SQLite)")
    asyncio.run(main(parser.parse_args()))
