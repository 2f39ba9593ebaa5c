"""Subscribing without an account: double opt-in with proof of consent, preferences,
one-click unsubscribe, export and erasure of one subscriber's data.

A subscription request never changes a known address: its details wait in a
:class:`SubscriptionRequest` until its own confirmation link is followed, and the answer is
the same whatever the address's state. Each address receives a few confirmation e-mails
per period at most (:class:`ConfirmationThrottle`, counted in the database).

Self-service operations take a signed token (the links of the e-mails); editors act by id.
E-mail addresses are readable by editors only (``subscriber.read``), never by partner keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from services.accounts.service import normalize_email
from services.audit.service import record
from services.editing import check_exist, now, write_transaction
from services.errors import BadUserInput, NotFound, Problems
from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.policy import authorize, is_allowed
from services.settings import Settings
from services.subscribers import signing
from services.subscribers.models import (
    Subscriber,
    SubscriberAudience,
    SubscriberStatus,
    SubscriberTheme,
    SubscriptionRequest,
)
from services.subscribers.signing import SigningKeys
from services.themes.models import Theme
from services.validation import clean_text
from services.viewer import Viewer

CONFIRMATION_TTL = dt.timedelta(days=7)
_DAY = dt.timedelta(days=1)
# Requests are kept while their link may be followed and the daily throttle counts them.
REQUEST_RETENTION = max(CONFIRMATION_TTL, _DAY)
ORDERING = Ordering((SortKey("id", True, "int"),))
NAME_MAX = 200
_GONE = (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED)


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


@dataclass(frozen=True)
class ConfirmationThrottle:
    """Confirmation e-mails one address may receive: none sooner than ``interval`` after
    the previous one, ``daily_limit`` per 24 hours at most."""

    interval: dt.timedelta = dt.timedelta(minutes=10)
    daily_limit: int = 5

    @classmethod
    def of(cls, settings: Settings) -> ConfirmationThrottle:
        return cls(
            interval=dt.timedelta(seconds=settings.newsletters.confirmation_mail_interval),
            daily_limit=settings.newsletters.confirmation_mail_daily_limit,
        )


@dataclass(frozen=True)
class Subscription:
    """Result of :func:`subscribe`: the request whose confirmation e-mail must be sent, or
    None when nothing is to be sent (address confirmed already, or throttled)."""

    subscriber: Subscriber | None
    request: SubscriptionRequest | None

    @property
    def needs_confirmation(self) -> bool:
        return self.request is not None


def clean_name(value: str) -> str:
    """A display name safe for a ``To:`` header: CR/LF (header injection) and other control
    characters are refused, not stripped."""
    if "\r" in value or "\n" in value:
        raise BadUserInput("« name » ne peut pas contenir de retour à la ligne.", field="name")
    return clean_text(value, field="name", max_length=NAME_MAX, required=False)


def _invalid_link() -> BadUserInput:
    return BadUserInput("Lien invalide ou expiré.", field="token")


async def subscribe(
    email: str,
    *,
    consent: Consent,
    name: str = "",
    audience: SubscriberAudience = SubscriberAudience.CITIZEN,
    theme_ids: Sequence[int] = (),
    throttle: ConfirmationThrottle = ConfirmationThrottle(),
    at: dt.datetime | None = None,
) -> Subscription:
    """Ask to subscribe an address (anyone, no account).

    A new address is recorded as pending with these details. A known one is left as it
    is: the details wait in a request that its own confirmation link applies. Nothing is
    to be sent to an address confirmed already, nor beyond ``throttle``; callers answer
    the same in every case, so the answer does not tell whether the address was known."""
    problems = Problems()
    checked_address = problems.check(partial(normalize_email, email))
    checked_name = problems.check(partial(clean_name, name))
    checked_source = problems.check(
        partial(clean_text, consent.source or "", field="source", max_length=200, required=False)
    )
    checked_themes = await problems.check_async(
        partial(check_exist, Theme, theme_ids, field="themes")
    )
    problems.raise_any()
    assert checked_address is not None and checked_themes is not None
    address, name, source = checked_address, str(checked_name), str(checked_source)
    themes = checked_themes
    at = at or now()
    details: dict[str, Any] = {
        "name": name,
        "audience": audience,
        "consent_at": at,
        "consent_ip": consent.ip[:45],
        "consent_source": source,
        "consent_wording_version": consent.wording_version[:40],
    }
    await SubscriptionRequest.filter(consent_at__lt=at - REQUEST_RETENTION).delete()
    created = await _subscribe_new(address, details, themes)
    if created is not None:
        return created
    async with write_transaction():
        # The lock serialises the requests of one address: the throttle holds across
        # processes.
        found = await _locked(email=address)
        if (
            found is None
            or found.status is SubscriberStatus.CONFIRMED
            or await _throttled(found.id, throttle, at)
        ):
            return Subscription(found, None)
        request = await SubscriptionRequest.create(
            subscriber_id=found.id,
            theme_ids=themes,
            link_generation=found.link_generation,
            **details,
        )
        await record(None, "subscriber.request", found, changes={"source": [None, source]})
    return Subscription(found, request)


async def _subscribe_new(
    address: str, details: dict[str, Any], themes: list[int]
) -> Subscription | None:
    """A pending subscriber with its first request, or None when the address is known
    (possibly since a moment ago: another process created it first)."""
    if await Subscriber.filter(email=address).exists():
        return None
    try:
        async with in_transaction():
            found = await Subscriber.create(email=address, **details)
            await _replace_themes(found.id, themes)
            request = await SubscriptionRequest.create(
                subscriber_id=found.id,
                theme_ids=themes,
                link_generation=found.link_generation,
                **details,
            )
            await record(
                None,
                "subscriber.subscribe",
                found,
                changes={"source": [None, details["consent_source"]]},
            )
    except IntegrityError:
        return None
    return Subscription(found, request)


async def _locked(**where: Any) -> Subscriber | None:
    """The subscriber matching ``where``, locked until the transaction ends. The lock is
    taken with a write that changes nothing (no ``updated_at`` either), where PostgreSQL
    would accept ``SELECT … FOR UPDATE``: SQLite has no row locks, and there a transaction
    that writes before it reads is the only writer until it ends, in every process."""
    await Subscriber.filter(**where).update(link_generation=F("link_generation"))
    return await Subscriber.filter(**where).first()


async def _throttled(subscriber_id: int, throttle: ConfirmationThrottle, at: dt.datetime) -> bool:
    sent = await SubscriptionRequest.filter(
        subscriber_id=subscriber_id, consent_at__gt=at - _DAY
    ).values_list("consent_at", flat=True)
    return len(sent) >= throttle.daily_limit or any(t > at - throttle.interval for t in sent)


def confirmation_token(keys: SigningKeys, request: SubscriptionRequest) -> str:
    """The signed token of a request's confirmation link, valid 7 days from the request."""
    return signing.sign(
        keys,
        signing.CONFIRM,
        request.id,
        request.link_generation,
        expires=request.consent_at + CONFIRMATION_TTL,
    )


