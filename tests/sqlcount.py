"""Count the SQL statements a block of code sends (Tortoise logs each one)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from services.compat_tortoise import statements_logged_to


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(("Created connection pool", "Closed connection pool")):
            self.statements.append(message)


@contextlib.contextmanager
def count_queries() -> Iterator[list[str]]:
    """``with count_queries() as statements: …`` then ``len(statements)``."""
    counter = _Counter()
    with statements_logged_to(counter):
        yield counter.statements
