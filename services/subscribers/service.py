"""Subscribing without an account: double opt-in with proof of consent, preferences,
one-click unsubscribe, export and erasure of one subscriber's data.

Self-service operations take a signed token (the links of the e-mails); editors act by id.
E-mail addresses are readable by editors only (``subscriber.read``), never by partner keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.expressions import Q

from services.accounts.service import normalize_email
from services.audit.service import record
from services.editing import check_exist, now, write_transaction
from services.errors import BadUserInput, NotFound
from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.policy import authorize
from services.subscribers import signing
from services.subscribers.models import (
    Subscriber,
    SubscriberAudience,
    SubscriberStatus,
    SubscriberTheme,
)
from services.themes.models import Theme
from services.validation import clean_text
from services.viewer import Viewer

CONFIRMATION_TTL = dt.timedelta(days=7)
ORDERING = Ordering((SortKey("id", True, "int"),))
NAME_MAX = 200


@dataclass(frozen=True)
class Segment:
    """Who an issue goes to: confirmed subscribers of these audiences (all when empty)
    following at least one of these themes (everyone when empty)."""

    audiences: Sequence[str] = ()
    theme_ids: Sequence[int] = ()


@dataclass(frozen=True)
class Consent:
    """Proof of consent recorded at subscription."""

    ip: str
    source: str
    wording_version: str


@dataclass
class Subscription:
    """Result of :func:`subscribe`: the subscriber and whether a confirmation must be sent."""

    subscriber: Subscriber
    needs_confirmation: bool
    theme_ids: list[int] = field(default_factory=list)


def clean_name(value: str) -> str:
    """A display name safe for a ``To:`` header: CR/LF (header injection) and other control
    characters are refused, not stripped."""
    if "\r" in value or "\n" in value:
        raise BadUserInput("« name » ne peut pas contenir de retour à la ligne.", field="name")
    return clean_text(value, field="name", max_length=NAME_MAX, required=False)


async def subscribe(
    email: str,
    *,
    consent: Consent,
    name: str = "",
    audience: SubscriberAudience = SubscriberAudience.CITIZEN,
    theme_ids: Sequence[int] = (),
) -> Subscription:
    """Record a subscription waiting for confirmation (anyone, no account).

    An address already confirmed stays as it is (nothing to confirm again, and the answer
    does not tell whether the address was known); otherwise the proof of consent is
    replaced by this one and a confirmation link must be sent."""
    address = normalize_email(email)
    name = clean_name(name)
    source = clean_text(consent.source or "", field="source", max_length=200, required=False)
    themes = await check_exist(Theme, theme_ids, field="themes")
    async with write_transaction():
        found = await Subscriber.filter(email=address).select_for_update().first()
        if found is not None and found.status is SubscriberStatus.CONFIRMED:
            return Subscription(found, needs_confirmation=False)
        values: dict[str, Any] = {
            "name": name,
            "audience": audience,
            "status": SubscriberStatus.PENDING,
            "consent_at": now(),
            "consent_ip": consent.ip[:45],
            "consent_source": source,
            "consent_wording_version": consent.wording_version[:40],
            "confirmed_at": None,
            "confirmed_ip": None,
        }
        if found is None:
            found = await Subscriber.create(email=address, **values)
        else:
            found.update_from_dict(values)
            await found.save()
        await _replace_themes(found.id, themes)
        await record(None, "subscriber.subscribe", found, changes={"source": [None, source]})
    return Subscription(found, needs_confirmation=True, theme_ids=themes)


def confirmation_token(key: bytes, subscriber: Subscriber, *, at: dt.datetime) -> str:
    """The signed, expiring token of the confirmation link."""
    return signing.sign(
        key,
        signing.CONFIRM,
        subscriber.id,
        subscriber.link_generation,
        expires=at + CONFIRMATION_TTL,
    )


def manage_token(key: bytes, subscriber_id: int, generation: int) -> str:
    """The signed token of the unsubscribe and preferences links (no expiry)."""
    return signing.sign(key, signing.MANAGE, subscriber_id, generation, expires=None)


async def _by_token(key: bytes, token: str, purpose: str) -> Subscriber:
    subscriber_id, generation = signing.verify(key, token, purpose, now=now())
    found = await Subscriber.filter(id=subscriber_id, link_generation=generation).first()
    if found is None:
        raise BadUserInput("Lien invalide ou expiré.", field="token")
    return found


async def confirm_subscription(key: bytes, token: str, *, ip: str = "") -> Subscriber:
    """Follow the confirmation link: the subscriber receives issues from now on.
    Following it again changes nothing."""
    found = await _by_token(key, token, signing.CONFIRM)
    if found.status is SubscriberStatus.CONFIRMED:
        return found
    async with write_transaction():
        found.status = SubscriberStatus.CONFIRMED
        found.confirmed_at = now()
        found.confirmed_ip = ip[:45]
        found.unsubscribed_at = None
        await found.save()
        await record(None, "subscriber.confirm", found)
    return found


async def get_subscriber_by_token(key: bytes, token: str) -> Subscriber:
    """The subscriber of a manage link (unsubscribe, preferences)."""
    return await _by_token(key, token, signing.MANAGE)


async def unsubscribe(key: bytes, token: str) -> Subscriber:
    """One-click unsubscribe (RFC 8058); idempotent. Queued messages are not sent."""
    found = await _by_token(key, token, signing.MANAGE)
    return await _unsubscribe(found)


async def _unsubscribe(found: Subscriber) -> Subscriber:
    if found.status in (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED):
        return found
    async with write_transaction():
        found.status = SubscriberStatus.UNSUBSCRIBED
        found.unsubscribed_at = now()
        await found.save()
        await record(None, "subscriber.unsubscribe", found)
    return found


async def update_preferences(
    key: bytes,
    token: str,
    *,
    audience: SubscriberAudience | None = None,
    theme_ids: Sequence[int] | None = None,
    name: str | None = None,
) -> Subscriber:
    """Change what a subscriber follows (omitted arguments are left as they are)."""
    found = await _by_token(key, token, signing.MANAGE)
    themes = await check_exist(Theme, theme_ids, field="themes") if theme_ids is not None else None
    async with write_transaction():
        if audience is not None:
            found.audience = audience
        if name is not None:
            found.name = clean_name(name)
        await found.save()
        if themes is not None:
            await _replace_themes(found.id, themes)
        await record(None, "subscriber.preferences", found)
    return found


async def _replace_themes(subscriber_id: int, theme_ids: Sequence[int]) -> None:
    await SubscriberTheme.filter(subscriber_id=subscriber_id).delete()
    await SubscriberTheme.bulk_create(
        [SubscriberTheme(subscriber_id=subscriber_id, theme_id=t) for t in theme_ids]
    )


async def get_theme_ids(subscriber_ids: Sequence[int]) -> dict[int, list[int]]:
    """Themes followed, per subscriber (one statement)."""
    rows = await SubscriberTheme.filter(subscriber_id__in=list(subscriber_ids)).values_list(
        "subscriber_id", "theme_id"
    )
    found: dict[int, list[int]] = {}
    for subscriber_id, theme_id in rows:
        found.setdefault(subscriber_id, []).append(theme_id)
    return found


async def export_subscriber_data(subscriber: Subscriber) -> dict[str, Any]:
    """Everything kept about one subscriber (right of access), JSON-ready."""
    from services.newsletters.models import Delivery

    themes = await Theme.filter(subscriber_links__subscriber_id=subscriber.id).values_list(
        "slug", flat=True
    )
    deliveries = await Delivery.filter(subscriber_id=subscriber.id).values(
        "issue__slug", "status", "sent_at", "attempts", "last_error"
    )

    def stamp(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "status": subscriber.status.value,
        "audience": subscriber.audience.value,
        "themes": sorted(themes),
        "consent": {
            "at": stamp(subscriber.consent_at),
            "ip": subscriber.consent_ip,
            "source": subscriber.consent_source,
            "wordingVersion": subscriber.consent_wording_version,
            "confirmedAt": stamp(subscriber.confirmed_at),
            "confirmedIp": subscriber.confirmed_ip,
        },
        "unsubscribedAt": stamp(subscriber.unsubscribed_at),
        "bouncedAt": stamp(subscriber.bounced_at),
        "deliveries": [
            {
                "issue": d["issue__slug"],
                "status": str(getattr(d["status"], "value", d["status"])),
                "sentAt": stamp(d["sent_at"]),
                "attempts": d["attempts"],
            }
            for d in deliveries
        ],
    }


async def export_own_data(key: bytes, token: str) -> dict[str, Any]:
    """Export through a manage link (the subscriber themselves)."""
    return await export_subscriber_data(await _by_token(key, token, signing.MANAGE))


async def erase_own_data(key: bytes, token: str) -> None:
    """Erasure through a manage link: the row, its themes and its queue rows are deleted."""
    await _erase(await _by_token(key, token, signing.MANAGE), viewer=None)


async def _erase(found: Subscriber, *, viewer: Viewer | None) -> None:
    async with write_transaction():
        # The audit entry keeps no address: only that subscriber #id was erased.
        await record(viewer, "subscriber.erase", found)
        await found.delete()


# --- Editors ------------------------------------------------------------------------------


async def get_subscriber(viewer: Viewer, subscriber_id: int) -> Subscriber:
    authorize(viewer, "subscriber.read")
    found = await Subscriber.filter(id=subscriber_id).first()
    if found is None:
        raise NotFound("Abonné·e introuvable.", field="id")
    return found


async def list_subscribers(
    viewer: Viewer, *, statuses: Sequence[str] = (), page: PageRequest
) -> Page[Subscriber]:
    """Subscribers, newest first (editors)."""
    authorize(viewer, "subscriber.read")
    query = Subscriber.all()
    if statuses:
        query = query.filter(status__in=list(statuses))
    return await paginate(query, ORDERING, page)


async def export_subscriber(viewer: Viewer, subscriber_id: int) -> dict[str, Any]:
    """Export one subscriber's data on their behalf (editors)."""
    authorize(viewer, "subscriber.manage")
    return await export_subscriber_data(await get_subscriber(viewer, subscriber_id))


