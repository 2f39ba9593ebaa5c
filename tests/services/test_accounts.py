"""Accounts, sign-in, bearer tokens and API keys (domain layer)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tortoise import connections

from services.accounts import service
from services.accounts.models import AccessToken, Account, ApiKey
from services.errors import BadUserInput, Conflict, NotFound, Unauthenticated
from services.organizations.models import Organization
from services.territories.models import Territory
from services.viewer import Role
from tests.unique import unique_tag

PASSWORD = "un mot de passe solide"


def _email() -> str:
    return f"test-{unique_tag(12)}@example.org"


async def _editor(**kwargs) -> Account:
    return await service.create_account(
        kwargs.pop("email", _email()), password=PASSWORD, role=Role.EDITOR, **kwargs
    )


async def test_password_is_hashed_with_argon2id(database):
    account = await _editor()
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash
    assert service.verify_password(account.password_hash, password=PASSWORD)
    assert not service.verify_password(account.password_hash, password=PASSWORD + "x")
    assert not service.verify_password("not a hash", password=PASSWORD)


@pytest.mark.parametrize("password", ["court", "x" * 11, "x" * 257])
async def test_password_length_rules(database, password):
    with pytest.raises(BadUserInput) as caught:
        await service.create_account(_email(), password=password, role=Role.EDITOR)
    assert caught.value.field == "password"


@pytest.mark.parametrize(
    "email", ["", "sans-arobase", "a@b", "a b@example.org", "a@@example.org", "x" * 250 + "@a.fr"]
)
async def test_bad_email_is_refused(database, email):
    with pytest.raises(BadUserInput) as caught:
        await service.create_account(email, password=PASSWORD, role=Role.EDITOR)
    assert caught.value.field == "email"


async def test_email_is_stored_lower_cased(database):
    address = _email()
    account = await _editor(email="  " + address.upper() + " ")
    assert account.email == address
    signed_in, _ = await service.sign_in(address.upper(), password=PASSWORD)
    assert signed_in.id == account.id


async def test_duplicate_email_is_a_conflict_and_creates_nothing(database):
    address = _email()
    await _editor(email=address)
    before = await Account.all().count()
    with pytest.raises(Conflict):
        await service.create_account(
            address.upper(), password=PASSWORD, role=Role.ADMIN, display_name="Autre"
        )
    assert await Account.all().count() == before


@pytest.mark.parametrize(
    ("role", "territory", "organization", "field"),
    [
        (Role.LOCAL_AUTHORITY, None, None, "territory"),
        (Role.LOCAL_AUTHORITY, "grenoble", "anct", "organization"),
        (Role.PARTNER, None, None, "organization"),
        (Role.PARTNER, "grenoble", "anct", "territory"),
        (Role.EDITOR, "grenoble", None, "territory"),
        (Role.ADMIN, None, "anct", "organization"),
        (Role.LOCAL_AUTHORITY, "nulle-part", None, "territory"),
        (Role.PARTNER, None, "inconnue", "organization"),
        (Role.ANONYMOUS, None, None, "role"),
        ("chef", None, None, "role"),
    ],
)
async def test_role_attachment_consistency(database, role, territory, organization, field):
    before = await Account.all().count()
    with pytest.raises(BadUserInput) as caught:
        await service.create_account(
            _email(),
            password=PASSWORD,
            role=role,
            territory_slug=territory,
            organization_slug=organization,
        )
    assert caught.value.field == field
    assert await Account.all().count() == before


async def test_local_authority_and_partner_viewers(database):
    grenoble = await Territory.get(slug="grenoble")
    anct = await Organization.get(slug="anct")
    member = await service.create_account(
        _email(), password=PASSWORD, role="local-authority", territory_slug="grenoble"
    )
    partner = await service.create_account(
        _email(), password=PASSWORD, role="partner", organization_slug="anct"
    )
    _, member_token = await service.sign_in(member.email, password=PASSWORD)
    _, partner_token = await service.sign_in(partner.email, password=PASSWORD)
    member_viewer = await service.resolve_bearer(member_token)
    assert member_viewer.role is Role.LOCAL_AUTHORITY
    assert (member_viewer.account_id, member_viewer.territory_id) == (member.id, grenoble.id)
    assert member_viewer.organization_id is None
    partner_viewer = await service.resolve_bearer(partner_token)
    assert partner_viewer.role is Role.PARTNER
    assert (partner_viewer.account_id, partner_viewer.organization_id) == (partner.id, anct.id)
    assert partner_viewer.scopes == frozenset()


async def test_sign_in_returns_a_token_stored_only_as_its_hash(database):
    account = await _editor(display_name="Camille")
    signed_in, secret = await service.sign_in(account.email, password=PASSWORD)
    assert signed_in.id == account.id
    assert signed_in.last_login_at is not None
    assert secret.startswith("tec_u_") and len(secret) > 40
    token = await AccessToken.get(account_id=account.id)
    assert token.token_hash != secret
    assert token.token_hash == service.secret_digest(secret)
    assert len(token.token_hash) == 64
    # The secret appears in no column of any token row.
    conn = connections.get("default")
    rows = await conn.execute_query_dict("SELECT * FROM access_token")
    assert all(secret not in str(value) for row in rows for value in row.values())
    viewer = await service.resolve_bearer(secret)
    assert (viewer.role, viewer.account_id) == (Role.EDITOR, account.id)


async def test_sign_in_failures_say_the_same_thing(database):
    account = await _editor()
    with pytest.raises(Unauthenticated) as wrong_password:
        await service.sign_in(account.email, password="mauvais mot de passe")
    with pytest.raises(Unauthenticated) as unknown_email:
        await service.sign_in(_email(), password=PASSWORD)
    assert wrong_password.value.message == unknown_email.value.message
    assert await AccessToken.filter(account_id=account.id).count() == 0


def test_an_unknown_email_costs_the_verification_of_a_real_password_hash():
    """The hash verified for an unknown e-mail has the hasher's own parameters, so that it
    costs what a known account's verification costs."""
    assert service.DUMMY_HASH.startswith("$argon2id$")
    assert not service.PRODUCTION_HASHER.check_needs_rehash(service.DUMMY_HASH)
    assert not service.verify_password(service.DUMMY_HASH, password=PASSWORD)


