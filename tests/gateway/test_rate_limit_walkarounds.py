"""Rate limits that cannot be walked around: random tokens, batches, other routes,
forged client addresses, and sign-in attempts."""

from __future__ import annotations

import secrets

import httpx
import pytest

from gateway.app import create_app
from gateway.client_address import TrustedProxies, parse_networks
from tests.sqlcount import count_queries

QUERY = {"query": "{ currentTheme { title } }"}


def _client(app, client=("203.0.113.7", 5555)) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def _random_token() -> dict[str, str]:
    return {"Authorization": f"Bearer tec_u_{secrets.token_urlsafe(24)}"}


async def test_random_tokens_pay_from_the_address_and_stop_costing_lookups(database):
    app = create_app(database.replace(**{"rate_limit_anonymous": 5}))
    async with _client(app) as client:
        failed = [
            await client.post("/graphql", json=QUERY, headers=_random_token()) for _ in range(5)
        ]
        assert [r.status_code for r in failed] == [401] * 5
        with count_queries() as statements:
            refused = await client.post("/graphql", json=QUERY, headers=_random_token())
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert statements == [], "an exhausted address still costs token lookups"
        # The failures were charged to the address's own budget too.
        anonymous = await client.post("/graphql", json=QUERY)
        assert anonymous.status_code == 429


async def test_signed_in_people_keep_their_budget_behind_a_busy_address(database, principals):
    app = create_app(database.replace(**{"rate_limit_anonymous": 2}))
    async with _client(app) as client:
        anonymous = [(await client.post("/graphql", json=QUERY)).status_code for _ in range(3)]
        editor = await client.post("/graphql", json=QUERY, headers=principals["EDITOR"])
    assert anonymous == [200, 200, 429]
    assert editor.status_code == 200


async def test_a_batch_pays_one_unit_per_operation(database):
    app = create_app(database.replace(**{"rate_limit_anonymous": 10}))
    async with _client(app) as client:
        first = await client.post("/graphql", json=[QUERY] * 6)
        second = await client.post("/graphql", json=[QUERY] * 6)
        alone = await client.post("/graphql", json=QUERY)
    assert first.status_code == 200 and first.headers["ratelimit"].startswith(
        "limit=10, remaining=4"
    )
    assert second.status_code == 429  # 12 operations over a budget of 10
    assert second.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert alone.status_code == 429


@pytest.mark.parametrize(
    "path",
    [
        "/events.ics",
        "/themes/democratie-culturelle/events.ics",
        "/newsletters",
        "/resources.rss",
        "/themes/la-democratie-culturelle/resources.atom",
        "/news.rss",
    ],
)
async def test_feeds_and_pages_pass_the_same_guards(database, path):
    app = create_app(database.replace(**{"rate_limit_anonymous": 3}))
    async with _client(app) as client:
        forged = await client.get(path, headers=_random_token())
        assert forged.status_code == 401
        assert forged.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        codes = [(await client.get(path)).status_code for _ in range(3)]
    assert codes[:2] == [200, 200] or codes[:2] == [404, 404]
    assert codes[2] == 429  # the forged token was charged to the address as well


async def test_unsubscribe_and_confirmation_pages_are_limited(database):
    app = create_app(database.replace(**{"rate_limit_anonymous": 2}))
    async with _client(app) as client:
        codes = [
            (await client.post("/newsletters/unsubscribe?token=x")).status_code for _ in range(3)
        ]
    assert codes[-1] == 429


