"""The staging run's SMTP server: accepts everything on loopback and records one row per
(message, recipient) in SQLite — Message-ID, recipient, subject, time — so that the report
can count what each subscriber received.

    python -m deploy.staging.smtp_sink --port 2525 --database var/sink.sqlite3
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sqlite3
import time
from email.parser import BytesHeaderParser
from pathlib import Path

from aiosmtpd.controller import Controller

SCHEMA = """CREATE TABLE IF NOT EXISTS received (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    received_at REAL NOT NULL
)"""


class Recorder:
    def __init__(self, database: Path) -> None:
        self.db = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(SCHEMA)

    async def handle_DATA(self, server, session, envelope) -> str:
        headers = BytesHeaderParser().parsebytes(envelope.content)
        message_id = str(headers.get("Message-ID", ""))
        subject = str(headers.get("Subject", ""))
        at = time.time()
        self.db.executemany(
            "INSERT INTO received (message_id, recipient, subject, received_at) "
            "VALUES (?, ?, ?, ?)",
            [(message_id, rcpt.lower(), subject, at) for rcpt in envelope.rcpt_tos],
        )
        return "250 Message accepted"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", type=Path, required=True)
    args = parser.parse_args()
    controller = Controller(Recorder(args.database), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"SMTP sink on 127.0.0.1:{args.port}", flush=True)

    async def wait() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()

    try:
        asyncio.run(wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
