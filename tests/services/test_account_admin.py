"""Administration of accounts (domain layer): deactivation, sessions, password resets,
listings, and the audit log of each."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.accounts import admin, service
from services.accounts.models import Account
from services.audit.models import AuditEntry
from services.errors import BadUserInput, Conflict, Forbidden, Unauthenticated
from services.organizations.models import Organization
from services.pagination import PageRequest
from services.subscribers import signing
from services.subscribers.signing import SigningKeys
from services.viewer import Role, Viewer

PASSWORD = "un mot de passe solide"
NEW_PASSWORD = "un tout nouveau mot de passe"
KEYS = SigningKeys.of("secret-de-test-0123456789abcdefghij")
PAGE = PageRequest(first=100, after=None)


def _email(tag: str = "admin") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.org"


async def _admin() -> tuple[Account, Viewer]:
    account = await service.create_account(
        _email("chef"), password=PASSWORD, role=Role.ADMIN, display_name="Camille Admin"
    )
    return account, Viewer(role=Role.ADMIN, account_id=account.id)


async def _person(**kwargs) -> Account:
    kwargs.setdefault("role", Role.EDITOR)
    return await service.create_account(kwargs.pop("email", _email()), password=PASSWORD, **kwargs)


async def _entries(account: Account) -> list[AuditEntry]:
    return await AuditEntry.filter(entity_type="Account", entity_id=account.id).order_by("id")


async def test_a_deactivated_account_cannot_sign_in_and_its_tokens_stop_at_once(database):
    _, chief = await _admin()
    person = await _person()
    _, token = await service.sign_in(person.email, password=PASSWORD)
    assert (await service.resolve_bearer(token)).account_id == person.id

    await admin.deactivate_account(chief, person.id)

    with pytest.raises(Unauthenticated):
        await service.resolve_bearer(token)
    with pytest.raises(Unauthenticated) as refused:
        await service.sign_in(person.email, password=PASSWORD)
    assert refused.value.message == service.SIGN_IN_FAILED  # nothing tells it is deactivated

    await admin.reactivate_account(chief, person.id)
    with pytest.raises(Unauthenticated):
        await service.resolve_bearer(token)  # old tokens stay revoked
    _, fresh = await service.sign_in(person.email, password=PASSWORD)
    assert (await service.resolve_bearer(fresh)).account_id == person.id


async def test_deactivation_and_reactivation_are_audited_with_the_actor(database):
    chief_account, chief = await _admin()
    person = await _person()
    await service.sign_in(person.email, password=PASSWORD)
    await admin.deactivate_account(chief, person.id)
    await admin.deactivate_account(chief, person.id)  # again: nothing changes, nothing recorded
    await admin.reactivate_account(chief, person.id)
    entries = await _entries(person)
    assert [(e.action, e.actor_account_id, e.changes) for e in entries] == [
        ("account.create", None, {"email": [None, person.email], "role": [None, "EDITOR"]}),
        (
            "account.deactivate",
            chief_account.id,
            {"is_active": [True, False], "active_tokens": [1, 0]},
        ),
        ("account.reactivate", chief_account.id, {"is_active": [False, True]}),
    ]


async def test_an_administrator_cannot_deactivate_themself(database):
    account, chief = await _admin()
    with pytest.raises(Conflict):
        await admin.deactivate_account(chief, account.id)
    assert (await Account.get(id=account.id)).is_active


@pytest.mark.parametrize("role", [Role.EDITOR, Role.LOCAL_AUTHORITY, Role.PARTNER])
async def test_only_administrators_manage_accounts(database, role):
    person = await _person()
    other = Viewer(role=role, account_id=person.id + 10_000)
    for attempt in (
        admin.deactivate_account(other, person.id),
        admin.revoke_tokens(other, person.id),
        admin.start_password_reset(other, person.id, keys=KEYS),
        admin.list_accounts(other, flt=admin.AccountFilter(), page=PAGE),
        admin.list_api_keys(other, flt=admin.ApiKeyFilter(), page=PAGE),
    ):
        with pytest.raises(Forbidden):
            await attempt
    assert (await Account.get(id=person.id)).is_active


async def test_revoke_tokens_ends_every_session_but_not_the_password(database):
    _, chief = await _admin()
    person = await _person()
    tokens = [(await service.sign_in(person.email, password=PASSWORD))[1] for _ in range(3)]
    _, revoked = await admin.revoke_tokens(chief, person.id)
    assert revoked == 3
    for token in tokens:
        with pytest.raises(Unauthenticated):
            await service.resolve_bearer(token)
    assert await admin.count_active_tokens([person.id]) == {}
    await service.sign_in(person.email, password=PASSWORD)
    assert await admin.count_active_tokens([person.id]) == {person.id: 1}
    [entry] = [e for e in await _entries(person) if e.action == "account.revoke_tokens"]
    assert entry.changes == {"active_tokens": [3, 0]}


async def test_a_reset_link_works_once_and_ends_the_sessions(database):
    _, chief = await _admin()
    person = await _person()
    _, old_token = await service.sign_in(person.email, password=PASSWORD)
    reset = await admin.start_password_reset(chief, person.id, keys=KEYS)
    # The current password keeps working until a new one is chosen.
    await service.sign_in(person.email, password=PASSWORD)
    assert (await admin.check_password_reset_link(KEYS, reset.token)).id == person.id

    await admin.reset_password_with_token(KEYS, reset.token, password=NEW_PASSWORD)

    with pytest.raises(Unauthenticated):
        await service.sign_in(person.email, password=PASSWORD)
    await service.sign_in(person.email, password=NEW_PASSWORD)
    with pytest.raises(Unauthenticated):
        await service.resolve_bearer(old_token)
    with pytest.raises(BadUserInput) as reused:
        await admin.reset_password_with_token(KEYS, reset.token, password="encore un autre mdp")
    assert reused.value.field == "token"
    await service.sign_in(person.email, password=NEW_PASSWORD)
    actions = [(e.action, e.actor_account_id) for e in await _entries(person)]
    assert actions[-2:] == [
        ("account.reset_password", chief.account_id),
        ("account.set_password", person.id),  # the owner of the link chose it
    ]


async def test_a_reset_link_expires_after_a_day(database):
    _, chief = await _admin()
    person = await _person()
    start = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)
    reset = await admin.start_password_reset(chief, person.id, keys=KEYS, at=start)
    assert reset.expires_at == start + dt.timedelta(hours=24)
    late = start + dt.timedelta(hours=24, seconds=1)
    with pytest.raises(BadUserInput):
        await admin.reset_password_with_token(KEYS, reset.token, password=NEW_PASSWORD, at=late)
    await service.sign_in(person.email, password=PASSWORD)  # unchanged


async def test_a_reset_link_signed_with_a_retired_secret_is_refused_after_rotation(database):
    _, chief = await _admin()
    person = await _person()
    old = SigningKeys.of("ancien-secret-0123456789abcdefghijkl")
    reset = await admin.start_password_reset(chief, person.id, keys=old)
    rotated = SigningKeys.of(
        "nouveau-secret-0123456789abcdefghij", "ancien-secret-0123456789abcdefghijkl"
    )
    assert (await admin.check_password_reset_link(rotated, reset.token)).id == person.id
    retired = SigningKeys.of("nouveau-secret-0123456789abcdefghij")
    with pytest.raises(BadUserInput):
        await admin.check_password_reset_link(retired, reset.token)


async def test_reset_links_are_not_subscription_links_and_refuse_deactivated_accounts(database):
    _, chief = await _admin()
    person = await _person()
    forged = signing.sign(KEYS, signing.MANAGE, person.id, 0, expires=None)
    with pytest.raises(BadUserInput):
        await admin.reset_password_with_token(KEYS, forged, password=NEW_PASSWORD)
    reset = await admin.start_password_reset(chief, person.id, keys=KEYS)
    await admin.deactivate_account(chief, person.id)
    with pytest.raises(BadUserInput):
        await admin.reset_password_with_token(KEYS, reset.token, password=NEW_PASSWORD)
    with pytest.raises(Conflict):
        await admin.start_password_reset(chief, person.id, keys=KEYS)


async def test_a_too_short_password_changes_nothing_and_keeps_the_link(database):
    _, chief = await _admin()
    person = await _person()
    reset = await admin.start_password_reset(chief, person.id, keys=KEYS)
    with pytest.raises(BadUserInput) as refused:
        await admin.reset_password_with_token(KEYS, reset.token, password="court")
    assert refused.value.field == "password"
    await service.sign_in(person.email, password=PASSWORD)
    await admin.check_password_reset_link(KEYS, reset.token)


async def test_accounts_are_filtered_by_role_organisation_state_and_text(database):
    _, chief = await _admin()
    tag = uuid.uuid4().hex[:8]
    organization = await Organization.get(slug="decider-ensemble")
    partner = await _person(
        email=f"{tag}-partenaire@example.org",
        role=Role.PARTNER,
        organization_slug="decider-ensemble",
        display_name="Dominique Partenaire",
    )
    editor = await _person(email=f"{tag}-edition@example.org", display_name=f"Zoé {tag}")
    await admin.deactivate_account(chief, editor.id)

    async def emails(**conditions) -> list[str]:
        flt = admin.AccountFilter(**conditions)
        page = await admin.list_accounts(chief, flt=flt, page=PAGE)
        return [a.email for a in page.items if tag in a.email]

    assert await emails(text=tag.upper()) == [editor.email, partner.email]  # by e-mail
    assert await emails(text=tag) == [editor.email, partner.email]
    assert await emails(text=tag, roles=[Role.PARTNER]) == [partner.email]
    assert await emails(organization_id=organization.id) == [partner.email]
    assert await emails(text=tag, active=False) == [editor.email]
    assert await emails(text=tag, active=True) == [partner.email]
    found = await admin.list_accounts(
        chief, flt=admin.AccountFilter(text="dominique partenaire"), page=PAGE
    )
    assert partner.id in [a.id for a in found.items]  # by name, in any case


async def test_api_keys_are_listed_with_scopes_and_last_use(database):
    _, chief = await _admin()
    key, secret = await service.create_api_key("anct", scopes=["read"], name="site de test")
    await service.resolve_bearer(secret)
    page = await admin.list_api_keys(chief, flt=admin.ApiKeyFilter(), page=PAGE)
    [listed] = [k for k in page.items if k.id == key.id]
    assert listed.scope_set == {"READ"} and listed.last_used_at is not None
    await service.revoke_api_key(key.prefix)
    page = await admin.list_api_keys(chief, flt=admin.ApiKeyFilter(), page=PAGE)
    assert key.id not in [k.id for k in page.items]
    page = await admin.list_api_keys(chief, flt=admin.ApiKeyFilter(include_revoked=True), page=PAGE)
    assert key.id in [k.id for k in page.items]


async def test_last_use_of_a_key_is_written_at_most_once_a_minute(database):
    from services.accounts.models import ApiKey

    key, secret = await service.create_api_key("anct", scopes=["read"])
    start = dt.datetime(2031, 5, 1, 12, tzinfo=dt.UTC)
    await service.resolve_bearer(secret, now=start)
    await service.resolve_bearer(secret, now=start + dt.timedelta(seconds=59))
    assert (await ApiKey.get(id=key.id)).last_used_at == start
    await service.resolve_bearer(secret, now=start + dt.timedelta(seconds=61))
    assert (await ApiKey.get(id=key.id)).last_used_at == start + dt.timedelta(seconds=61)