def test_the_client_is_the_right_most_untrusted_hop():
    proxies = TrustedProxies(parse_networks(["10.0.0.0/8", "127.0.0.1"]))
    # The client wrote the left-most value itself: it is ignored.
    assert proxies.client("10.0.0.5", ["6.6.6.6, 198.51.100.4, 10.0.0.9"]) == "198.51.100.4"
    assert proxies.client("10.0.0.5", ["6.6.6.6", "198.51.100.4"]) == "198.51.100.4"
    # A peer that is not a proxy of ours cannot speak for anyone.
    assert proxies.client("198.51.100.99", ["1.2.3.4"]) == "198.51.100.99"
    # Only proxies in the chain: the one nearest the client.
    assert proxies.client("127.0.0.1", ["10.1.1.1, 10.2.2.2"]) == "10.1.1.1"
    assert proxies.client("127.0.0.1", ["not-an-address"]) == "not-an-address"
    assert proxies.client("127.0.0.1", ["2001:DB8::1"]) == "2001:db8::1"
    assert TrustedProxies([]).client("10.0.0.5", ["1.2.3.4"]) == "10.0.0.5"


async def test_a_forged_forwarded_for_does_not_escape_the_limit(database):
    settings = database.replace(**{"rate_limit_anonymous": 2, "trusted_proxies": ["127.0.0.1"]})
    app = create_app(settings)
    async with _client(app, client=("127.0.0.1", 4000)) as client:
        codes = [
            (
                await client.post(
                    "/graphql",
                    json=QUERY,
                    headers={"X-Forwarded-For": f"{secrets.randbelow(250)}.1.1.1, 198.51.100.7"},
                )
            ).status_code
            for _ in range(3)
        ]
    assert codes == [200, 200, 429]


async def test_consent_proofs_record_the_address_the_guards_saw(database):
    from services.subscribers.models import Subscriber

    settings = database.replace(**{"trusted_proxies": ["127.0.0.1"]})
    app = create_app(settings)
    app.state.mail_transport_factory = lambda _settings: _NullTransport()
    email = f"consent-{secrets.token_hex(4)}@example.org"
    async with _client(app, client=("127.0.0.1", 4000)) as client:
        answer = await client.post(
            "/graphql",
            json={
                "query": "mutation($e: String!) { subscribe(input: {email: $e}) { message } }",
                "variables": {"e": email},
            },
            headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.23"},
        )
    assert "errors" not in answer.json(), answer.json()
    row = await Subscriber.filter(email=email).first()
    assert row is not None and row.consent_ip == "198.51.100.23"


class _NullTransport:
    async def send(self, envelope) -> None:
        return None

    async def close(self) -> None:
        return None


async def test_sign_in_is_throttled_per_email_address(database, principals):
    settings = database.replace(
        **{"sign_in_attempts_per_email": 3, "sign_in_attempts_per_address": 100}
    )
    app = create_app(settings)
    mutation = "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }"

    async def attempt(client, password: str) -> str | None:
        body = (
            await client.post(
                "/graphql",
                json={
                    "query": mutation,
                    "variables": {"e": "editor@principals.test", "p": password},
                },
            )
        ).json()
        return body["errors"][0]["extensions"]["code"] if "errors" in body else None

    async with _client(app, client=("198.51.100.1", 1)) as first:
        codes = [await attempt(first, "wrong") for _ in range(3)]
        codes.append(await attempt(first, "wrong"))
    # From another address, even the right password is refused while the e-mail is throttled.
    async with _client(app, client=("198.51.100.2", 1)) as second:
        blocked = await attempt(second, "correct horse battery staple")
    assert codes == ["UNAUTHENTICATED"] * 3 + ["RATE_LIMITED"]
    assert blocked == "RATE_LIMITED"


async def test_sign_in_is_throttled_per_address(database):
    settings = database.replace(
        **{"sign_in_attempts_per_email": 100, "sign_in_attempts_per_address": 2}
    )
    app = create_app(settings)
    batch = [
        {
            "query": 'mutation($e: String!) { signIn(email: $e, password: "x") { token } }',
            "variables": {"e": f"nobody-{n}@example.org"},
        }
        for n in range(4)
    ]
    async with _client(app, client=("198.51.100.3", 1)) as client:
        answers = (await client.post("/graphql", json=batch)).json()
    codes = sorted(a["errors"][0]["extensions"]["code"] for a in answers)
    assert codes == ["RATE_LIMITED", "RATE_LIMITED", "UNAUTHENTICATED", "UNAUTHENTICATED"]