async def erase_subscriber(viewer: Viewer, subscriber_id: int) -> None:
    """Erase one subscriber on their behalf (editors)."""
    authorize(viewer, "subscriber.manage")
    await _erase(await get_subscriber(viewer, subscriber_id), viewer=viewer)


def segment_condition(segment: Segment) -> Q:
    """Confirmed subscribers of ``segment`` (a Tortoise condition on Subscriber)."""
    condition = Q(status=SubscriberStatus.CONFIRMED)
    if segment.audiences:
        condition &= Q(audience__in=list(segment.audiences))
    if segment.theme_ids:
        condition &= Q(theme_links__theme_id__in=list(segment.theme_ids))
    return condition


async def count_recipients(segment: Segment) -> dict[str, int]:
    """How many confirmed subscribers the segment reaches, per audience."""
    rows = (
        await Subscriber.filter(segment_condition(segment)).distinct().values_list("id", "audience")
    )
    counts = {a.value: 0 for a in SubscriberAudience}
    for _, audience in rows:
        counts[str(getattr(audience, "value", audience))] += 1
    return counts


async def list_recipients(segment: Segment, *, limit: int) -> list[Subscriber]:
    """The first ``limit`` confirmed subscribers of the segment, by id (a preview)."""
    return (
        await Subscriber.filter(segment_condition(segment)).distinct().order_by("id").limit(limit)
    )


async def mark_bounced(subscriber_id: int, reason: str) -> None:
    """A permanent SMTP refusal: never sent to again (until they subscribe anew)."""
    await Subscriber.filter(id=subscriber_id).update(
        status=SubscriberStatus.BOUNCED, bounced_at=now(), bounce_reason=reason[:500]
    )


def parse_audience(value: str) -> SubscriberAudience:
    try:
        return SubscriberAudience(value)
    except ValueError:
        raise BadUserInput(f"Public inconnu : « {value} ».", field="audience") from None
