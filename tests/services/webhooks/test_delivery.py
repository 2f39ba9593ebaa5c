"""Delivering webhooks to a real HTTP receiver on loopback: signatures, order per object,
retries, the delivery log, disabling an endpoint that fails for 24 hours."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import random
import uuid

import pytest

from mailer.notices import notifier
from mailer.transport import SMTPTransport
from services import publishing
from services.accounts import service as accounts
from services.audit.models import AuditEntry
from services.editing import create_content, update_content
from services.registry import content_type
from services.viewer import Role, Viewer
from services.webhooks.endpoints import EndpointDraft, create_endpoint
from services.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from services.webhooks.sender import SenderOptions, WebhookSender
from services.webhooks.signing import sign
from services.webhooks.transport import StreamTransport
from tests.mailer.support import smtp_server  # noqa: F401 (fixture)
from tests.services.webhooks.conftest import EDITOR
from tests.services.webhooks.receiver import Receiver, always, verify_standard

pytestmark = pytest.mark.usefixtures("database")


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def _sender(clock: Clock, **options) -> WebhookSender:
    return WebhookSender(
        StreamTransport(allow_private=True),
        options=SenderOptions(**{"timeout": 2.0, **options}),
        clock=clock,
        rng=random.Random(7),
    )


async def _published_concept(title: str | None = None):
    concept = content_type("Concept")
    row = await create_content(
        EDITOR, concept, {"title": title or f"Concept {uuid.uuid4().hex[:8]}"}
    )
    return await publishing.publish(EDITOR, "Concept", row.id, version=row.version)


async def _drain(sender: WebhookSender) -> None:
    while await sender.run_once():
        pass


def test_signatures_match_the_specifications_test_vector():
    assert (
        sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            '{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


async def test_deliveries_are_signed_as_standard_webhooks_say(endpoints, receiver):
    endpoint, secret = await endpoints(receiver.url, events=["concept.published"])
    assert secret.startswith("whsec_")
    row = await _published_concept()
    clock = Clock()
    await _drain(_sender(clock))
    [request] = receiver.snapshot()
    assert verify_standard(secret, request)
    assert request.headers["webhook-timestamp"] == str(int(clock.now.timestamp()))
    assert request.webhook_id.startswith("msg_")
    assert request.headers["content-type"] == "application/json"
    assert request.payload["type"] == "concept.published"
    assert request.payload["data"]["slug"] == row.slug
    assert request.path == "/hooks/tec"
    delivery = await WebhookDelivery.get(endpoint_id=endpoint.id)
    assert (delivery.status, delivery.attempts, delivery.response_code) == (
        DeliveryStatus.DELIVERED,
        1,
        204,
    ) or (delivery.status, delivery.attempts, delivery.response_code) == (
        DeliveryStatus.DELIVERED,
        1,
        200,
    )


async def test_a_later_event_of_an_object_waits_for_the_earlier_one(endpoints, receiver):
    failed: list[str] = []
    one_slug: list[str] = []

    def plan(number, request):
        # The first attempt of `one`'s publication fails.
        payload = request.payload
        if payload["type"] == "concept.published" and payload["data"]["slug"] in one_slug:
            if failed:
                return 204, 0.0
            failed.append(request.webhook_id)
            return 500, 0.0
        return 204, 0.0

    receiver.plan = plan
    await endpoints(receiver.url, events=["concept.published", "concept.updated"])
    one = await _published_concept()
    one_slug.append(one.slug)
    await update_content(
        EDITOR, content_type("Concept"), one.id, version=one.version, given={"body": "<p>v2</p>"}
    )
    other = await _published_concept()
    clock = Clock()
    sender = _sender(clock)
    await _drain(sender)

    def seen() -> list[tuple[str, str]]:
        return [(r.payload["type"], r.payload["data"]["slug"]) for r in receiver.snapshot()]

    # The update of `one` waits behind its failed publication; `other` is not held up
    # (the two publications go out together, in either order).
    assert sorted(seen()) == sorted(
        [("concept.published", one.slug), ("concept.published", other.slug)]
    )
    clock.advance(hours=1)
    await _drain(sender)
    assert seen()[2:] == [("concept.published", one.slug), ("concept.updated", one.slug)]
    retry = receiver.snapshot()[2]
    assert retry.webhook_id == failed[0], "a retry is the same message"


async def test_retries_after_a_500_and_after_a_timeout_are_logged(endpoints, receiver):
    receiver.plan = lambda n, request: [(500, 0.0), (200, 3.0), (200, 0.0)][min(n, 2)]
    endpoint, secret = await endpoints(receiver.url, events=["concept.published"])
    await _published_concept()
    clock = Clock()
    sender = _sender(clock, timeout=0.5, backoff_base=5.0)
    await _drain(sender)
    delivery = await WebhookDelivery.get(endpoint_id=endpoint.id)
    assert (delivery.status, delivery.attempts, delivery.response_code) == (
        DeliveryStatus.PENDING,
        1,
        500,
    )
    assert delivery.last_error == "HTTP 500"
    assert "receiver says no" in delivery.response_body
    assert len(delivery.response_body) <= 1000
    # 5 s doubled per attempt, half of it jitter: the retry comes 2.5 to 5 s later.
    wait = (delivery.next_attempt_at - clock.now).total_seconds()
    assert 2.5 <= wait <= 5.0
    clock.advance(seconds=5)
    await _drain(sender)
    delivery = await WebhookDelivery.get(endpoint_id=endpoint.id)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 2)
    assert "délai dépassé" in delivery.last_error
    assert delivery.response_code is None
    assert 5.0 <= (delivery.next_attempt_at - clock.now).total_seconds() <= 10.0
    clock.advance(seconds=10)
    await _drain(sender)
    delivery = await WebhookDelivery.get(endpoint_id=endpoint.id)
    assert (delivery.status, delivery.attempts, delivery.response_code) == (
        DeliveryStatus.DELIVERED,
        3,
        200,
    )
    requests = receiver.snapshot()
    assert len({r.webhook_id for r in requests}) == 1
    assert all(verify_standard(secret, r) for r in requests)
    endpoint = await WebhookEndpoint.get(id=endpoint.id)
    assert endpoint.failing_since is None and endpoint.enabled


async def test_an_endpoint_failing_for_24_hours_is_disabled_and_its_owner_told(
    database,
    receiver,
    smtp_server,  # noqa: F811
):
    recorder, port = smtp_server
    receiver.plan = always(503)
    owner = await accounts.create_account(
        f"partenaire-{uuid.uuid4().hex[:6]}@decider-ensemble.example",
        password="correct horse battery staple",
        role="PARTNER",
        organization_slug="decider-ensemble",
    )
    partner = Viewer(role=Role.PARTNER, account_id=owner.id, organization_id=owner.organization_id)  # type: ignore[attr-defined]
    endpoint, _ = await create_endpoint(
        partner, EndpointDraft(url=receiver.url, events=["concept.published"]), allow_private=True
    )
    try:
        await _published_concept()
        clock = Clock()
        start = clock.now
        mail = SMTPTransport(host="127.0.0.1", port=port)
        sender = WebhookSender(
            StreamTransport(allow_private=True),
            options=SenderOptions(timeout=2.0),
            clock=clock,
            rng=random.Random(11),
            notify=notifier(database, mail),
        )
        while (await WebhookEndpoint.get(id=endpoint.id)).enabled:
            await _drain(sender)
            delivery = await WebhookDelivery.get(endpoint_id=endpoint.id)
            assert clock.now - start < dt.timedelta(hours=26), "never disabled"
            clock.now = max(clock.now + dt.timedelta(seconds=1), delivery.next_attempt_at)
        await _drain(sender)
        await mail.close()
        disabled = await WebhookEndpoint.get(id=endpoint.id)
        assert dt.timedelta(hours=24) <= disabled.disabled_at - start < dt.timedelta(hours=25)
        assert "24 h" in disabled.disabled_reason
        [audited] = await AuditEntry.filter(action="webhook.disable", entity_id=endpoint.id)
        assert audited.actor_role == "SYSTEM"
        delivery = await WebhookDelivery.get(endpoint_id=endpoint.id)
        assert delivery.status is DeliveryStatus.FAILED, "retried for 24 hours, then given up"
        attempts = len(receiver.snapshot())
        assert delivery.attempts == attempts and 10 <= attempts <= 40
        [message] = recorder.to(owner.email)
        parsed = email.message_from_bytes(message.data, policy=email.policy.default)
        text = parsed.get_body(("plain",)).get_content()
        assert parsed["Subject"] == "Vos webhooks Territoires en Commun sont désactivés"
        assert receiver.url in text and "désactivé" in text
        # Nothing more is sent to a disabled endpoint.
        await _published_concept()
        clock.advance(hours=1)
        await _drain(sender)
        assert len(receiver.snapshot()) == attempts
    finally:
        await WebhookEndpoint.filter(id=endpoint.id).delete()


async def test_a_name_that_resolves_inside_at_delivery_time_is_refused(endpoints, receiver):
    # Registered while the name looked public; at delivery it resolves to loopback (DNS
    # rebinding): the sender checks the addresses it connects to, not the registration.
    port = receiver.server.server_address[1]
    endpoint, _ = await endpoints(f"http://localhost:{port}/hooks", events=["concept.published"])
    await _published_concept()
    clock = Clock()
    sender = WebhookSender(
        StreamTransport(allow_private=False),
        options=SenderOptions(timeout=2.0),
        clock=clock,
        rng=random.Random(3),
    )
    await _drain(sender)
    assert receiver.snapshot() == []
    delivery = await WebhookDelivery.get(endpoint_id=endpoint.id)
    assert delivery.status is DeliveryStatus.PENDING
    assert "non publique" in delivery.last_error and "127.0.0.1" in delivery.last_error


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::6810:84e5", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_which_addresses_are_public(address, public):
    import ipaddress

    from services.webhooks.addresses import is_public

    assert is_public(ipaddress.ip_address(address)) is public


async def test_the_log_forgets_settled_deliveries_after_30_days(endpoints, receiver):
    from services.webhooks.events import THEME_CURRENT, THEME_NEXT
    from services.webhooks.models import WebhookEvent

    endpoint, _ = await endpoints(receiver.url, events=["concept.published"])
    await _published_concept()
    clock = Clock()
    sender = _sender(clock)
    await _drain(sender)
    delivery = await WebhookDelivery.get(endpoint_id=endpoint.id)
    assert delivery.status is DeliveryStatus.DELIVERED
    last_states = [
        await WebhookEvent.filter(type=t).order_by("-id").first()
        for t in (THEME_CURRENT, THEME_NEXT)
    ]
    clock.advance(days=29)
    await sender.prune()
    assert await WebhookDelivery.filter(id=delivery.id).exists()
    clock.advance(days=2)
    await sender.prune()
    assert not await WebhookDelivery.filter(id=delivery.id).exists()
    assert not await WebhookEvent.filter(id=delivery.event_id).exists()
    for state in last_states:
        if state is not None:
            assert await WebhookEvent.filter(id=state.id).exists(), "the last known state stays"


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for ``localhost`` (openssl)."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


async def test_https_checks_the_certificate_of_the_urls_host(endpoints, certificate):
    import ssl

    key, cert = certificate
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert, key)
    secure = Receiver(tls=served, host="localhost").start()
    try:
        endpoint, secret = await endpoints(secure.url, events=["concept.published"])
        await _published_concept()
        clock = Clock()
        untrusting = WebhookSender(
            StreamTransport(allow_private=True), options=SenderOptions(timeout=2.0), clock=clock
        )
        await _drain(untrusting)
        delivery = await WebhookDelivery.get(endpoint_id=endpoint.id)
        assert delivery.status is DeliveryStatus.PENDING
        assert "CERTIFICATE_VERIFY_FAILED" in delivery.last_error
        trusting = ssl.create_default_context(cafile=str(cert))
        sender = WebhookSender(
            StreamTransport(allow_private=True, tls=trusting),
            options=SenderOptions(timeout=2.0),
            clock=clock,
        )
        clock.advance(minutes=5)
        await _drain(sender)
        delivery = await WebhookDelivery.get(endpoint_id=endpoint.id)
        assert delivery.status is DeliveryStatus.DELIVERED
        [request] = secure.snapshot()
        assert verify_standard(secret, request)
        assert request.headers["host"] == f"localhost:{secure.server.server_address[1]}"
    finally:
        secure.stop()
