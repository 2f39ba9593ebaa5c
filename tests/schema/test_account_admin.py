"""Administrators manage people and keys through GraphQL: list and filter accounts,
deactivate one (its token is refused on the next request), end its sessions, send it a
password-reset link over real SMTP that its owner follows to the gateway's page, list API
keys with their last use; each change in the audit log under the administrator's name."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from email import message_from_bytes
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller

from gateway.app import create_app
from services.accounts import service as accounts
from services.settings import Settings
from tests.conftest import GraphQLClient, user_error
from tests.mailer.support import SMTPRecorder, free_port

PASSWORD = "un mot de passe solide"
NEW_PASSWORD = "le mot de passe choisi par lien"
SIGN_IN = """mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) {
    token account { displayName } } }"""
ACCOUNT_FIELDS = "id email displayName role active lastSignInAt activeSessions"


@pytest.fixture
def smtp() -> Any:
    recorder = SMTPRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


@pytest.fixture
async def site(database: Settings, smtp) -> AsyncIterator[GraphQLClient]:
    """The gateway, its mail going to the SMTP server on loopback."""
    _, port = smtp
    settings = database.replace(
        **{
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_timeout": 5.0,
            "signing_secret": ["secret-des-liens-de-test-0123456789abcdef"],
            "public_url": "https://tec.example",
        }
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="https://tec.example") as client:
        yield GraphQLClient(client)


async def _person(role: str = "EDITOR", **extra: Any) -> tuple[dict[str, str], str]:
    """A new account and the headers of a session of it."""
    email = f"gestion-{uuid.uuid4().hex[:10]}@example.org"
    await accounts.create_account(
        email, password=PASSWORD, role=role, display_name=extra.pop("name", "Alex"), **extra
    )
    _, token = await accounts.sign_in(email, password=PASSWORD)
    return {"Authorization": f"Bearer {token}"}, email


async def _id_of(gql, principals, email: str) -> str:
    found = await gql.data(
        "query($t: String!) { accounts(filter: {text: $t}) { nodes { id email } } }",
        {"t": email},
        headers=principals["ADMIN"],
    )
    [node] = found["accounts"]["nodes"]
    return node["id"]


async def test_accounts_are_filtered_and_show_their_state(gql, principals):
    tag = uuid.uuid4().hex[:8]
    await _person("PARTNER", organization_slug="anct", name=f"Partenaire {tag}")
    _, editor = await _person(name=f"Édition {tag}")
    anct = await gql.data('{ organization(slug: "anct") { id } }')
    query = f"""query($f: AccountFilter) {{ accounts(filter: $f) {{
        nodes {{ {ACCOUNT_FIELDS} organization {{ slug }} }} }} }}"""

    async def nodes(**conditions) -> list[dict[str, Any]]:
        body = await gql.data(query, {"f": {"text": tag, **conditions}}, principals["ADMIN"])
        return body["accounts"]["nodes"]

    both = await nodes()
    assert sorted(n["displayName"] for n in both) == [f"Partenaire {tag}", f"Édition {tag}"]
    assert [n["email"] for n in both] == sorted(n["email"] for n in both)
    assert all(n["active"] and n["activeSessions"] == 1 and n["lastSignInAt"] for n in both)
    assert [n["role"] for n in await nodes(roles=["PARTNER"])] == ["PARTNER"]
    partners = await nodes(organization=anct["organization"]["id"])
    assert [n["organization"]["slug"] for n in partners] == ["anct"]

    await gql.data(
        "mutation($id: ID!) { deactivateAccount(id: $id) { account { active } errors { code } } }",
        {"id": await _id_of(gql, principals, editor)},
        headers=principals["ADMIN"],
    )
    [deactivated] = await nodes(active=False)
    assert deactivated["email"] == editor and deactivated["activeSessions"] == 0
    assert [n["active"] for n in await nodes(active=True)] == [True]


async def test_a_deactivated_account_is_refused_on_its_next_request(gql, principals):
    headers, email = await _person()
    assert (await gql.data("{ me { email active } }", headers=headers))["me"] == {
        "email": email,
        "active": True,
    }
    account_id = await _id_of(gql, principals, email)
    done = await gql.data(
        "mutation($id: ID!) { deactivateAccount(id: $id) { account { email active } errors "
        "{ code } } }",
        {"id": account_id},
        headers=principals["ADMIN"],
    )
    assert done["deactivateAccount"] == {"account": {"email": email, "active": False}, "errors": []}

    response = await gql.client.post(
        "/graphql", json={"query": "{ me { email } }"}, headers=headers
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    refused = await gql(SIGN_IN, {"e": email, "p": PASSWORD})
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    await gql.data(
        "mutation($id: ID!) { reactivateAccount(id: $id) { account { active } errors { code } } }",
        {"id": account_id},
        headers=principals["ADMIN"],
    )
    assert (await gql.data(SIGN_IN, {"e": email, "p": PASSWORD}))["signIn"]["token"]
    response = await gql.client.post(
        "/graphql", json={"query": "{ me { email } }"}, headers=headers
    )
    assert response.status_code == 401  # the former token stays revoked


async def test_an_administrator_cannot_deactivate_their_own_account(gql, principals):
    me = await gql.data("{ me { id } }", headers=principals["ADMIN"])
    body = await gql(
        "mutation($id: ID!) { deactivateAccount(id: $id) { account { id } errors "
        "{ code field } } }",
        {"id": me["me"]["id"]},
        headers=principals["ADMIN"],
    )
    assert user_error(body, "deactivateAccount")[0] == "CONFLICT"
    assert (await gql.data("{ me { active } }", headers=principals["ADMIN"]))["me"]["active"]


async def test_revoke_tokens_ends_every_session(gql, principals):
    first, email = await _person()
    _, second = await accounts.sign_in(email, password=PASSWORD)
    result = await gql.data(
        "mutation($id: ID!) { revokeTokens(id: $id) { result { revoked account "
        "{ activeSessions } } errors { code } } }",
        {"id": await _id_of(gql, principals, email)},
        headers=principals["ADMIN"],
    )
    assert result["revokeTokens"]["result"] == {"revoked": 2, "account": {"activeSessions": 0}}
    for headers in (first, {"Authorization": f"Bearer {second}"}):
        response = await gql.client.post(
            "/graphql", json={"query": "{ me { id } }"}, headers=headers
        )
        assert response.status_code == 401


async def test_changes_are_in_the_audit_log_under_the_administrators_name(gql, principals):
    _, email = await _person()
    account_id = await _id_of(gql, principals, email)
    for mutation in ("deactivateAccount(id: $id) { account { id } }",
                     "reactivateAccount(id: $id) { account { id } }",
                     "revokeTokens(id: $id) { result { revoked } }"):  # fmt: skip
        await gql.data(f"mutation($id: ID!) {{ {mutation} }}", {"id": account_id},
                       headers=principals["ADMIN"])  # fmt: skip
    log = await gql.data(
        """query($id: ID!) { auditLog(filter: {object: $id}) { nodes {
            action actorRole changes actor { displayName email } } } }""",
        {"id": account_id},
        headers=principals["ADMIN"],
    )
    *entries, created = log["auditLog"]["nodes"]
    assert [e["action"] for e in entries] == [
        "account.revoke_tokens",
        "account.reactivate",
        "account.deactivate",
    ]
    assert {e["actor"]["displayName"] for e in entries} == {"ADMIN"}
    assert {e["actor"]["email"] for e in entries} == {"admin@principals.test"}
    assert entries[-1]["changes"] == {"is_active": [True, False], "active_tokens": [1, 0]}
    # The account itself was made by the test's set-up, not by an administrator.
    assert (created["action"], created["actorRole"]) == ("account.create", "SYSTEM")


async def test_a_reset_link_is_mailed_and_its_page_sets_the_password_once(site, smtp, principals):
    recorder, _ = smtp
    headers, email = await _person(name="Lou Réinitialisé")
    account_id = await _id_of(site, principals, email)
    sent = await site.data(
        "mutation($id: ID!) { resetPassword(id: $id) { reset { expiresAt account "
        "{ email } } errors { code } } }",
        {"id": account_id},
        headers=principals["ADMIN"],
    )
    assert sent["resetPassword"]["reset"]["account"]["email"] == email

    [received] = recorder.to(email)
    message = message_from_bytes(received.data)
    assert "mot de passe" in message["Subject"] or "=?utf-8?" in message["Subject"]
    parts = {p.get_content_type(): p for p in message.walk() if not p.is_multipart()}
    text = parts["text/plain"].get_payload(decode=True).decode()
    html = parts["text/html"].get_payload(decode=True).decode()
    assert "Bonjour Lou Réinitialisé," in text
    [link] = re.findall(r"https://tec\.example/account/password\?token=\S+", text)
    assert f'href="{link}"' in html.replace("&amp;", "&")
    local = urlsplit(link).path + "?" + urlsplit(link).query
    client = site.client

    # The current password still works, and the link opens a form (a scanner changes nothing).
    assert (await site.data(SIGN_IN, {"e": email, "p": PASSWORD}))["signIn"]["token"]
    form = await client.get(local)
    assert form.status_code == 200 and email in form.text and 'type="password"' in form.text
    assert "script" not in form.text

    mismatch = await client.post(local, data={"password": NEW_PASSWORD, "confirmation": "autre"})
    assert mismatch.status_code == 400 and "pas identiques" in mismatch.text
    too_short = await client.post(local, data={"password": "court", "confirmation": "court"})
    assert too_short.status_code == 400 and "12 caractères" in too_short.text

    done = await client.post(local, data={"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert done.status_code == 200 and "Mot de passe enregistré" in done.text
    assert (await site.data(SIGN_IN, {"e": email, "p": NEW_PASSWORD}))["signIn"]["token"]
    old = await site(SIGN_IN, {"e": email, "p": PASSWORD})
    assert old["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    response = await client.post("/graphql", json={"query": "{ me { id } }"}, headers=headers)
    assert response.status_code == 401  # sessions opened before the reset are over

    again = await client.get(local)
    assert again.status_code == 400 and "déjà utilisé" in again.text
    reused = await site(
        """mutation($t: String!, $p: String!) { setPassword(token: $t, password: $p) {
            account { id } errors { code field } } }""",
        {"t": link.split("token=", 1)[1].replace("%3D", "="), "p": "encore un autre secret"},
    )
    assert user_error(reused, "setPassword")[0] == "BAD_USER_INPUT"


async def test_set_password_takes_the_token_of_the_link(site, smtp, principals):
    recorder, _ = smtp
    _, email = await _person()
    await site.data(
        "mutation($id: ID!) { resetPassword(id: $id) { reset { expiresAt } errors { code } } }",
        {"id": await _id_of(site, principals, email)},
        headers=principals["ADMIN"],
    )
    [received] = recorder.to(email)
    text = next(
        p.get_payload(decode=True).decode()
        for p in message_from_bytes(received.data).walk()
        if p.get_content_type() == "text/plain"
    )
    [token] = re.findall(r"token=(\S+)", text)
    from urllib.parse import unquote

    changed = await site.data(
        "mutation($t: String!, $p: String!) { setPassword(token: $t, password: $p) { account "
        "{ email } errors { code } } }",
        {"t": unquote(token), "p": NEW_PASSWORD},
    )
    assert changed["setPassword"]["account"]["email"] == email
    assert (await site.data(SIGN_IN, {"e": email, "p": NEW_PASSWORD}))["signIn"]["token"]


async def test_api_keys_show_scopes_owner_and_last_use(gql, principals):
    key, secret = await accounts.create_api_key("icpc", scopes=["read"], name="portail")
    query = """{ apiKeys(first: 100) { nodes { prefix name scopes lastUsedAt revokedAt
        organization { slug } } } }"""

    async def listed() -> dict[str, Any] | None:
        body = await gql.data(query, headers=principals["ADMIN"])
        found = [n for n in body["apiKeys"]["nodes"] if n["prefix"] == key.prefix]
        return found[0] if found else None

    before = await listed()
    assert before == {
        "prefix": key.prefix,
        "name": "portail",
        "scopes": ["READ"],
        "lastUsedAt": None,
        "revokedAt": None,
        "organization": {"slug": "icpc"},
    }
    await gql.data(
        "{ resources(first: 1) { nodes { id } } }", headers={"Authorization": f"Bearer {secret}"}
    )
    assert (await listed())["lastUsedAt"] is not None
    await accounts.revoke_api_key(key.prefix)
    assert await listed() is None


async def test_state_of_others_is_private(gql, principals):
    """Editors read the audit log's actors, but not whether they are active."""
    body = await gql.data(
        "{ auditLog(first: 1) { nodes { actor { displayName active activeSessions } } } }",
        headers=principals["EDITOR"],
    )
    for node in body["auditLog"]["nodes"]:
        if node["actor"]:
            assert node["actor"]["active"] is None and node["actor"]["activeSessions"] is None


async def test_the_account_list_costs_the_same_statements_for_1_or_20_accounts(gql, principals):
    from tests.sqlcount import count_queries

    tag = uuid.uuid4().hex[:8]
    for i in range(20):
        await accounts.create_account(
            f"n1-{tag}-{i:02}@example.org", password=PASSWORD, role="PARTNER",
            organization_slug="anct", display_name=f"N1 {i}",
        )  # fmt: skip
    query = """query($t: String!, $n: Int!) { accounts(first: $n, filter: {text: $t}) {
        nodes { email active activeSessions organization { slug } territory { slug } } } }"""
    counts = []
    for size in (1, 20):
        with count_queries() as statements:
            body = await gql.data(query, {"t": f"n1-{tag}", "n": size}, principals["ADMIN"])
        assert len(body["accounts"]["nodes"]) == size
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