async def test_inactive_account_cannot_sign_in_nor_use_its_tokens(database):
    account = await _editor()
    _, secret = await service.sign_in(account.email, password=PASSWORD)
    account.is_active = False
    await account.save()
    with pytest.raises(Unauthenticated) as caught:
        await service.sign_in(account.email, password=PASSWORD)
    assert caught.value.message == service.SIGN_IN_FAILED
    with pytest.raises(Unauthenticated):
        await service.resolve_bearer(secret)


async def test_expired_token_is_refused(database):
    account = await _editor()
    secret = await service.issue_token(account, ttl=timedelta(hours=1))
    assert (await service.resolve_bearer(secret)).account_id == account.id
    later = datetime.now(UTC) + timedelta(hours=2)
    with pytest.raises(Unauthenticated) as caught:
        await service.resolve_bearer(secret, now=later)
    assert caught.value.message == "Jeton invalide ou expiré"


async def test_sign_out_revokes_and_is_idempotent(database):
    account = await _editor()
    _, secret = await service.sign_in(account.email, password=PASSWORD)
    await service.sign_out(secret)
    token = await AccessToken.get(token_hash=service.secret_digest(secret))
    first_revocation = token.revoked_at
    assert first_revocation is not None
    await service.sign_out(secret)
    await service.sign_out("tec_u_inconnu")
    await token.refresh_from_db()
    assert token.revoked_at == first_revocation
    with pytest.raises(Unauthenticated):
        await service.resolve_bearer(secret)


@pytest.mark.parametrize(
    "secret", ["", "tec_u_", "tec_k_", "n'importe quoi", "tec_u_faux", "tec_k_faux", "Bearer x"]
)
async def test_garbage_bearer_is_refused(database, secret):
    with pytest.raises(Unauthenticated):
        await service.resolve_bearer(secret)


async def test_an_api_key_prefix_never_starts_with_a_dash(database, monkeypatch):
    # An operator types the prefix as an argument (tec apikey revoke PREFIX), where a
    # leading dash would read as an option: a draw starting with one is drawn again.
    draws = iter(["-0nx8MBr" + "a" * 35, "Q0nx8MBr" + "b" * 35])
    monkeypatch.setattr(service.secrets, "token_urlsafe", lambda _: next(draws))
    key, secret = await service.create_api_key("anct", scopes={"read"})
    assert key.prefix == "Q0nx8MBr" and secret == "tec_k_Q0nx8MBr" + "b" * 35


