"""Which events partner sites may follow, and recording them with each write.

Every write of the platform goes through :func:`services.editing.note_change` (its audit
entry and outbox row); that function calls :func:`record_events` in the same transaction,
which turns the change into events and queues one delivery per endpoint that follows
each event. A write that rolls back leaves no event; a committed one cannot lose its own.

The catalogue is derived: every publishable content type of the registry
(:mod:`services.registry`) brings ``<entity>.published``, ``<entity>.updated`` and
``<entity>.unpublished``, decided by whether the object is public before and after the
change (so publishing, accepting a contribution, unpublishing, archiving and deleting
need no rule each). The platform's other events are the few rules of :data:`_RULES`.

Payloads are thin (Standard Webhooks): the event type, when it happened, and which
object, with its slug and title; the receiver asks the GraphQL API for the rest, with its
own rights. Only public content is ever named.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.models import Model

from services import registry
from services.content import ContentStatus
from services.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

PARIS = ZoneInfo("Europe/Paris")
THEME_CURRENT = "theme.current_changed"
THEME_NEXT = "theme.next_changed"
ROUND_RANKING = "round.ranking_changed"
ROUND_CLOSED = "round.closed"
PROJECT_STAGE = "project.stage_changed"

_PUBLICATION_VERBS = {
    "published": "{label} published (or accepted, or its scheduled publication took effect)",
    "updated": "a published {label} changed (fields named in `changedFields`)",
    "unpublished": "a published {label} was withdrawn, archived or deleted",
}


@dataclass(frozen=True)
class EventType:
    name: str
    description: str


_OWN: tuple[EventType, ...] = (
    EventType(THEME_CURRENT, "the theme of the month changed (new month, or an editor's change)"),
    EventType(THEME_NEXT, "the theme announced as next changed"),
    EventType(ROUND_RANKING, "a vote was cast or withdrawn: the round's ranking changed"),
    EventType(ROUND_CLOSED, "a voting round closed (with its winning theme)"),
    EventType(PROJECT_STAGE, "a shared project moved to another stage"),
)


def event_types() -> dict[str, EventType]:
    """``{name: event type}``: the publication events of every publishable content type,
    then the platform's own."""
    found: dict[str, EventType] = {}
    for content in registry.publishable().values():
        label = content.label.lower()
        for verb, text in _PUBLICATION_VERBS.items():
            name = f"{content.entity}.{verb}"
            found[name] = EventType(name, text.format(label=label))
    for event in _OWN:
        found[event.name] = event
    return found


