"""Administration of accounts and API keys: listing, deactivation, password resets, ending
every session of an account.

Administrators act through GraphQL, operators through the ``tec`` command (as
:data:`OPERATOR`). Every change is recorded in the audit log with whoever made it. A
password reset is a link signed with the rotatable secrets of
:mod:`services.subscribers.signing`; it names the account and a fingerprint of its
password hash, so it works once (the new password changes the fingerprint) and stops
working when the password is changed any other way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from tortoise.expressions import Q

from services.accounts.models import AccessToken, Account, ApiKey
from services.accounts.service import get_account_by_email, hash_password, validate_password
from services.audit.service import record
from services.editing import now as _now
from services.editing import write_transaction
from services.errors import BadUserInput, Conflict, Forbidden, NotFound, Problems
from services.organizations.models import Organization
from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.policy import authorize
from services.subscribers import signing
from services.subscribers.signing import SigningKeys
from services.viewer import Role, Viewer

OPERATOR = Viewer(role=Role.ADMIN)
"""An administrator without an account or a name: what reads for operators need (writes
go through :func:`operator_viewer`, which the audit log names)."""

PASSWORD_RESET = "password"  # purpose of the signed links (never a subscriber's)
PASSWORD_RESET_TTL = dt.timedelta(hours=24)
TEXT_MAX_LENGTH = 200

ACCOUNT_ORDERING = Ordering((SortKey("email"), SortKey("id", False, "int")))
API_KEY_ORDERING = Ordering((SortKey("id", True, "int"),))

_INVALID_RESET_LINK = "Lien invalide, expiré ou déjà utilisé : demandez-en un nouveau."


@dataclass(frozen=True)
class AccountFilter:
    """Conditions on accounts; every one given must hold."""

    roles: Sequence[Role] = ()
    organization_id: int | None = None
    organization_slug: str | None = None
    territory_id: int | None = None
    active: bool | None = None
    text: str = ""
    """Part of the e-mail address or of the display name, in any case."""


@dataclass(frozen=True)
class ApiKeyFilter:
    organization_id: int | None = None
    organization_slug: str | None = None
    include_revoked: bool = False


async def operator_viewer(name: str, *, email: str | None = None) -> Viewer:
    """Who acts for the operators' ``tec`` command: an administrator the audit log names
    ``name`` (``tec (alice@host)``: the system user and host that ran it). With ``email``
    (``tec --as``, ``TEC_OPERATOR``) it is also the operator's own account, so that each
    entry links to them too: an active administrator's account, or refused."""
    account_id = None
    if email:
        account = await get_account_by_email(email)
        if not account.is_active or account.role is not Role.ADMIN:
            raise Forbidden(
                "Seul un compte d'administration actif peut signer les commandes des opérateurs.",
                field="email",
                operator_message=f"--as (TEC_OPERATOR) names {account.email}, which is not "
                "an active administrator account",
            )
        account_id = account.id
    return Viewer(role=Role.ADMIN, account_id=account_id, operator=name)


def _account_not_found() -> NotFound:
    return NotFound("Compte introuvable.", field="id", operator_message="no such account")


async def get_account(viewer: Viewer, account_id: int) -> Account:
    """One account (administrators)."""
    authorize(viewer, "account.list")
    found = await Account.filter(id=account_id).first()
    if found is None:
        raise _account_not_found()
    return found


async def list_accounts(viewer: Viewer, *, flt: AccountFilter, page: PageRequest) -> Page[Account]:
    """Accounts by e-mail address (administrators)."""
    authorize(viewer, "account.list")
    condition = Q()
    if flt.roles:
        condition &= Q(role__in=list(flt.roles))
    if flt.organization_id is not None:
        condition &= Q(organization_id=flt.organization_id)
    if flt.organization_slug is not None:
        condition &= Q(organization__slug=flt.organization_slug)
    if flt.territory_id is not None:
        condition &= Q(territory_id=flt.territory_id)
    if flt.active is not None:
        condition &= Q(is_active=flt.active)
    text = flt.text.strip()
    if len(text) > TEXT_MAX_LENGTH:
        raise BadUserInput(
            f"Texte recherché trop long ({TEXT_MAX_LENGTH} caractères au plus)",
            field="text",
            operator_message=f"the searched text may have at most {TEXT_MAX_LENGTH} characters",
        )
    if text:
        condition &= Q(email__icontains=text) | Q(display_name__icontains=text)
    return await paginate(Account.filter(condition), ACCOUNT_ORDERING, page)


