"""Accounts, sign-in, bearer tokens and partner API keys.

Secrets (``tec_u_…`` tokens, ``tec_k_…`` keys) are returned once to the caller and only
their SHA-256 is stored; passwords are hashed with argon2id. Failures raise the domain
errors of :mod:`services.errors`; messages are in French and safe to show.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from services.accounts.models import AccessToken, Account, ApiKey
from services.audit.service import record
from services.errors import (
    BadUserInput,
    Conflict,
    NotFound,
    Problems,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from services.organizations.models import Organization
from services.policy import is_allowed
from services.territories.models import Territory
from services.throttle import Throttle, Unthrottled
from services.viewer import Role, Viewer

TOKEN_PREFIX = "tec_u_"
API_KEY_PREFIX = "tec_k_"
API_KEY_PREFIX_LENGTH = 8
DEFAULT_TOKEN_TTL = timedelta(days=30)
MAX_TOKEN_TTL = timedelta(days=366)
LAST_USED_PRECISION = timedelta(minutes=1)

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 256
EMAIL_MAX_LENGTH = 254

SCOPE_READ = "READ"
SCOPE_CONTRIBUTE = "CONTRIBUTE"
API_KEY_SCOPES = frozenset({SCOPE_READ, SCOPE_CONTRIBUTE})
ACCOUNT_ROLES = frozenset({Role.ADMIN, Role.EDITOR, Role.LOCAL_AUTHORITY, Role.PARTNER})

SIGN_IN_FAILED = "Adresse e-mail ou mot de passe incorrect"
SIGN_IN_THROTTLED = (
    "Trop de tentatives de connexion : réessayez plus tard, ou demandez une "
    "réinitialisation du mot de passe à un administrateur."
)


@dataclass(frozen=True)
class SignInAttempts:
    """Sign-in attempts allowed per window (the throttle's window)."""

    per_email: int = 10
    per_address: int = 50


INVALID_TOKEN = "Jeton invalide ou expiré"

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)

# argon2-cffi's defaults: RFC 9106's low-memory profile (64 MiB, 3 passes, 4 lanes), about
# a quarter of a second of CPU per hash. The test suite swaps in the library's cheapest
# profile for the accounts it makes by the hundred (tests/conftest.py) and checks these.
PRODUCTION_HASHER = PasswordHasher()
_hasher = PRODUCTION_HASHER
# Verified when the e-mail is unknown, so that both failures take about as long: the hash
# of a random password nobody kept, with the hasher's parameters (a test checks they are
# the same), written here rather than computed by every process that imports this module.
DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$4JuBxhjk+8mSf5JexBw9qw$KDd0RV"
    "kVJVTW6cToEfwjyXacHRj7wEAmu3mTuxeT6sg"
)


def _now() -> datetime:
    return datetime.now(UTC)


