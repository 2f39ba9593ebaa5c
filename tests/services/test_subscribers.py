"""Subscribers in the domain: signed links and their secrets, double opt-in, requests that
change nothing until confirmed, the per-address throttle, link generations, export,
erasure."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from services.errors import BadUserInput
from services.settings import Settings
from services.subscribers import service, signing
from services.subscribers.models import (
    Subscriber,
    SubscriberAudience,
    SubscriberStatus,
    SubscriberTheme,
    SubscriptionRequest,
)
from services.subscribers.signing import SigningKeys
from services.themes.models import Theme
from tests.unique import unique_tag

pytestmark = pytest.mark.heavy

KEYS = SigningKeys.of("k" * 32)
HOUR = dt.timedelta(hours=1)


def _consent(source: str = "tests", ip: str = "198.51.100.9") -> service.Consent:
    return service.Consent(ip=ip, source=source, wording_version="v1")


def _address() -> str:
    return f"dom-{unique_tag(10)}@example.org"


async def _theme() -> Theme:
    tag = unique_tag(10)
    return await Theme.create(slug=f"segment-{tag}", title=f"Segment {tag}")


@pytest.fixture(scope="module", autouse=True)
async def _remove_themes(database):
    """The themes made here are public at once: the theme list tests see the demo data."""
    yield
    await Theme.filter(slug__startswith="segment-").delete()


async def _stored(subscriber_id: int) -> dict[str, Any]:
    """What is kept about a subscriber (its row and its themes)."""
    row = await Subscriber.get(id=subscriber_id)
    themes = await SubscriberTheme.filter(subscriber_id=subscriber_id).values_list(
        "theme_id", flat=True
    )
    return {
        "name": row.name,
        "audience": row.audience,
        "status": row.status,
        "consent": (row.consent_at, row.consent_ip, row.consent_source),
        "wording": row.consent_wording_version,
        "confirmed": (row.confirmed_at, row.confirmed_ip),
        "generation": row.link_generation,
        "themes": sorted(themes),
    }


async def _confirmed(address: str, *, at: dt.datetime, **details: Any) -> Subscriber:
    made = await service.subscribe(address, consent=_consent(), at=at, **details)
    assert made.request is not None
    return await service.confirm_subscription(
        KEYS, service.confirmation_token(KEYS, made.request), at=at
    )


# --- Signed links and their secrets -------------------------------------------------------


def test_tokens_are_signed_scoped_and_expire():
    now = dt.datetime.now(dt.UTC)
    token = signing.sign(KEYS, signing.CONFIRM, 5, 1, expires=now + dt.timedelta(days=7))
    assert signing.verify(KEYS, token, signing.CONFIRM, now=now) == (5, 1)
    with pytest.raises(BadUserInput):
        signing.verify(KEYS, token, signing.MANAGE, now=now)  # another purpose
    with pytest.raises(BadUserInput):
        signing.verify(SigningKeys.of("x" * 32), token, signing.CONFIRM, now=now)
    with pytest.raises(BadUserInput):
        signing.verify(KEYS, token, signing.CONFIRM, now=now + dt.timedelta(days=8))
    payload, mac = token.split(".")
    with pytest.raises(BadUserInput):
        signing.verify(KEYS, payload[:-2] + "AA." + mac, signing.CONFIRM, now=now)


def test_the_first_secret_signs_and_every_one_verifies_so_a_secret_can_be_rotated():
    old, new = "o" * 32, "n" * 32
    now = dt.datetime.now(dt.UTC)
    sent = service.manage_token(signing.signing_keys(Settings(signing_secret=old)), 7, 1)
    rotated = signing.signing_keys(Settings(signing_secret=f"{new},{old}"))
    assert signing.verify(rotated, sent, signing.MANAGE, now=now) == (7, 1)
    fresh = service.manage_token(rotated, 7, 1)
    assert fresh != sent
    assert signing.verify(SigningKeys.of(new), fresh, signing.MANAGE, now=now) == (7, 1)
    # Once the old secret is removed, the links it signed are refused.
    removed = signing.signing_keys(Settings(signing_secret=new))
    with pytest.raises(BadUserInput, match="invalide"):
        signing.verify(removed, sent, signing.MANAGE, now=now)


def test_the_secrets_setting_is_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("TEC_SIGNING_SECRET", f" {'a' * 32} , {'b' * 32},")
    assert Settings().security.signing_secret == ["a" * 32, "b" * 32]
    assert signing.signing_keys(Settings()).keys == (b"a" * 32, b"b" * 32)
    assert Settings(
        environment="production", smtp_host="relay.example"
    ).security.signing_secret == [
        "a" * 32,
        "b" * 32,
    ]
    monkeypatch.setenv("TEC_SIGNING_SECRET", f"{'a' * 32},short")
    with pytest.raises(ValueError, match="TEC_SIGNING_SECRET"):
        Settings(environment="production")
    monkeypatch.delenv("TEC_SIGNING_SECRET")
    with pytest.raises(ValueError, match="TEC_SIGNING_SECRET"):
        Settings(environment="production")


def test_without_a_secret_development_keeps_one_in_a_private_file(tmp_path, caplog):
    caplog.set_level(logging.WARNING, "tec.signing")
    path = tmp_path / "var" / "signing-secret"
    settings = Settings(signing_secret=[], signing_secret_file=path)
    assert not path.exists()  # nothing is made before it is needed
    first = signing.signing_keys(settings)
    assert path.stat().st_mode & 0o777 == 0o600
    assert first.keys == (path.read_text().strip().encode(),) and len(first.signer) == 64
    assert signing.signing_keys(settings) == first
    assert "TEC_SIGNING_SECRET" in caplog.text
    assert [p.name for p in path.parent.iterdir()] == ["signing-secret"]  # no leftover


_SIGN = (
    "from services.settings import Settings; from services.subscribers import service, signing;"
    "print(service.manage_token(signing.signing_keys(Settings()), 7, 3))"
)
_VERIFY = (
    "import datetime as dt, sys; from services.settings import Settings;"
    "from services.subscribers import signing;"
    "keys = signing.signing_keys(Settings());"
    "print(signing.verify(keys, sys.argv[1], signing.MANAGE, now=dt.datetime.now(dt.UTC)))"
)
# Each process says it is ready, waits for the « go » file, then asks for the secret: the
# processes all create it at the same moment.
_RACE = textwrap.dedent(
    """
    import hashlib, os, sys, time
    from pathlib import Path
    from services.settings import Settings
    from services.subscribers import signing

    settings = Settings()
    Path(f"ready-{sys.argv[1]}").touch()
    while not os.path.exists("go"):
        time.sleep(0.001)
    print(hashlib.sha256(signing.signing_keys(settings).signer).hexdigest())
    """
)


def _environment(repo_root: Path) -> dict[str, str]:
    """This environment without any TEC_ setting (no TEC_SIGNING_SECRET)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEC_")}
    return {**env, "PYTHONPATH": str(repo_root)}