async def test_api_key_is_stored_hashed_and_resolves_to_a_partner(database):
    anct = await Organization.get(slug="anct")
    key, secret = await service.create_api_key("anct", scopes={"read"}, name="Site ANCT")
    assert secret.startswith("tec_k_")
    assert key.prefix == service.api_key_prefix(secret) and len(key.prefix) == 8
    assert key.key_hash == service.secret_digest(secret) != secret
    assert key.scopes == "READ"
    rows = await connections.get("default").execute_query_dict("SELECT * FROM api_key")
    assert all(secret not in str(value) for row in rows for value in row.values())
    viewer = await service.resolve_bearer(secret)
    assert viewer.role is Role.PARTNER
    assert viewer.organization_id == anct.id
    assert viewer.account_id is None
    assert viewer.scopes == frozenset({"READ"})
    assert viewer.api_key_id == key.id
    assert not viewer.sees_unpublished


async def test_api_key_last_used_is_updated_at_most_once_a_minute(database):
    key, secret = await service.create_api_key("anct", scopes={"READ", "CONTRIBUTE"})
    now = datetime.now(UTC)
    viewer = await service.resolve_bearer(secret, now=now)
    assert viewer.scopes == frozenset({"READ", "CONTRIBUTE"})
    await key.refresh_from_db()
    first_use = key.last_used_at
    assert first_use is not None
    await service.resolve_bearer(secret, now=now + timedelta(seconds=30))
    await key.refresh_from_db()
    assert key.last_used_at == first_use
    await service.resolve_bearer(secret, now=now + timedelta(minutes=2))
    await key.refresh_from_db()
    assert key.last_used_at > first_use


@pytest.mark.parametrize("scopes", [set(), {"WRITE"}, {"READ", "ADMIN"}])
async def test_api_key_scopes_are_validated(database, scopes):
    before = await ApiKey.all().count()
    with pytest.raises(BadUserInput) as caught:
        await service.create_api_key("anct", scopes=scopes)
    assert caught.value.field == "scopes"
    assert await ApiKey.all().count() == before


async def test_api_key_for_unknown_organization(database):
    with pytest.raises(BadUserInput) as caught:
        await service.create_api_key("inconnue", scopes={"READ"})
    assert caught.value.field == "organization"


async def test_revoked_api_key_is_refused(database):
    key, secret = await service.create_api_key("anct", scopes={"READ"})
    await service.revoke_api_key(key.prefix)
    await service.revoke_api_key(key.prefix)  # idempotent
    with pytest.raises(Unauthenticated):
        await service.resolve_bearer(secret)
    with pytest.raises(NotFound):
        await service.revoke_api_key("absent00")


@pytest.mark.parametrize("given", ["whole", "prefix", "tec_k_prefix", "padded"])
async def test_an_api_key_is_revoked_by_the_whole_key_or_its_prefix(database, given):
    key, secret = await service.create_api_key("anct", scopes={"READ"})
    typed = {
        "whole": secret,
        "prefix": key.prefix,
        "tec_k_prefix": f"tec_k_{key.prefix}",
        "padded": f"  {secret}\n",
    }[given]
    assert (await service.revoke_api_key(typed)).id == key.id
    with pytest.raises(Unauthenticated):
        await service.resolve_bearer(secret)


async def test_a_whole_key_that_only_shares_a_prefix_revokes_nothing(database):
    key, secret = await service.create_api_key("anct", scopes={"READ"})
    with pytest.raises(NotFound) as caught:
        await service.revoke_api_key(secret[:-4] + "XXXX")
    assert caught.value.field == "key"
    with pytest.raises(BadUserInput):
        await service.revoke_api_key("tec_k_abc")
    assert (await service.resolve_bearer(secret)).api_key_id == key.id


async def test_outdated_password_hash_is_upgraded_on_sign_in(database):
    from argon2 import PasswordHasher

    account = await _editor()
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    account.password_hash = weak
    await account.save()
    await service.sign_in(account.email, password=PASSWORD)
    await account.refresh_from_db()
    assert account.password_hash != weak
    assert account.password_hash.startswith("$argon2id$")
    assert service.verify_password(account.password_hash, password=PASSWORD)


def test_passwords_are_stored_with_the_production_parameters(monkeypatch):
    """The suite hashes with argon2's cheapest profile (tests/conftest.py); the product
    hashes with RFC 9106's low-memory profile."""
    monkeypatch.setattr(service, "_hasher", service.PRODUCTION_HASHER)
    stored = service.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert service.verify_password(stored, password=PASSWORD)