def global_id(type_name: str, pk: int) -> str:
    """The object's global ID in the GraphQL API (``schema.relay.to_global_id``)."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def _ref(row: Model) -> dict[str, Any]:
    type_name = type(row).__name__
    content = registry.of_model(type(row))
    if content is not None:
        type_name = content.name
    ref: dict[str, Any] = {"id": global_id(type_name, row.pk), "typename": type_name}
    for name in ("slug", "title"):
        if hasattr(row, name):
            ref[name] = getattr(row, name)
    return ref


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Pending:
    """An event about to be recorded."""

    type: str
    subject: str
    data: dict[str, Any]
    not_before: dt.datetime | None = None
    withdraw: bool = False
    """Not an event: the subject's announcements still waiting for their time (a
    scheduled publication) are cancelled, the object never having been public."""


def _is_public(status: Any) -> bool:
    return str(getattr(status, "value", status)) == ContentStatus.PUBLISHED.value


def _publication_events(
    content: registry.ContentType, action: str, row: Model, changes: Mapping[str, list[Any]]
) -> list[Pending]:
    status = getattr(row, "status", None)
    before = _is_public(changes["status"][0]) if "status" in changes else _is_public(status)
    after = not action.endswith(".delete") and _is_public(status)
    subject = f"{content.name}:{row.pk}"
    published_at = getattr(row, "published_at", None)
    data = _ref(row)
    if published_at is not None:
        data["publishedAt"] = _iso(published_at)
    later = published_at if published_at is not None and published_at > _now() else None
    if after and not before:
        return [Pending(f"{content.entity}.published", subject, data, later)]
    if after and before:
        changed = sorted(_camel(f) for f in changes if f not in ("version", "updated_at"))
        if not changed:
            return []
        return [
            Pending(f"{content.entity}.updated", subject, {**data, "changedFields": changed}, later)
        ]
    if before and not after:
        was_published_at = (
            _as_datetime(changes["published_at"][0]) if "published_at" in changes else published_at
        )
        if was_published_at is not None and was_published_at > _now():
            return [Pending("", subject, {}, withdraw=True)]
        data.pop("publishedAt", None)
        return [Pending(f"{content.entity}.unpublished", subject, data)]
    return []


def _as_datetime(value: Any) -> dt.datetime | None:
    # The audit diff keeps datetimes as ISO text.
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


async def _ranking(row: Model) -> list[Pending]:
    from services.votes.models import VotingRound

    voting_round = await VotingRound.get(id=row.round_id)  # type: ignore[attr-defined]
    return [Pending(ROUND_RANKING, f"VotingRound:{voting_round.pk}", {"round": _ref(voting_round)})]


async def _closed(row: Model) -> list[Pending]:
    from services.themes.models import Theme

    winner_id = row.winner_id  # type: ignore[attr-defined]
    winner = await Theme.get_or_none(id=winner_id) if winner_id is not None else None
    data = {"round": _ref(row), "winner": _ref(winner) if winner is not None else None}
    return [Pending(ROUND_CLOSED, f"VotingRound:{row.pk}", data)]


async def _stage(row: Model, changes: Mapping[str, list[Any]]) -> list[Pending]:
    from services.projects.models import SharedProject

    if not isinstance(row, SharedProject) or "status" not in changes:
        return []  # memberships change status under `project.*` actions too
    before, after = (str(getattr(v, "value", v)) for v in changes["status"])
    if after == "DRAFT" or (before == "DRAFT" and after == "CANCELLED"):
        return []  # a draft project is not public, nor one cancelled before it was
    data = {"project": _ref(row), "from": before, "to": after}
    return [Pending(PROJECT_STAGE, f"SharedProject:{row.pk}", data)]


Rule = Callable[[Model, Mapping[str, list[Any]]], Awaitable[list[Pending]]]

_RULES: tuple[tuple[re.Pattern[str], Rule], ...] = (
    (re.compile(r"vote\.(cast|withdraw)$"), lambda row, _: _ranking(row)),
    (re.compile(r"round\.close$"), lambda row, _: _closed(row)),
    (re.compile(r"project\.\w+$"), _stage),
)
"""The platform's events that are not publication: ``(audit action, rule)``."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def theme_state_events(*, now: dt.datetime) -> list[Pending]:
    """The theme of the month and the next theme, as an anonymous reader sees them at
    ``now``, when either differs from what the last event of its kind said."""
    from services.themes.service import get_current_theme, get_next_theme
    from services.viewer import Viewer

    public = Viewer(as_of=now)
    today = now.astimezone(PARIS).date()
    found: list[Pending] = []
    for kind, theme in (
        (THEME_CURRENT, await get_current_theme(public, today=today)),
        (THEME_NEXT, await get_next_theme(public, today=today)),
    ):
        data = {"theme": _ref(theme) if theme is not None else None}
        last = await WebhookEvent.filter(type=kind).order_by("-id").first()
        said = json.loads(last.body)["data"] if last is not None else {"theme": None}
        if (said.get("theme") or {}).get("id") != (data["theme"] or {}).get("id"):
            found.append(Pending(kind, kind, data))
    return found


async def derive_events(action: str, row: Model, changes: Mapping[str, list[Any]]) -> list[Pending]:
    """The events a noted change makes (pure reading: nothing is written)."""
    found: list[Pending] = []
    content = registry.of_model(type(row))
    if content is not None and content.publishable:
        found += _publication_events(content, action, row, changes)
    for pattern, rule in _RULES:
        if pattern.match(action):
            found += await rule(row, changes)
    if content is not None and content.entity == "theme":
        found += await theme_state_events(now=_now())
    return found


async def record_events(action: str, row: Model, changes: Mapping[str, list[Any]]) -> int:
    """Record the events of a change and queue their deliveries; call it inside the
    transaction of the change. Returns how many deliveries were queued."""
    return await queue_events(await derive_events(action, row, changes), now=_now())


async def queue_events(events: list[Pending], *, now: dt.datetime) -> int:
    """Record ``events`` and one delivery per enabled endpoint following each. Events of
    the theme's state are kept even when nobody follows them: they are what the next
    comparison starts from."""
    if not events:
        return 0
    endpoints = await WebhookEndpoint.filter(enabled=True).values_list("id", "events")
    queued = 0
    for pending in events:
        if pending.withdraw:
            await WebhookDelivery.filter(
                subject=pending.subject,
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at__gt=now,
            ).delete()
            continue
        followers = [pk for pk, wanted in endpoints if pending.type in (wanted or [])]
        if not followers and pending.type not in (THEME_CURRENT, THEME_NEXT):
            continue
        body = json.dumps(
            {"type": pending.type, "timestamp": _iso(now), "data": pending.data},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        event = await WebhookEvent.create(
            uid=f"msg_{secrets.token_hex(12)}",
            type=pending.type,
            subject=pending.subject,
            body=body,
            occurred_at=now,
        )
        due = pending.not_before or now
        await WebhookDelivery.bulk_create(
            [
                WebhookDelivery(
                    event_id=event.pk,
                    endpoint_id=pk,
                    subject=pending.subject,
                    status=DeliveryStatus.PENDING,
                    next_attempt_at=due,
                    due_at=due,
                    created_at=now,
                )
                for pk in followers
            ]
        )
        queued += len(followers)
    return queued