def manage_token(keys: SigningKeys, subscriber_id: int, generation: int) -> str:
    """The signed token of the unsubscribe and preferences links (no expiry)."""
    return signing.sign(keys, signing.MANAGE, subscriber_id, generation, expires=None)


async def _by_token(keys: SigningKeys, token: str, purpose: str) -> Subscriber:
    subscriber_id, generation = signing.verify(keys, token, purpose, now=now())
    found = await Subscriber.filter(id=subscriber_id, link_generation=generation).first()
    if found is None:
        raise _invalid_link()
    return found


def _waits_for_confirmation(
    found: Subscriber, request: SubscriptionRequest, generation: int
) -> bool:
    """True when ``request`` may be confirmed; False when it is the request the subscriber
    confirmed last (its link followed again); ``BAD_USER_INPUT`` when a later request, an
    unsubscription or a newer confirmation made the link obsolete."""
    if generation == request.link_generation:
        if request.confirmed_at is None and found.link_generation == generation:
            return True
        if (
            request.confirmed_at is not None
            and found.status is SubscriberStatus.CONFIRMED
            and found.link_generation == generation + 1
        ):
            return False
    raise _invalid_link()


async def _confirmation_request(
    keys: SigningKeys, token: str, *, at: dt.datetime
) -> tuple[SubscriptionRequest, int]:
    request_id, generation = signing.verify(keys, token, signing.CONFIRM, now=at)
    request = await SubscriptionRequest.filter(id=request_id).first()
    if request is None:
        raise _invalid_link()
    return request, generation


async def check_confirmation_link(
    keys: SigningKeys, token: str, *, at: dt.datetime | None = None
) -> bool:
    """Whether a confirmation link waits to be confirmed (True) or was followed already
    (False); ``BAD_USER_INPUT`` when it can no longer be. Changes nothing."""
    request, generation = await _confirmation_request(keys, token, at=at or now())
    found = await Subscriber.filter(id=request.subscriber_id).first()  # type: ignore[attr-defined]
    if found is None:
        raise _invalid_link()
    return _waits_for_confirmation(found, request, generation)


async def confirm_subscription(
    keys: SigningKeys, token: str, *, ip: str = "", at: dt.datetime | None = None
) -> Subscriber:
    """Follow a confirmation link: its request's name, audience, themes and proof of
    consent become the subscriber's, who receives issues from now on. Every other link sent
    to the address before stops working (the generation moves on); following this one
    again changes nothing."""
    at = at or now()
    request, generation = await _confirmation_request(keys, token, at=at)
    async with write_transaction():
        found = await _locked(id=request.subscriber_id)  # type: ignore[attr-defined]
        # Read again under the lock: a concurrent confirmation may have just used it.
        current = await SubscriptionRequest.filter(id=request.id).first()
        if found is None or current is None:
            raise _invalid_link()
        request = current
        if not _waits_for_confirmation(found, request, generation):
            return found
        themes = await Theme.filter(id__in=list(request.theme_ids)).values_list("id", flat=True)
        found.update_from_dict(
            {
                "name": request.name,
                "audience": request.audience,
                "consent_at": request.consent_at,
                "consent_ip": request.consent_ip,
                "consent_source": request.consent_source,
                "consent_wording_version": request.consent_wording_version,
                "status": SubscriberStatus.CONFIRMED,
                "confirmed_at": at,
                "confirmed_ip": ip[:45],
                "unsubscribed_at": None,
                "link_generation": found.link_generation + 1,
            }
        )
        await found.save()
        request.confirmed_at = at
        await request.save(update_fields=["confirmed_at", "updated_at"])
        await _replace_themes(found.id, themes)
        await record(None, "subscriber.confirm", found)
    return found