async def get_affiliations(account_ids: Sequence[int]) -> dict[int, str]:
    """``{account id: slug of its territory or organisation}`` (accounts that have one)."""
    rows = await Account.filter(id__in=list(account_ids)).values_list(
        "id", "territory__slug", "organization__slug"
    )
    return {
        pk: territory or organization
        for pk, territory, organization in rows
        if territory or organization
    }


async def count_active_tokens(account_ids: Sequence[int]) -> dict[int, int]:
    """``{account id: sessions still usable}`` (not revoked, not expired)."""
    rows = await AccessToken.filter(
        account_id__in=list(account_ids), revoked_at__isnull=True, expires_at__gt=_now()
    ).values_list("account_id", flat=True)
    counts: dict[int, int] = {}
    for account_id in rows:
        counts[account_id] = counts.get(account_id, 0) + 1  # type: ignore[index]
    return counts


async def _locked(account_id: int) -> Account:
    found = await Account.filter(id=account_id).select_for_update().first()
    if found is None:
        raise _account_not_found()
    return found


async def _revoke_all(account: Account, at: dt.datetime) -> int:
    return await AccessToken.filter(
        account_id=account.id, revoked_at__isnull=True, expires_at__gt=at
    ).update(revoked_at=at)


async def deactivate_account(viewer: Viewer, account_id: int) -> Account:
    """Deactivate an account: it can no longer sign in, and every token it holds is
    revoked at once (reactivating it does not bring them back). Administrators cannot
    deactivate their own account. Deactivating it again changes nothing."""
    authorize(viewer, "account.deactivate")
    if viewer.account_id == account_id:
        raise Conflict(
            "Vous ne pouvez pas désactiver votre propre compte.",
            field="id",
            operator_message="an administrator cannot deactivate their own account",
        )
    async with write_transaction():
        account = await _locked(account_id)
        if not account.is_active:
            return account
        at = _now()
        account.is_active = False
        await account.save(update_fields=["is_active", "updated_at"])
        revoked = await _revoke_all(account, at)
        await record(
            viewer,
            "account.deactivate",
            account,
            changes={"is_active": [True, False], "active_tokens": [revoked, 0]},
        )
    return account


async def reactivate_account(viewer: Viewer, account_id: int) -> Account:
    """Let a deactivated account sign in again (its old tokens stay revoked)."""
    authorize(viewer, "account.deactivate")
    async with write_transaction():
        account = await _locked(account_id)
        if account.is_active:
            return account
        account.is_active = True
        await account.save(update_fields=["is_active", "updated_at"])
        await record(viewer, "account.reactivate", account, changes={"is_active": [False, True]})
    return account


async def revoke_tokens(viewer: Viewer, account_id: int) -> tuple[Account, int]:
    """End every session of an account (its bearer tokens); returns how many were usable.
    The account can sign in again with its password."""
    authorize(viewer, "session.revoke_all")
    async with write_transaction():
        account = await _locked(account_id)
        revoked = await _revoke_all(account, _now())
        await record(
            viewer, "account.revoke_tokens", account, changes={"active_tokens": [revoked, 0]}
        )
    return account, revoked


# --- Passwords --------------------------------------------------------------------------


def _password_fingerprint(account: Account) -> int:
    """A number that changes whenever the password does (argon2 salts every hash)."""
    digest = hashlib.sha256(account.password_hash.encode()).digest()
    return int.from_bytes(digest[:6], "big")


@dataclass(frozen=True)
class PasswordReset:
    """A reset link to e-mail: the token goes into the link."""

    account: Account
    token: str
    expires_at: dt.datetime


