"""Prints the newest e-mail written to the mail directory (``TEC_MAIL_DIRECTORY``: by
default ``mail`` in the instance directory derived from ``TEC_DATABASE_URL``, ``var/tec/mail``
for the default database; no SMTP relay configured), or the newest one to ADDRESS: a few
headers and its text part, whose links you can open. ``--html FILE`` also writes its HTML part, to
open in a browser.

    .venv/bin/python scripts/read_mail.py camille@example.org
"""

from __future__ import annotations

import argparse
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from services.settings import Settings

HEADERS = ("Date", "From", "To", "Subject", "List-Id", "List-Unsubscribe")


def newest(directory: Path, address: str | None) -> EmailMessage | None:
    for path in sorted(directory.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if address is None or address.lower() in str(message["To"]).lower():
            return message  # type: ignore[return-value]
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("address", nargs="?", help="only messages to this address")
    parser.add_argument("--html", type=Path, help="write the HTML part to this file")
    parser.add_argument("--directory", type=Path, default=Settings().mail.mail_directory)
    args = parser.parse_args()
    message = newest(args.directory, args.address)
    if message is None:
        raise SystemExit(
            f"no message{' to ' + args.address if args.address else ''} in {args.directory}"
        )
    for name in HEADERS:
        if message[name]:
            print(f"{name}: {message[name]}")
    print()
    print(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    if args.html:
        args.html.write_text(message.get_body(("html",)).get_content(), "utf-8")  # type: ignore[union-attr]
        print(f"HTML part written to {args.html}")


if __name__ == "__main__":
    main()