async def get_subscriber_by_token(keys: SigningKeys, token: str) -> Subscriber:
    """The subscriber of a manage link (unsubscribe, preferences)."""
    return await _by_token(keys, token, signing.MANAGE)


async def _unsubscribe_target(
    keys: SigningKeys, token: str, *, lock: bool
) -> tuple[Subscriber, bool]:
    """The subscriber of a manage link, and whether the link is current. An earlier link of
    an address unsubscribed since (or bounced) is accepted as not current: following it
    again changes nothing. ``BAD_USER_INPUT`` otherwise."""
    subscriber_id, generation = signing.verify(keys, token, signing.MANAGE, now=now())
    found = await (
        _locked(id=subscriber_id) if lock else Subscriber.filter(id=subscriber_id).first()
    )
    if found is None:
        raise _invalid_link()
    if found.link_generation == generation:
        return found, True
    if found.link_generation > generation and found.status in _GONE:
        return found, False
    raise _invalid_link()


async def check_unsubscribe_link(keys: SigningKeys, token: str) -> Subscriber:
    """The subscriber an unsubscribe link is for; ``BAD_USER_INPUT`` unless
    :func:`unsubscribe` would accept it. Changes nothing."""
    found, _ = await _unsubscribe_target(keys, token, lock=False)
    return found


async def unsubscribe(
    keys: SigningKeys, token: str, *, at: dt.datetime | None = None
) -> Subscriber:
    """One-click unsubscribe (RFC 8058): queued messages are not sent, and every link sent
    to the address before stops working, pending requests' included. Idempotent: the same
    link followed again, or an earlier one of the address, changes nothing."""
    async with write_transaction():
        found, current = await _unsubscribe_target(keys, token, lock=True)
        if not current:
            return found
        found.status = SubscriberStatus.UNSUBSCRIBED
        found.unsubscribed_at = at or now()
        found.link_generation += 1
        await found.save()
        await record(None, "subscriber.unsubscribe", found)
    return found


async def update_preferences(
    keys: SigningKeys,
    token: str,
    *,
    audience: SubscriberAudience | None = None,
    theme_ids: Sequence[int] | None = None,
    name: str | None = None,
) -> Subscriber:
    """Change what a subscriber follows (omitted arguments are left as they are). A bad
    link and bad preferences are refused together."""
    problems = Problems()
    subscriber = await problems.check_async(partial(_by_token, keys, token, signing.MANAGE))
    themes = None
    if theme_ids is not None:
        themes = await problems.check_async(partial(check_exist, Theme, theme_ids, field="themes"))
    cleaned_name = problems.check(partial(clean_name, name)) if name is not None else None
    problems.raise_any()
    assert subscriber is not None
    found = subscriber
    async with write_transaction():
        if audience is not None:
            found.audience = audience
        if cleaned_name is not None:
            found.name = cleaned_name
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
    requests = await SubscriptionRequest.filter(subscriber_id=subscriber.id).order_by("id")
    wanted = {t for r in requests for t in r.theme_ids}
    slugs = (
        dict(await Theme.filter(id__in=list(wanted)).values_list("id", "slug")) if wanted else {}
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
        "requests": [
            {
                "at": stamp(r.consent_at),
                "ip": r.consent_ip,
                "source": r.consent_source,
                "wordingVersion": r.consent_wording_version,
                "name": r.name,
                "audience": r.audience.value,
                "themes": sorted(slugs[t] for t in r.theme_ids if t in slugs),
                "confirmedAt": stamp(r.confirmed_at),
            }
            for r in requests
        ],
    }


async def export_own_data(keys: SigningKeys, token: str) -> dict[str, Any]:
    """Export through a manage link (the subscriber themselves)."""
    return await export_subscriber_data(await _by_token(keys, token, signing.MANAGE))


async def erase_own_data(keys: SigningKeys, token: str) -> None:
    """Erasure through a manage link: the row, its themes, requests and queue rows are
    deleted."""
    await _erase(await _by_token(keys, token, signing.MANAGE), viewer=None)


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


async def get_readable_subscribers_by_ids(
    viewer: Viewer, ids: Sequence[int]
) -> dict[int, Subscriber]:
    """The subscribers among ``ids``, for those who may read subscribers (none otherwise)."""
    if not is_allowed(viewer, "subscriber.read"):
        return {}
    return {s.id: s for s in await Subscriber.filter(id__in=list(ids))}


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