async def start_password_reset(
    viewer: Viewer, account_id: int, *, keys: SigningKeys, at: dt.datetime | None = None
) -> PasswordReset:
    """The token of a password-reset link for an active account, valid 24 hours and once
    (administrators; the caller e-mails it). The current password keeps working until a
    new one is set."""
    authorize(viewer, "account.reset_password")
    at = at or _now()
    async with write_transaction():
        account = await _locked(account_id)
        if not account.is_active:
            raise Conflict(
                "Ce compte est désactivé : réactivez-le avant de réinitialiser son mot de passe.",
                field="id",
                operator_message="this account is deactivated: reactivate it first",
            )
        await record(viewer, "account.reset_password", account)
    expires_at = at + PASSWORD_RESET_TTL
    token = signing.sign(
        keys, PASSWORD_RESET, account.id, _password_fingerprint(account), expires=expires_at
    )
    return PasswordReset(account, token, expires_at)


def _reset_link_refused() -> BadUserInput:
    return BadUserInput(_INVALID_RESET_LINK, field="token")


async def _account_of_link(
    keys: SigningKeys, token: str, at: dt.datetime, *, lock: bool
) -> Account:
    try:
        account_id, fingerprint = signing.verify(keys, token, PASSWORD_RESET, now=at)
    except BadUserInput:
        raise _reset_link_refused() from None
    query = Account.filter(id=account_id)
    found = await (query.select_for_update() if lock else query).first()
    if found is None or not found.is_active or _password_fingerprint(found) != fingerprint:
        raise _reset_link_refused()
    return found


async def check_password_reset_link(
    keys: SigningKeys, token: str, *, at: dt.datetime | None = None
) -> Account:
    """The account a reset link is for, while the link can still be used."""
    return await _account_of_link(keys, token, at or _now(), lock=False)


async def reset_password_with_token(
    keys: SigningKeys, token: str, *, password: str, at: dt.datetime | None = None
) -> Account:
    """Set a new password with the token of a reset link (no sign-in needed). The link
    stops working, and so do every session of the account and every other reset link."""
    at = at or _now()
    problems = Problems()
    problems.check(partial(validate_password, password))
    async with write_transaction():
        account = await problems.check_async(partial(_account_of_link, keys, token, at, lock=True))
        problems.raise_any()
        assert account is not None
        await _replace_password(account, password, at)
        await record(
            Viewer(role=account.role, account_id=account.id), "account.set_password", account
        )
    return account


async def set_password(viewer: Viewer, account_id: int, *, password: str) -> Account:
    """Replace an account's password (operators); its sessions end and pending reset links
    stop working."""
    authorize(viewer, "account.reset_password")
    validate_password(password)
    async with write_transaction():
        account = await _locked(account_id)
        await _replace_password(account, password, _now())
        await record(viewer, "account.set_password", account)
    return account


async def _replace_password(account: Account, password: str, at: dt.datetime) -> None:
    account.password_hash = hash_password(password)
    await account.save(update_fields=["password_hash", "updated_at"])
    await _revoke_all(account, at)


# --- API keys ---------------------------------------------------------------------------


async def list_api_keys(viewer: Viewer, *, flt: ApiKeyFilter, page: PageRequest) -> Page[ApiKey]:
    """Partner API keys, newest first, with their scopes and last use (administrators)."""
    authorize(viewer, "apikey.list")
    query = ApiKey.all()
    if flt.organization_id is not None:
        query = query.filter(organization_id=flt.organization_id)
    if flt.organization_slug is not None:
        query = query.filter(organization__slug=flt.organization_slug)
    if not flt.include_revoked:
        query = query.filter(revoked_at__isnull=True)
    return await paginate(query, API_KEY_ORDERING, page)


async def get_organization_slugs(organization_ids: Sequence[int]) -> dict[int, str]:
    """``{organisation id: slug}``, to name the owners of API keys in listings."""
    rows = await Organization.filter(id__in=list(organization_ids)).values_list("id", "slug")
    return dict(rows)
