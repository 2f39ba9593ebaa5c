"""Who may do what: the one authorisation table of the platform.

Every write and every private read names an operation of :func:`policy_table`: the rows
each content type declares (``services/<domain>/content_type.py``) and the platform's own
(:data:`_PLATFORM`). The docs' matrix (docs/authorization.md) is rendered from this table
and the matrix test tries each operation with each kind of principal.
"""

from __future__ import annotations

import enum

from services.errors import Forbidden, Unauthenticated
from services.viewer import Role, Viewer


class Principal(enum.StrEnum):
    """Kinds of caller, finer than roles: a partner's API key has scopes."""

    ADMIN = "ADMIN"
    EDITOR = "EDITOR"
    LOCAL_AUTHORITY = "LOCAL_AUTHORITY"
    PARTNER = "PARTNER"
    PARTNER_KEY_READ = "PARTNER_KEY_READ"
    PARTNER_KEY_CONTRIBUTE = "PARTNER_KEY_CONTRIBUTE"
    ANONYMOUS = "ANONYMOUS"


ADMINS = frozenset({Principal.ADMIN})
EDITORS = frozenset({Principal.ADMIN, Principal.EDITOR})
CONTRIBUTORS = frozenset(
    {Principal.LOCAL_AUTHORITY, Principal.PARTNER, Principal.PARTNER_KEY_CONTRIBUTE}
)
SIGNED_IN = frozenset(
    {Principal.ADMIN, Principal.EDITOR, Principal.LOCAL_AUTHORITY, Principal.PARTNER}
)

_PLATFORM: tuple[tuple[str, frozenset[Principal], str], ...] = (
    # Publication workflow of every publishable content type
    ("content.publish", EDITORS, "publish (now or at a date)"),
    ("content.unpublish", EDITORS, "unpublish"),
    ("content.archive", EDITORS, "archive"),
    ("content.preview", EDITORS, "read drafts, submitted and scheduled content; `statuses` filter"),
    # Newsletters and their subscribers
    (
        "newsletter.compose",
        EDITORS,
        "createNewsletterIssue, updateNewsletterIssue, items (add, pin, remove, reorder), "
        "composeNewsletter, newsletterPreview, newsletterIssues, templates; node(id:) of issues "
        "and templates",
    ),
    (
        "newsletter.sections",
        EDITORS,
        "setNewsletterSections (order, sections left out, titles, bodies, calls to action)",
    ),
    ("newsletter.send", EDITORS, "scheduleNewsletter, cancelNewsletter, sendTestNewsletter"),
    ("newsletter.recipients", EDITORS, "newsletterRecipients (how many and who, per segment)"),
    (
        "subscriber.subscribe",
        frozenset(Principal),
        "subscribe (double opt-in); the e-mailed links confirm, unsubscribe, change "
        "preferences, export and erase with their signed token",
    ),
    (
        "subscriber.read",
        EDITORS,
        "subscribers, node(id:) of a subscriber, Subscriber.email (never partner keys)",
    ),
    ("subscriber.manage", EDITORS, "exportSubscriber, eraseSubscriber on a subscriber's behalf"),
    # Private reads
    (
        "search.manage",
        EDITORS,
        "searchSynonyms, updateSearchSynonyms, searchIndexStatus (index lag)",
    ),
    (
        "search.tenant_token",
        EDITORS | {Principal.PARTNER, Principal.PARTNER_KEY_READ, Principal.PARTNER_KEY_CONTRIBUTE},
        "issueSearchTenantToken (Meilisearch token for a partner portal)",
    ),
    ("audit.read", EDITORS, "auditLog; node(id:) of the accounts it names"),
    # Webhooks of partner sites
    (
        "webhook.manage",
        frozenset({Principal.ADMIN, Principal.PARTNER}),
        "createWebhookEndpoint, updateWebhookEndpoint, deleteWebhookEndpoint, "
        "rotateWebhookSecret (partners: their organisation's endpoints only)",
    ),
    (
        "webhook.read",
        EDITORS | {Principal.PARTNER},
        "webhookEndpoints, webhookDeliveries (partners: their organisation's endpoints only)",
    ),
    ("account.read_email", EDITORS, "Account.email of others"),
    ("account.read_self", SIGNED_IN, "me and node(id:) of it (own account, own e-mail)"),
    ("session.sign_out", SIGNED_IN, "signOut"),
    # People and keys (administrators; operators run the same through `tec`)
    (
        "account.list",
        ADMINS,
        "accounts, account; Account.active, lastSignInAt and activeSessions of others",
    ),
    ("account.deactivate", ADMINS, "deactivateAccount, reactivateAccount (`tec user deactivate`)"),
    (
        "account.reset_password",
        ADMINS,
        "resetPassword: e-mails a signed link valid 24 hours and once (`tec user set-password`)",
    ),
    (
        "account.set_password",
        frozenset(Principal),
        "setPassword: a new password with the token of a reset link",
    ),
    (
        "session.revoke_all",
        ADMINS,
        "revokeTokens: every session of an account (`tec token revoke`)",
    ),
    ("apikey.list", ADMINS, "apiKeys: scopes, last use, revocation (`tec apikey list`)"),
)
"""Operations that belong to no content type; each content type brings its own rows
(:meth:`services.registry.ContentType.policy_rows`)."""


