"""The clock that code deciding by the time of day reads.

Whatever waits for a moment (a retry time, a lease, a scheduled publication, the end of
a cache entry) takes a ``Clock`` argument defaulting to :func:`system_clock`, so a test
moves time forward instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]
"""Returns the current time, timezone-aware (UTC)."""


def system_clock() -> dt.datetime:
    """The machine's time, in UTC."""
    return dt.datetime.now(dt.UTC)
