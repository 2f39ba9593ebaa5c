"""A clock the test moves: injected where production code takes a ``Clock``."""

from __future__ import annotations

import datetime as dt


class FakeClock:
    """Stands still until :meth:`advance`; starts at the present unless told otherwise."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def timestamp(self) -> float:
        """The same moment in epoch seconds (for clocks that count in seconds)."""
        return self.now.timestamp()

    def advance(self, seconds: float = 0.0, **delta: float) -> dt.datetime:
        """Move forward by ``seconds`` (or any ``timedelta`` keywords); the new time."""
        self.now += dt.timedelta(seconds=seconds, **delta)
        return self.now
