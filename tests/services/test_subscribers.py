"""Subscribers in the domain: signed links, double opt-in, consent proof, export, erasure."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import pytest

from services.errors import BadUserInput
from services.settings import Settings
from services.subscribers import service, signing
from services.subscribers.models import Subscriber, SubscriberStatus

KEY = b"k" * 32


def _consent(source: str = "tests") -> service.Consent:
    return service.Consent(ip="198.51.100.9", source=source, wording_version="v1")


def _address() -> str:
    return f"dom-{uuid.uuid4().hex[:10]}@example.org"


def test_tokens_are_signed_scoped_and_expire():
    now = dt.datetime.now(dt.UTC)
    token = signing.sign(KEY, signing.CONFIRM, 5, 1, expires=now + dt.timedelta(days=7))
    assert signing.verify(KEY, token, signing.CONFIRM, now=now) == (5, 1)
    with pytest.raises(BadUserInput):
        signing.verify(KEY, token, signing.MANAGE, now=now)  # another purpose
    with pytest.raises(BadUserInput):
        signing.verify(b"x" * 32, token, signing.CONFIRM, now=now)  # another secret
    with pytest.raises(BadUserInput):
        signing.verify(KEY, token, signing.CONFIRM, now=now + dt.timedelta(days=8))
    payload, mac = token.split(".")
    with pytest.raises(BadUserInput):
        signing.verify(KEY, payload[:-2] + "AA." + mac, signing.CONFIRM, now=now)


def test_without_a_secret_one_is_generated_per_process_with_a_warning(caplog):
    caplog.set_level(logging.WARNING, "tec.signing")
    signing._process_secret = None
    first = signing.signing_key(Settings(signing_secret=""))
    assert first == signing.signing_key(Settings(signing_secret="")) and len(first) == 32
    assert "TEC_SIGNING_SECRET" in caplog.text
    assert signing.signing_key(Settings(signing_secret="s" * 32)) == b"s" * 32
    with pytest.raises(ValueError, match="TEC_SIGNING_SECRET"):
        Settings(environment="production", signing_secret="")


async def test_double_opt_in_records_consent_and_confirms_once(database):
    made = await service.subscribe(_address(), consent=_consent("page d'accueil"), name="Ana")
    assert made.needs_confirmation and made.subscriber.status is SubscriberStatus.PENDING
    row = made.subscriber
    assert (row.consent_ip, row.consent_source, row.consent_wording_version) == (
        "198.51.100.9",
        "page d'accueil",
        "v1",
    )
    token = service.confirmation_token(KEY, row, at=dt.datetime.now(dt.UTC))
    confirmed = await service.confirm_subscription(KEY, token, ip="203.0.113.1")
    assert confirmed.status is SubscriberStatus.CONFIRMED and confirmed.confirmed_ip
    again = await service.confirm_subscription(KEY, token)
    assert again.confirmed_at == confirmed.confirmed_at
    # Subscribing a confirmed address changes nothing and sends nothing.
    repeat = await service.subscribe(row.email, consent=_consent("ailleurs"))
    assert not repeat.needs_confirmation
    assert (await Subscriber.get(id=row.id)).consent_source == "page d'accueil"


async def test_expired_confirmation_link_is_refused(database):
    made = await service.subscribe(_address(), consent=_consent())
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
    token = service.confirmation_token(KEY, made.subscriber, at=old)
    with pytest.raises(BadUserInput, match="expiré"):
        await service.confirm_subscription(KEY, token)


async def test_unsubscribing_then_subscribing_again_needs_a_new_confirmation(database):
    made = await service.subscribe(_address(), consent=_consent())
    row = made.subscriber
    await Subscriber.filter(id=row.id).update(status=SubscriberStatus.CONFIRMED)
    manage = service.manage_token(KEY, row.id, row.link_generation)
    assert (await service.unsubscribe(KEY, manage)).status is SubscriberStatus.UNSUBSCRIBED
    assert (await service.unsubscribe(KEY, manage)).status is SubscriberStatus.UNSUBSCRIBED
    back = await service.subscribe(row.email, consent=_consent("retour"))
    assert back.needs_confirmation and back.subscriber.status is SubscriberStatus.PENDING


async def test_export_holds_everything_and_erasure_removes_it(database):
    made = await service.subscribe(_address(), consent=_consent(), name="Léa")
    row = made.subscriber
    manage = service.manage_token(KEY, row.id, row.link_generation)
    exported = await service.export_own_data(KEY, manage)
    assert exported["email"] == row.email and exported["name"] == "Léa"
    assert exported["consent"]["wordingVersion"] == "v1" and exported["deliveries"] == []
    await service.erase_own_data(KEY, manage)
    assert not await Subscriber.filter(id=row.id).exists()
    with pytest.raises(BadUserInput):
        await service.export_own_data(KEY, manage)


@pytest.mark.parametrize(
    "email", ["sans-arobase", "a@b", "x@example.org\nBcc: y@evil.example", "a" * 300 + "@x.fr"]
)
async def test_invalid_addresses_are_refused(database, email):
    with pytest.raises(BadUserInput):
        await service.subscribe(email, consent=_consent())