def secret_digest(secret: str) -> str:
    """SHA-256 (hex) of a token or key secret: what the database stores."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# --- Passwords --------------------------------------------------------------------------


def validate_password(password: str) -> None:
    """Refuse passwords shorter than 12 or longer than 256 characters."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise BadUserInput(
            f"Le mot de passe doit compter au moins {PASSWORD_MIN_LENGTH} caractères",
            field="password",
            operator_message=f"the password needs at least {PASSWORD_MIN_LENGTH} characters",
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise BadUserInput(
            f"Le mot de passe ne peut pas dépasser {PASSWORD_MAX_LENGTH} caractères",
            field="password",
            operator_message=f"the password may have at most {PASSWORD_MAX_LENGTH} characters",
        )


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` (after checking the length rules)."""
    validate_password(password)
    return _hasher.hash(password)


def verify_password(password_hash: str, *, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; never raises on a bad hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _invalid_email() -> BadUserInput:
    return BadUserInput(
        "Adresse e-mail invalide", field="email", operator_message="invalid e-mail address"
    )


def normalize_email(email: str) -> str:
    """Trimmed, lower-cased e-mail address, checked for a plausible shape."""
    value = email.strip().lower()
    if not value or len(value) > EMAIL_MAX_LENGTH or not _EMAIL.match(value):
        raise _invalid_email()
    local = value.split("@", 1)[0]
    if len(local) > 64 or local.startswith(".") or local.endswith(".") or ".." in local:
        raise _invalid_email()
    return value


# --- Accounts ---------------------------------------------------------------------------


def parse_role(value: str | Role) -> Role:
    """The account role named ``value`` (``editor``, ``local-authority``, ``PARTNER``…)."""
    if isinstance(value, Role):
        role = value
    else:
        try:
            role = Role(value.strip().upper().replace("-", "_"))
        except ValueError:
            role = None  # type: ignore[assignment]
    if role not in ACCOUNT_ROLES:
        raise BadUserInput(
            "Rôle inconnu : choisir parmi admin, editor, local-authority, partner",
            field="role",
            operator_message="unknown role: choose admin, editor, local-authority or partner",
        )
    return role


async def create_account(
    email: str,
    *,
    password: str,
    role: Role | str,
    territory_slug: str | None = None,
    organization_slug: str | None = None,
    display_name: str = "",
    by: Viewer | None = None,
) -> Account:
    """Create an account. A local-authority member belongs to exactly one territory, a
    partner to exactly one organisation; other roles belong to neither. Without a
    ``display_name`` the account is named after its address (``camille.martin@…`` →
    ``camille.martin``), so the audit log never shows a blank author. An e-mail address
    already in use raises :class:`Conflict` and nothing is created. The audit log records
    the creation under ``by`` (the operator; None: the platform itself)."""
    problems = Problems()
    checked_address = problems.check(partial(normalize_email, email))
    checked_role = problems.check(partial(parse_role, role))
    display_name = display_name.strip() or _name_from_address(checked_address or "")
    if len(display_name) > 200:
        problems.add(
            BadUserInput(
                "Nom affiché trop long (200 caractères au plus)",
                field="displayName",
                operator_message="the display name may have at most 200 characters",
            )
        )
    # Which of territory and organisation the account needs depends on its role.
    if checked_role is not None:
        problems.check(partial(_check_affiliation, checked_role, territory_slug, organization_slug))
    password_hash = problems.check(partial(hash_password, password))
    territory = organization = None
    if territory_slug and checked_role is Role.LOCAL_AUTHORITY:
        territory = await Territory.filter(slug=territory_slug).first()
        if territory is None:
            problems.add(
                BadUserInput(
                    f"Territoire inconnu : {territory_slug}",
                    field="territory",
                    operator_message=f"unknown territory: {territory_slug}",
                )
            )
    if organization_slug and checked_role is Role.PARTNER:
        organization = await Organization.filter(slug=organization_slug).first()
        if organization is None:
            problems.add(_unknown_organization(organization_slug))
    problems.raise_any()
    assert checked_address is not None and checked_role is not None
    address, role = checked_address, checked_role

    async with in_transaction():
        if await Account.filter(email=address).exists():
            raise _email_taken()
        try:
            account = await Account.create(
                email=address,
                password_hash=password_hash,
                display_name=display_name,
                role=role,
                territory=territory,
                organization=organization,
            )
        except IntegrityError:  # a concurrent creation with the same address
            raise _email_taken() from None
        await record(
            by,
            "account.create",
            account,
            changes={"email": [None, address], "role": [None, role.value]},
        )
        return account


def _check_affiliation(
    role: Role, territory_slug: str | None, organization_slug: str | None
) -> None:
    """A local-authority member names a territory, a partner an organisation, and no one
    else names either."""
    problems = Problems()
    if role is Role.LOCAL_AUTHORITY and not territory_slug:
        problems.add(
            BadUserInput(
                "Un compte de collectivité doit être rattaché à un territoire",
                field="territory",
                operator_message="a local-authority account needs --territory",
            )
        )
    if role is not Role.LOCAL_AUTHORITY and territory_slug:
        problems.add(
            BadUserInput(
                "Seul un compte de collectivité est rattaché à un territoire",
                field="territory",
                operator_message="only a local-authority account has a territory",
            )
        )
    if role is Role.PARTNER and not organization_slug:
        problems.add(
            BadUserInput(
                "Un compte partenaire doit être rattaché à une organisation",
                field="organization",
                operator_message="a partner account needs --organization",
            )
        )
    if role is not Role.PARTNER and organization_slug:
        problems.add(
            BadUserInput(
                "Seul un compte partenaire est rattaché à une organisation",
                field="organization",
                operator_message="only a partner account has an organisation",
            )
        )
    problems.raise_any()


def _email_taken() -> Conflict:
    return Conflict(
        "Un compte existe déjà avec cette adresse e-mail",
        field="email",
        operator_message="an account already exists with this e-mail address",
    )


def _unknown_organization(slug: str) -> BadUserInput:
    return BadUserInput(
        f"Organisation inconnue : {slug}",
        field="organization",
        operator_message=f"unknown organisation: {slug}",
    )


def _name_from_address(address: str) -> str:
    return address.split("@", 1)[0]


def display_name_of(account: Account) -> str:
    """The name shown for an account: its display name, else the part of its address
    before the ``@`` (accounts created without a name)."""
    return account.display_name.strip() or _name_from_address(account.email)


async def get_account_by_email(email: str) -> Account:
    """The account with this address; :class:`NotFound` otherwise."""
    account = await Account.filter(email=email.strip().lower()).first()
    if account is None:
        raise NotFound(
            "Aucun compte avec cette adresse e-mail",
            field="email",
            operator_message=f"no account with the e-mail address {email.strip()}",
        )
    return account


# --- Tokens -----------------------------------------------------------------------------


async def issue_token(
    account: Account, *, ttl: timedelta = DEFAULT_TOKEN_TTL, by: Viewer | None = None
) -> str:
    """Store a new bearer token for ``account`` and return its secret (shown once). A
    token issued ``by`` an operator (``tec token create``) is recorded in the audit log;
    one issued at sign-in is not."""
    if ttl <= timedelta(0) or ttl > MAX_TOKEN_TTL:
        raise BadUserInput(
            "Durée de validité invalide (1 seconde à 366 jours)",
            field="ttl",
            operator_message="invalid lifetime (1 second to 366 days)",
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with in_transaction():
        token = await AccessToken.create(
            account=account, token_hash=secret_digest(secret), expires_at=_now() + ttl
        )
        if by is not None:
            await record(
                by,
                "account.issue_token",
                account,
                changes={
                    "token": [None, token.id],
                    "expires_at": [None, token.expires_at.isoformat()],
                },
            )
    return secret


async def sign_in(
    email: str,
    *,
    password: str,
    ttl: timedelta = DEFAULT_TOKEN_TTL,
    throttle: Throttle | None = None,
    address: str = "",
    attempts: SignInAttempts | None = None,
) -> tuple[Account, str]:
    """Check the credentials and return the account with a fresh bearer token.

    An unknown address, a wrong password and an inactive account all raise the same
    :class:`Unauthenticated`, so nobody learns which addresses have an account. Every
    attempt is counted per e-mail address and per client ``address`` by ``throttle``:
    beyond the allowance of either, attempts are refused with ``RATE_LIMITED`` before the
    password is even checked."""
    throttle = throttle or Unthrottled()
    attempts = attempts or SignInAttempts()
    normalized = email.strip().lower()
    allowed = await throttle.attempt(
        f"signin:email:{secret_digest(normalized)[:32]}", limit=attempts.per_email
    )
    if address:
        allowed = (
            await throttle.attempt(f"signin:ip:{address}", limit=attempts.per_address) and allowed
        )
    if not allowed:
        raise RateLimited(SIGN_IN_THROTTLED)
    account = await Account.filter(email=normalized).first()
    if account is None:
        verify_password(DUMMY_HASH, password=password)
    if (
        account is None
        or not verify_password(account.password_hash, password=password)
        or not account.is_active
    ):
        raise Unauthenticated(SIGN_IN_FAILED)
    account.last_login_at = _now()
    update_fields = ["last_login_at", "updated_at"]
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
        update_fields.append("password_hash")
    await account.save(update_fields=update_fields)
    return account, await issue_token(account, ttl=ttl)


async def sign_out(token: str) -> None:
    """Revoke the bearer token ``token``; revoking it again, or an unknown one, is a no-op."""
    await AccessToken.filter(token_hash=secret_digest(token), revoked_at__isnull=True).update(
        revoked_at=_now()
    )


# --- API keys ---------------------------------------------------------------------------


def parse_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """Upper-cased scopes, each one of ``READ`` and ``CONTRIBUTE``; at least one."""
    result = frozenset(s.strip().upper() for s in scopes if s.strip())
    unknown = result - API_KEY_SCOPES
    if unknown:
        named = ", ".join(sorted(unknown))
        raise BadUserInput(
            f"Portée inconnue : {named} (READ ou CONTRIBUTE)",
            field="scopes",
            operator_message=f"unknown scope: {named.lower()} (read or contribute)",
        )
    if not result:
        raise BadUserInput(
            "Indiquer au moins une portée (READ, CONTRIBUTE)",
            field="scopes",
            operator_message="give at least one scope (read, contribute)",
        )
    return result


def _api_key_random_part() -> str:
    """The random part of a new key. It never starts with « - »: operators type its prefix
    as an argument (``tec apikey revoke PREFIX``), where a leading dash reads as an
    option."""
    while True:
        random_part = secrets.token_urlsafe(32)
        if not random_part.startswith("-"):
            return random_part


async def create_api_key(
    organization_slug: str, *, scopes: Iterable[str], name: str = "", by: Viewer | None = None
) -> tuple[ApiKey, str]:
    """Create an API key for an organisation and return it with its secret (shown once);
    the audit log records it under ``by`` (the operator).

    The key's ``prefix`` (the first 8 characters after ``tec_k_``) identifies it in
    listings and for revocation."""
    problems = Problems()
    scope_set = problems.check(partial(parse_scopes, scopes))
    name = name.strip()
    if len(name) > 200:
        problems.add(
            BadUserInput(
                "Nom trop long (200 caractères au plus)",
                field="name",
                operator_message="the name may have at most 200 characters",
            )
        )
    organization = await Organization.filter(slug=organization_slug).first()
    if organization is None:
        problems.add(_unknown_organization(organization_slug))
    problems.raise_any()
    assert scope_set is not None
    for _ in range(5):
        random_part = _api_key_random_part()
        prefix = random_part[:API_KEY_PREFIX_LENGTH]
        if await ApiKey.filter(prefix=prefix).exists():
            continue
        secret = API_KEY_PREFIX + random_part
        async with in_transaction():
            key = await ApiKey.create(
                organization=organization,
                name=name,
                prefix=prefix,
                key_hash=secret_digest(secret),
                scopes=",".join(sorted(scope_set)),
            )
            await record(
                by,
                "apikey.create",
                key,
                changes={
                    "prefix": [None, prefix],
                    "organization": [None, organization_slug],
                    "scopes": [None, key.scopes],
                },
            )
        return key, secret
    raise Conflict("Impossible de générer une clé unique, réessayer")  # pragma: no cover


def api_key_prefix(secret: str) -> str:
    """The listing prefix of an API key secret."""
    return secret.removeprefix(API_KEY_PREFIX)[:API_KEY_PREFIX_LENGTH]


async def revoke_api_key(key_or_prefix: str, *, by: Viewer | None = None) -> ApiKey:
    """Revoke a key given whole (``tec_k_…``) or by its prefix, the 8 characters after
    ``tec_k_`` (``tec_k_`` in front of them is accepted too); idempotent. A whole key must
    be the stored one, not only share its prefix. :class:`NotFound` if no key matches.
    The audit log records the revocation under ``by`` (the operator)."""
    random_part = key_or_prefix.strip().removeprefix(API_KEY_PREFIX)
    if len(random_part) < API_KEY_PREFIX_LENGTH:
        raise BadUserInput(
            "Donner la clé (tec_k_…) ou son préfixe, les 8 caractères après tec_k_", field="key"
        )
    key = await ApiKey.filter(prefix=random_part[:API_KEY_PREFIX_LENGTH]).first()
    whole = len(random_part) > API_KEY_PREFIX_LENGTH
    if key is None or (whole and key.key_hash != secret_digest(API_KEY_PREFIX + random_part)):
        raise NotFound("Aucune clé ne correspond", field="key")
    if key.revoked_at is None:
        async with in_transaction():
            key.revoked_at = _now()
            await key.save(update_fields=["revoked_at", "updated_at"])
            await record(
                by,
                "apikey.revoke",
                key,
                changes={"revoked_at": [None, key.revoked_at.isoformat()]},
            )
    return key


# --- Bearer resolution ------------------------------------------------------------------


async def resolve_bearer(secret: str, *, now: datetime | None = None) -> Viewer:
    """The viewer behind an ``Authorization: Bearer`` secret.

    ``tec_u_…`` is an account's token (valid while not revoked, not expired and the
    account active); ``tec_k_…`` a partner API key (valid while not revoked). Anything
    else raises :class:`Unauthenticated`."""
    now = now or _now()
    secret = secret.strip()
    if secret.startswith(TOKEN_PREFIX) and len(secret) > len(TOKEN_PREFIX):
        token = (
            await AccessToken.filter(token_hash=secret_digest(secret), revoked_at__isnull=True)
            .select_related("account")
            .first()
        )
        if token is not None and token.expires_at > now and token.account.is_active:
            account = token.account
            return Viewer(
                role=account.role,
                account_id=account.id,
                territory_id=account.territory_id,  # type: ignore[attr-defined]
                organization_id=account.organization_id,  # type: ignore[attr-defined]
            )
    elif secret.startswith(API_KEY_PREFIX) and len(secret) > len(API_KEY_PREFIX):
        key = await ApiKey.filter(key_hash=secret_digest(secret), revoked_at__isnull=True).first()
        if key is not None:
            if key.last_used_at is None or key.last_used_at < now - LAST_USED_PRECISION:
                # Approximate anyway: a database kept busy by another process does not
                # refuse the request for it (the next request notes the use).
                with contextlib.suppress(Unavailable):
                    await ApiKey.filter(id=key.id).update(last_used_at=now)
            return Viewer(
                role=Role.PARTNER,
                organization_id=key.organization_id,  # type: ignore[attr-defined]
                scopes=key.scope_set,
                api_key_id=key.id,
            )
    raise Unauthenticated(INVALID_TOKEN)


# --- Reads ------------------------------------------------------------------------------


async def get_accounts_by_ids(ids: Iterable[int]) -> dict[int, Account]:
    return {a.id: a for a in await Account.filter(id__in=list(ids))}


async def get_api_key_prefixes_by_ids(ids: Iterable[int]) -> dict[int, str]:
    """The prefix of each API key among ``ids`` (what names a key in listings)."""
    return dict(await ApiKey.filter(id__in=list(ids)).values_list("id", "prefix"))


async def get_readable_accounts_by_ids(viewer: Viewer, ids: Iterable[int]) -> dict[int, Account]:
    """The accounts among ``ids`` that ``viewer`` may look up: their own, and any for
    those who read the audit log (where accounts appear as authors)."""
    wanted = list(ids)
    if not is_allowed(viewer, "audit.read"):
        wanted = [i for i in wanted if i == viewer.account_id]
    return await get_accounts_by_ids(wanted) if wanted else {}


async def get_token_expiry(secret: str) -> datetime | None:
    """When the token ``secret`` expires (None if unknown)."""
    token = await AccessToken.filter(token_hash=secret_digest(secret)).first()
    return token.expires_at if token else None