def _python(code: str, *args: str, cwd: Path, repo_root: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env=_environment(repo_root),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _at_once(code: str, args: list[list[str]], *, cwd: Path, repo_root: Path) -> list[str]:
    """Run one process per argument list, release them together, return their outputs."""
    started = [
        subprocess.Popen(
            [sys.executable, "-c", code, *a, str(n)],
            cwd=cwd,
            env=_environment(repo_root),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, a in enumerate(args)
    ]
    while len(list(cwd.glob("ready-*"))) < len(started):
        assert all(p.poll() is None for p in started), "a process ended before the start"
        time.sleep(0.01)
    (cwd / "go").touch()
    outputs = []
    for process in started:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outputs.append(out.strip())
    return outputs


def test_a_link_signed_by_one_process_verifies_in_another_without_a_secret(tmp_path, repo_root):
    token = _python(_SIGN, cwd=tmp_path, repo_root=repo_root)
    assert _python(_VERIFY, token, cwd=tmp_path, repo_root=repo_root) == "(7, 3)"
    secret = tmp_path / "var" / "tec" / "signing-secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    here = signing.signing_keys(Settings(signing_secret=[], signing_secret_file=secret))
    assert signing.verify(here, token, signing.MANAGE, now=dt.datetime.now(dt.UTC)) == (7, 3)
    # Elsewhere the default relative database is another one, so is the instance and its
    # secret: the link is refused.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    refused = subprocess.run(
        [sys.executable, "-c", _VERIFY, token],
        cwd=elsewhere,
        env=_environment(repo_root),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "BadUserInput" in refused.stderr


def test_processes_starting_at_once_agree_on_the_secret(tmp_path, repo_root):
    digests = _at_once(_RACE, [[] for _ in range(4)], cwd=tmp_path, repo_root=repo_root)
    secret = (tmp_path / "var" / "tec" / "signing-secret").read_text().strip().encode()
    assert set(digests) == {hashlib.sha256(secret).hexdigest()}
    created = sorted(p.name for p in (tmp_path / "var" / "tec").iterdir())
    assert created == ["signing-secret"]


# --- Subscribing, confirming --------------------------------------------------------------


async def test_double_opt_in_records_consent_and_confirms_once(database):
    made = await service.subscribe(_address(), consent=_consent("page d'accueil"), name="Ana")
    assert made.needs_confirmation and made.subscriber.status is SubscriberStatus.PENDING
    row = made.subscriber
    assert (row.name, row.consent_ip, row.consent_source, row.consent_wording_version) == (
        "Ana",
        "198.51.100.9",
        "page d'accueil",
        "v1",
    )
    token = service.confirmation_token(KEYS, made.request)
    assert await service.check_confirmation_link(KEYS, token) is True
    confirmed = await service.confirm_subscription(KEYS, token, ip="203.0.113.1")
    assert confirmed.status is SubscriberStatus.CONFIRMED and confirmed.confirmed_ip
    assert confirmed.name == "Ana"
    assert await service.check_confirmation_link(KEYS, token) is False  # followed already
    again = await service.confirm_subscription(KEYS, token)
    assert again.confirmed_at == confirmed.confirmed_at
    assert again.link_generation == confirmed.link_generation
    # Subscribing a confirmed address changes nothing and sends nothing.
    before = await _stored(row.id)
    repeat = await service.subscribe(row.email, consent=_consent("ailleurs"), name="Autre")
    assert not repeat.needs_confirmation
    assert await _stored(row.id) == before
    assert await SubscriptionRequest.filter(subscriber_id=row.id).count() == 1


async def test_expired_confirmation_link_is_refused(database):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
    made = await service.subscribe(_address(), consent=_consent(), at=old)
    token = service.confirmation_token(KEYS, made.request)
    with pytest.raises(BadUserInput, match="expiré"):
        await service.confirm_subscription(KEYS, token)
    assert (await Subscriber.get(id=made.subscriber.id)).status is SubscriberStatus.PENDING


async def _in_state(status: SubscriberStatus, at: dt.datetime, theme: Theme) -> Subscriber:
    """An address subscribed by its owner (Ana, a citizen following ``theme``), then left
    in ``status``."""
    address = _address()
    if status is SubscriberStatus.PENDING:
        made = await service.subscribe(
            address, consent=_consent("owner"), name="Ana", theme_ids=[theme.id], at=at
        )
        return made.subscriber
    row = await _confirmed(address, at=at, name="Ana", theme_ids=[theme.id])
    if status is SubscriberStatus.UNSUBSCRIBED:
        manage = service.manage_token(KEYS, row.id, row.link_generation)
        return await service.unsubscribe(KEYS, manage, at=at)
    if status is SubscriberStatus.BOUNCED:
        await service.mark_bounced(row.id, "550 no such user")
    return await Subscriber.get(id=row.id)


@pytest.mark.parametrize(
    "status",
    [SubscriberStatus.PENDING, SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED],
)
async def test_a_request_for_a_known_address_changes_nothing_until_its_own_link(database, status):
    start = dt.datetime.now(dt.UTC) - 2 * HOUR
    mine, theirs = await _theme(), await _theme()
    row = await _in_state(status, start, mine)
    before = await _stored(row.id)
    asked = await service.subscribe(
        row.email,
        consent=service.Consent(ip="192.0.2.66", source="ailleurs", wording_version="v2"),
        name="Mallory",
        audience=SubscriberAudience.PARTNER,
        theme_ids=[theirs.id],
        at=start + HOUR,
    )
    assert asked.needs_confirmation
    assert await _stored(row.id) == before  # name, audience, themes, consent, state: as they were
    request = asked.request
    assert (request.name, request.consent_ip, request.theme_ids) == (
        "Mallory",
        "192.0.2.66",
        [theirs.id],
    )
    # Its own link applies it (whoever opens the address's mail chose so).
    now = dt.datetime.now(dt.UTC)
    await service.confirm_subscription(KEYS, service.confirmation_token(KEYS, request), at=now)
    after = await _stored(row.id)
    assert after["name"] == "Mallory" and after["audience"] is SubscriberAudience.PARTNER
    assert after["themes"] == [theirs.id] and after["status"] is SubscriberStatus.CONFIRMED
    assert after["consent"] == (start + HOUR, "192.0.2.66", "ailleurs")
    assert after["wording"] == "v2" and after["generation"] == before["generation"] + 1


async def test_confirmation_emails_per_address_are_throttled(database):
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    throttle = service.ConfirmationThrottle(interval=dt.timedelta(minutes=10), daily_limit=3)

    async def ask(at: dt.datetime) -> bool:
        made = await service.subscribe(address, consent=_consent(), throttle=throttle, at=at)
        return made.needs_confirmation

    address = _address()
    minutes = dt.timedelta(minutes=1)
    assert await ask(start)
    assert not await ask(start + 9 * minutes)  # within the interval
    assert await ask(start + 11 * minutes)
    assert await ask(start + 22 * minutes)
    assert not await ask(start + 40 * minutes)  # three in 24 hours already
    assert not await ask(start + 23 * HOUR)
    assert await ask(start + 24 * HOUR + minutes)  # the first one left the window
    row = await Subscriber.get(email=address)
    assert await SubscriptionRequest.filter(subscriber_id=row.id).count() == 4


async def test_concurrent_requests_of_one_address_send_one_email(database):
    throttle = service.ConfirmationThrottle()
    at = dt.datetime.now(dt.UTC)

    async def burst(address: str) -> list[service.Subscription]:
        return await asyncio.gather(
            *(
                service.subscribe(address, consent=_consent(f"n{i}"), throttle=throttle, at=at)
                for i in range(6)
            )
        )

    new = _address()
    assert sum(m.needs_confirmation for m in await burst(new)) == 1
    row = await Subscriber.get(email=new)
    manage = service.manage_token(KEYS, row.id, row.link_generation)
    await service.unsubscribe(KEYS, manage, at=at)
    await SubscriptionRequest.filter(subscriber_id=row.id).update(consent_at=at - 2 * HOUR)
    assert sum(m.needs_confirmation for m in await burst(new)) == 1
    assert await SubscriptionRequest.filter(subscriber_id=row.id).count() == 2


_SUBSCRIBE = textwrap.dedent(
    """
    import asyncio, datetime as dt, os, sys, time
    from pathlib import Path
    from tortoise import Tortoise, connections
    from services import db
    from services.settings import Settings
    from services.subscribers import service

    async def main():
        url, address, at, n = sys.argv[1:]
        await Tortoise.init(config=db.tortoise_config(Settings(database_url=url).database))
        Path(f"ready-{n}").touch()
        while not os.path.exists("go"):
            time.sleep(0.001)
        consent = service.Consent(ip="198.51.100.7", source=f"process {n}", wording_version="v1")
        made = await service.subscribe(
            address, consent=consent, at=dt.datetime.fromisoformat(at)
        )
        print(made.needs_confirmation)
        await connections.close_all()

    asyncio.run(main())
    """
)


async def test_the_throttle_holds_across_processes(database, tmp_path, repo_root):
    """Processes asking at the same moment for a known address: one e-mail."""
    start = dt.datetime.now(dt.UTC) - 2 * HOUR
    row = await _in_state(SubscriberStatus.UNSUBSCRIBED, start, await _theme())
    at = (start + HOUR).isoformat()
    args = [[database.database.database_url, row.email, at] for _ in range(3)]
    outputs = await asyncio.to_thread(_at_once, _SUBSCRIBE, args, cwd=tmp_path, repo_root=repo_root)
    assert sorted(outputs) == ["False", "False", "True"]
    assert await SubscriptionRequest.filter(subscriber_id=row.id).count() == 2  # owner's + 1


# --- Link generations ----------------------------------------------------------------------


async def test_unsubscribing_and_confirming_make_every_older_link_refused(database):
    start = dt.datetime.now(dt.UTC) - 3 * HOUR
    first = await service.subscribe(_address(), consent=_consent(), at=start)
    row, old_confirm = first.subscriber, service.confirmation_token(KEYS, first.request)
    await service.confirm_subscription(KEYS, old_confirm, at=start)
    row = await Subscriber.get(id=row.id)
    old_manage = service.manage_token(KEYS, row.id, row.link_generation)
    assert (await service.unsubscribe(KEYS, old_manage)).status is SubscriberStatus.UNSUBSCRIBED
    # After unsubscribing, that link no longer manages anything; following it again to
    # unsubscribe is harmless and answers as done.
    assert (await service.unsubscribe(KEYS, old_manage)).status is SubscriberStatus.UNSUBSCRIBED
    for refused in (
        service.update_preferences(KEYS, old_manage, name="X"),
        service.export_own_data(KEYS, old_manage),
        service.erase_own_data(KEYS, old_manage),
        service.get_subscriber_by_token(KEYS, old_manage),
    ):
        with pytest.raises(BadUserInput, match="invalide"):
            await refused
    # Subscribing again: the first confirmation link stays dead, the new one works.
    back = await service.subscribe(row.email, consent=_consent("retour"), at=start + HOUR)
    assert back.needs_confirmation and back.subscriber.status is SubscriberStatus.UNSUBSCRIBED
    with pytest.raises(BadUserInput, match="invalide"):
        await service.check_confirmation_link(KEYS, old_confirm)
    with pytest.raises(BadUserInput, match="invalide"):
        await service.confirm_subscription(KEYS, old_confirm)
    assert (await Subscriber.get(id=row.id)).status is SubscriberStatus.UNSUBSCRIBED
    new_confirm = service.confirmation_token(KEYS, back.request)
    confirmed = await service.confirm_subscription(KEYS, new_confirm)
    assert confirmed.status is SubscriberStatus.CONFIRMED
    # Subscribed again, the links of the earlier subscription do nothing at all.
    with pytest.raises(BadUserInput, match="invalide"):
        await service.unsubscribe(KEYS, old_manage)
    with pytest.raises(BadUserInput, match="invalide"):
        await service.confirm_subscription(KEYS, old_confirm)
    current = service.manage_token(KEYS, row.id, confirmed.link_generation)
    assert (await service.get_subscriber_by_token(KEYS, current)).id == row.id


async def test_confirming_one_request_voids_the_others_and_unsubscribing_voids_them_all(
    database,
):
    start = dt.datetime.now(dt.UTC) - 5 * HOUR
    row = await _in_state(SubscriberStatus.UNSUBSCRIBED, start, await _theme())
    one = await service.subscribe(row.email, consent=_consent(), name="Un", at=start + HOUR)
    two = await service.subscribe(row.email, consent=_consent(), name="Deux", at=start + 2 * HOUR)
    await service.confirm_subscription(KEYS, service.confirmation_token(KEYS, two.request))
    with pytest.raises(BadUserInput, match="invalide"):
        await service.confirm_subscription(KEYS, service.confirmation_token(KEYS, one.request))
    assert (await Subscriber.get(id=row.id)).name == "Deux"
    # A pending request dies with the unsubscribe link of its own e-mail (« not me »).
    current = await Subscriber.get(id=row.id)
    three = await service.subscribe(row.email, consent=_consent(), at=start + 3 * HOUR)
    assert not three.needs_confirmation  # confirmed: nothing to send
    manage = service.manage_token(KEYS, row.id, current.link_generation)
    await service.unsubscribe(KEYS, manage)
    four = await service.subscribe(
        row.email, consent=_consent(), name="Quatre", at=start + 4 * HOUR
    )
    manage = service.manage_token(KEYS, row.id, four.subscriber.link_generation)
    await service.unsubscribe(KEYS, manage)
    with pytest.raises(BadUserInput, match="invalide"):
        await service.confirm_subscription(KEYS, service.confirmation_token(KEYS, four.request))
    assert (await Subscriber.get(id=row.id)).status is SubscriberStatus.UNSUBSCRIBED


# --- Export, erasure, bad input -----------------------------------------------------------


async def test_export_holds_everything_and_erasure_removes_it(database):
    theme = await _theme()
    made = await service.subscribe(_address(), consent=_consent(), name="Léa", theme_ids=[theme.id])
    row = made.subscriber
    manage = service.manage_token(KEYS, row.id, row.link_generation)
    exported = await service.export_own_data(KEYS, manage)
    assert exported["email"] == row.email and exported["name"] == "Léa"
    assert exported["consent"]["wordingVersion"] == "v1" and exported["deliveries"] == []
    [request] = exported["requests"]
    assert request["name"] == "Léa" and request["themes"] == [theme.slug]
    assert request["ip"] == "198.51.100.9" and request["confirmedAt"] is None
    await service.erase_own_data(KEYS, manage)
    assert not await Subscriber.filter(id=row.id).exists()
    assert not await SubscriptionRequest.filter(subscriber_id=row.id).exists()
    with pytest.raises(BadUserInput):
        await service.export_own_data(KEYS, manage)


@pytest.mark.parametrize(
    "email", ["sans-arobase", "a@b", "x@example.org\nBcc: y@evil.example", "a" * 300 + "@x.fr"]
)
async def test_invalid_addresses_are_refused(database, email):
    with pytest.raises(BadUserInput):
        await service.subscribe(email, consent=_consent())
