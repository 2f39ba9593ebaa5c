"""What a staging run does and when: the load's size and pace, and the explicit schedule of
faults and actions, in seconds from the start of the load.

Two profiles are built in — ``full`` (``make staging``) and ``quick`` (the test suite) —
and a schedule can be injected from a JSON file (``--schedule``)::

    {"faults": [{"at": 30, "target": "mailer", "outage": 10}, …],
     "actions": [{"at": 5, "name": "burst"}, {"at": 15, "name": "newsletter"}, …],
     "load_seconds": 210}
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

TARGETS = ("replica-a", "replica-b", "worker", "mailer", "redis", "postgres")
"""Components the schedule may kill (each is SIGKILLed, then started again)."""
ACTIONS = ("burst", "newsletter")
"""``burst``: the rate-limit check; ``newsletter``: schedule the issue for now."""


@dataclass(frozen=True)
class Fault:
    at: float
    """Seconds from the start of the load."""
    target: str
    outage: float
    """Seconds between the SIGKILL and the restart."""


@dataclass(frozen=True)
class Action:
    at: float
    name: str


@dataclass(frozen=True)
class Profile:
    name: str
    load_seconds: float
    faults: tuple[Fault, ...]
    actions: tuple[Action, ...]
    subscribers: int = 2000
    """Confirmed subscribers seeded for the issue."""
    mail_rate: float = 15.0
    """TEC_MAIL_RATE of the mailer: paces the issue so that it spans several faults."""
    mail_batch_size: int = 25
    """TEC_MAIL_BATCH_SIZE: also the most messages one dead sender may repeat."""
    mail_lease_seconds: float = 30.0
    """TEC_MAIL_LEASE_SECONDS: longer than the PostgreSQL restart (about 15 s here), as the
    production default (300 s) is, so that only a sender's death sends a batch twice; short
    enough that the dead mailer's batch is reclaimed within the load."""
    anonymous_budget: int = 40
    """TEC_RATE_LIMIT_ANONYMOUS: what the burst checks (per client address and window)."""
    rate_window: int = 60
    burst_requests: int = 100
    readers: int = 4
    """Concurrent anonymous readers (portal query), each from rotating client addresses."""
    reader_interval: float = 0.2
    key_readers: int = 1
    """Concurrent readers with a partner API key."""
    key_reader_interval: float = 0.4
    editors: int = 3
    """Concurrent editors (one account) creating, updating, publishing resources."""
    editor_interval: float = 0.5
    territories: int = 6
    """Local authorities voting, one account and one concurrent voter each."""
    voter_interval: float = 0.6
    subscribers_interval: float = 0.5
    """Pace of the one anonymous `subscribe` loop."""
    settle_seconds: float = 150.0
    """Longest wait, after the load, for the outbox and the issue to finish."""
    seed: int = 20261202
    fake_clients: int = 256
    """Client addresses the anonymous load rotates over (X-Forwarded-For)."""

    def validate(self) -> None:
        for fault in self.faults:
            if fault.target not in TARGETS:
                raise ValueError(f"unknown fault target {fault.target!r} (one of {TARGETS})")
            if fault.outage <= 0 or fault.at < 0 or fault.at + fault.outage > self.load_seconds:
                raise ValueError(f"fault {fault} must fit inside the load")
        ordered = sorted(self.faults, key=lambda f: f.at)
        for first, second in itertools.pairwise(ordered):
            if first.at + first.outage >= second.at:
                raise ValueError(f"faults overlap: {first} and {second}")
        for action in self.actions:
            if action.name not in ACTIONS:
                raise ValueError(f"unknown action {action.name!r} (one of {ACTIONS})")
            if not 0 <= action.at < self.load_seconds:
                raise ValueError(f"action {action} must happen during the load")
        if [a.name for a in self.actions].count("newsletter") != 1:
            raise ValueError("the schedule sends exactly one newsletter")
        if not any(a.name == "burst" for a in self.actions):
            raise ValueError("the schedule needs at least one rate-limit burst")


def _faults(*rows: tuple[float, str, float]) -> tuple[Fault, ...]:
    return tuple(Fault(at, target, outage) for at, target, outage in rows)


def _actions(*rows: tuple[float, str]) -> tuple[Action, ...]:
    return tuple(Action(at, name) for at, name in rows)


FULL = Profile(
    name="full",
    load_seconds=210,
    faults=_faults(
        (30, "mailer", 10),
        (60, "replica-a", 10),
        (90, "worker", 10),
        (120, "redis", 8),
        (150, "postgres", 8),
    ),
    actions=_actions((4, "burst"), (15, "newsletter"), (185, "burst")),
)

QUICK = Profile(
    name="quick",
    load_seconds=75,
    faults=_faults(
        (12, "mailer", 4),
        (22, "replica-a", 4),
        (32, "worker", 4),
        (42, "redis", 4),
        (52, "postgres", 4),
    ),
    actions=_actions((2, "burst"), (6, "newsletter"), (66, "burst")),
    mail_rate=45.0,
    settle_seconds=60.0,
    readers=3,
    editors=2,
    territories=4,
)


def load_profile(base: Profile, schedule: Path | None) -> Profile:
    """``base``, with the faults, actions and duration of a JSON schedule file if given."""
    if schedule is None:
        profile = base
    else:
        raw = json.loads(schedule.read_text(encoding="utf-8"))
        profile = replace(
            base,
            name=f"{base.name}+{schedule.stem}",
            load_seconds=float(raw.get("load_seconds", base.load_seconds)),
            faults=tuple(Fault(**f) for f in raw.get("faults", [])),
            actions=tuple(Action(**a) for a in raw.get("actions", [])),
        )
    profile.validate()
    return profile


@dataclass
class Timeline:
    """What happened when (seconds from the start of the load), filled in by the run."""

    faults: list[dict] = field(default_factory=list)
    """One per fault: target, killed_at, restarted_at, ready_at."""
    actions: list[dict] = field(default_factory=list)

    def phase_of(self, start: float, end: float | None = None, recovery: float = 5.0) -> str:
        """The phase of a request that ran from ``start`` to ``end``: ``<target> down``
        when it overlapped a fault's outage (SIGKILL to ready again), ``<target>
        recovery`` when it overlapped the ``recovery`` seconds after it (health checks,
        pools reconnecting), else ``steady``; the latest fault wins."""
        end = start if end is None else end
        for fault in sorted(self.faults, key=lambda f: f["killed_at"], reverse=True):
            killed, ready = fault["killed_at"], fault.get("ready_at")
            if end < killed:
                continue
            if ready is None or start < ready:
                return f"{fault['target']} down"
            if start < ready + recovery:
                return f"{fault['target']} recovery"
        return "steady"