_TABLE: tuple[int, dict[str, tuple[frozenset[Principal], str]]] | None = None


def policy_table() -> dict[str, tuple[frozenset[Principal], str]]:
    """``{operation: (who may, what it covers)}``: every content type's rows, then the
    platform's own. Built again only when a content type is registered."""
    global _TABLE
    from services.registry import content_types, generation

    rows = content_types()
    if _TABLE is not None and _TABLE[0] == generation():
        return _TABLE[1]
    table = {
        row.operation: (row.who, row.description)
        for content in rows
        for row in content.policy_rows()
    }
    for operation, who, description in _PLATFORM:
        table[operation] = (who, description)
    _TABLE = (generation(), table)
    return table


def principal(viewer: Viewer) -> Principal:
    """The kind of caller ``viewer`` is."""
    if viewer.api_key_id is not None:
        if "CONTRIBUTE" in viewer.scopes:
            return Principal.PARTNER_KEY_CONTRIBUTE
        return Principal.PARTNER_KEY_READ
    return Principal(viewer.role.value)


def is_allowed(viewer: Viewer, operation: str) -> bool:
    return principal(viewer) in policy_table()[operation][0]


def authorize(viewer: Viewer, operation: str) -> None:
    """Raise ``UNAUTHENTICATED`` (anonymous) or ``FORBIDDEN`` unless ``viewer`` may."""
    if is_allowed(viewer, operation):
        return
    if viewer.role is Role.ANONYMOUS:
        raise Unauthenticated("Connexion requise : envoyez un jeton (Authorization: Bearer …).")
    raise Forbidden(f"Opération non autorisée pour votre rôle ({principal(viewer).value}).")


def render_matrix() -> str:
    """The authorisation matrix as a Markdown table (docs/authorization.md)."""
    principals = list(Principal)
    lines = [
        "| operation | " + " | ".join(p.value for p in principals) + " |",
        "| --- | " + " | ".join("---" for _ in principals) + " |",
    ]
    for operation, (allowed, description) in policy_table().items():
        cells = " | ".join("✅" if p in allowed else "—" for p in principals)
        lines.append(f"| `{operation}`: {description} | {cells} |")
    return "\n".join(lines) + "\n"


_DOC_INTRO = """# Authorisation

Who may do what. This table is rendered from `services/policy.py` (`render_matrix()`),
the one place where the rules live; `tests/schema/test_authorization_matrix.py` tries every
operation with every kind of caller and checks it is allowed or denied exactly as below.

Kinds of caller:

- **ADMIN**, **EDITOR**: accounts of the editorial team (`tec user create --role …`).
- **LOCAL_AUTHORITY**: an account of a member of a local authority; acts for its territory.
- **PARTNER**: an account of a member of a partner organisation.
- **PARTNER_KEY_READ**, **PARTNER_KEY_CONTRIBUTE**: an organisation's API key
  (`tec apikey create --organization SLUG --scopes read[,contribute]`), sent as
  `Authorization: Bearer tec_k_…`.
- **ANONYMOUS**: no `Authorization` header.

Everyone, anonymous included, reads published content. Denied writes and private lists
answer `UNAUTHENTICATED` (anonymous) or `FORBIDDEN` (signed in); private fields read as
`null` (e-mail addresses, rejection reasons of others' contributions). An
`Authorization` header with an unknown, revoked or expired secret is refused with HTTP 401
and `UNAUTHENTICATED`, never treated as anonymous.

"""

_DOC_OUTRO = """
Field-level rules beyond the table: `Resource.rejectionReason` is visible to editors and to
the contributor (the account, or the API key, that submitted it); `Account.email` to
editors and to the account itself; `VotingRound.votes` (who voted for what) to editors,
and to members of a local authority for their own authority's votes only;
`Membership.diagnosticNotes` to editors and the participant's own members.
`Account.active`, `lastSignInAt` and `createdAt` to administrators and to the account
itself, `Account.activeSessions` to administrators. An administrator cannot deactivate
their own account. Operators run the account operations through `tec` on the server
(`tec user …`, `tec token …`, `tec apikey …`), acting as an `ADMIN`: the audit log names
who ran each command (`operator`: `tec (<system user>@<host>)`) and, when they give their
own administrator account with `tec --as EMAIL` or `TEC_OPERATOR`, links the entry to it
(`actor`).
"""


def render_authorization_doc() -> str:
    """The whole of docs/authorization.md (``make docs`` writes it; a test compares)."""
    return _DOC_INTRO + render_matrix() + _DOC_OUTRO
