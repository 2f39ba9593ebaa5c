"""The one place compiled execution (``schema/execution.py``) reaches into asyncio's
protocol between coroutines and the Task that drives them.

Compiled execution steps resolver coroutines itself instead of giving each one a Task
(``_Run.settle``), so it must do with what a coroutine yields what ``asyncio.Task`` does:
a coroutine that awaits a pending future yields that future, flagged
``_asyncio_future_blocking``; the driver resets the flag and resumes the coroutine once
the future is done. ``tests/compat/test_asyncio.py`` checks that protocol on the running
Python, so a change of it fails there instead of stalling or misreading resolvers.
"""

from __future__ import annotations

import asyncio
from typing import Any


def claims_future(yielded: Any) -> bool:
    """True when a coroutine step yielded an asyncio future to wait on (``await future``).

    The future is then claimed as ``asyncio.Task`` claims it (its blocking flag reset);
    the caller resumes the coroutine with ``send(None)`` once the future is done."""
    if not asyncio.isfuture(yielded):
        return False
    yielded._asyncio_future_blocking = False
    return True
