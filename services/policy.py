"""Who may do what: the one authorisation table of the platform.

Every write and every private read names an operation of :data:`POLICY`; the docs'
matrix (docs/authorization.md) is rendered from this table and the matrix test tries
each operation with each kind of principal.
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


EDITORS = frozenset({Principal.ADMIN, Principal.EDITOR})
CONTRIBUTORS = frozenset(
    {Principal.LOCAL_AUTHORITY, Principal.PARTNER, Principal.PARTNER_KEY_CONTRIBUTE}
)
SIGNED_IN = frozenset(
    {Principal.ADMIN, Principal.EDITOR, Principal.LOCAL_AUTHORITY, Principal.PARTNER}
)

POLICY: dict[str, frozenset[Principal]] = {
    # Editorial content
    "resource.create": EDITORS,
    "resource.update": EDITORS,
    "resource.delete": EDITORS,
    "theme.create": EDITORS,
    "theme.update": EDITORS,
    "theme.delete": EDITORS,
    "concept.create": EDITORS,
    "concept.update": EDITORS,
    "concept.delete": EDITORS,
    "event.create": EDITORS,
    "event.update": EDITORS,
    "event.delete": EDITORS,
    "organization.create": EDITORS,
    "organization.update": EDITORS,
    "organization.delete": EDITORS,
    "territory.create": EDITORS,
    "territory.update": EDITORS,
    "territory.delete": EDITORS,
    # Publication workflow (resources, events, concepts, themes)
    "content.publish": EDITORS,
    "content.unpublish": EDITORS,
    "content.archive": EDITORS,
    "content.preview": EDITORS,
    # « J'envoie ma ressource »
    "contribution.submit": CONTRIBUTORS,
    "contribution.list_own": CONTRIBUTORS,
    "contribution.moderate": EDITORS,
    # Votes on themes
    "round.open": EDITORS,
    "round.close": EDITORS,
    "vote.cast": frozenset({Principal.LOCAL_AUTHORITY}),
    "vote.withdraw": frozenset({Principal.LOCAL_AUTHORITY}),
    "vote.read_all": EDITORS,
    # Shared projects
    "project.create": EDITORS,
    "project.update": EDITORS,
    "project.apply": frozenset({Principal.LOCAL_AUTHORITY}),
    "project.withdraw": frozenset({Principal.LOCAL_AUTHORITY}),
    "project.decide": EDITORS,
    "project.start": EDITORS,
    "project.publish_news": EDITORS,
    "membership.update": frozenset({Principal.ADMIN, Principal.EDITOR, Principal.LOCAL_AUTHORITY}),
    # Newsletters and their subscribers
    "newsletter.compose": EDITORS,
    "newsletter.sections": EDITORS,
    "newsletter.send": EDITORS,
    "newsletter.recipients": EDITORS,
    "subscriber.subscribe": frozenset(Principal),
    "subscriber.read": EDITORS,
    "subscriber.manage": EDITORS,
    # Private reads
    "search.manage": EDITORS,
    "search.tenant_token": EDITORS
    | {Principal.PARTNER, Principal.PARTNER_KEY_READ, Principal.PARTNER_KEY_CONTRIBUTE},
    "audit.read": EDITORS,
    "account.read_email": EDITORS,
    "account.read_self": SIGNED_IN,
    "session.sign_out": SIGNED_IN,
}

DESCRIPTIONS: dict[str, str] = {
    "resource.create": "createResource",
    "resource.update": "updateResource",
    "resource.delete": "deleteResource",
    "theme.create": "createTheme",
    "theme.update": "updateTheme",
    "theme.delete": "deleteTheme",
    "concept.create": "createConcept",
    "concept.update": "updateConcept",
    "concept.delete": "deleteConcept",
    "event.create": "createEvent",
    "event.update": "updateEvent",
    "event.delete": "deleteEvent",
    "organization.create": "createOrganization",
    "organization.update": "updateOrganization",
    "organization.delete": "deleteOrganization",
    "territory.create": "createTerritory",
    "territory.update": "updateTerritory",
    "territory.delete": "deleteTerritory",
    "content.publish": "publish (now or at a date)",
    "content.unpublish": "unpublish",
    "content.archive": "archive",
    "content.preview": "read drafts, submitted and scheduled content; `statuses` filter",
    "contribution.submit": "contributeResource (« J'envoie ma ressource »)",
    "contribution.list_own": "myContributions (with rejection reasons)",
    "contribution.moderate": "moderationQueue, acceptContribution, rejectContribution",
    "round.open": "openVotingRound",
    "round.close": "closeVotingRound (before its closing date)",
    "vote.cast": "castVote, for one's own local authority",
    "vote.withdraw": "withdrawVote, for one's own local authority",
    "vote.read_all": "VotingRound.votes of every authority (others see their own only)",
    "project.create": "createSharedProject",
    "project.update": "updateSharedProject (summary, providers, dates, stages, resources)",
    "project.apply": "applyToProject as participant or observer, for one's own authority",
    "project.withdraw": "withdrawFromProject, for one's own authority",
    "project.decide": "confirmMembership, declineMembership",
    "project.start": "startSharedProject, advanceSharedProject",
    "project.publish_news": "publishProjectNews",
    "membership.update": "updateMembership (action plan, diagnostic notes; members: own only)",
    "newsletter.compose": "createNewsletterIssue, draftNewsletter (pre-filled for a month), "
    "updateNewsletterIssue, items (add, pin, remove, reorder), composeNewsletter, "
    "newsletterPreview, newsletterIssues, templates",
    "newsletter.sections": "setNewsletterSections (order, sections left out, titles, bodies, "
    "calls to action)",
    "newsletter.send": "scheduleNewsletter, cancelNewsletter, sendTestNewsletter",
    "newsletter.recipients": "newsletterRecipients (how many and who, per segment)",
    "subscriber.subscribe": "subscribe (double opt-in); the e-mailed links confirm, unsubscribe, "
    "change preferences, export and erase with their signed token",
    "subscriber.read": "subscribers, Subscriber.email (never partner keys)",
    "subscriber.manage": "exportSubscriber, eraseSubscriber on a subscriber's behalf",
    "search.manage": "searchSynonyms, updateSearchSynonyms, searchIndexStatus (index lag)",
    "search.tenant_token": "issueSearchTenantToken (Meilisearch token for a partner portal)",
    "audit.read": "auditLog",
    "account.read_email": "Account.email of others",
    "account.read_self": "me (own account, own e-mail)",
    "session.sign_out": "signOut",
}


def principal(viewer: Viewer) -> Principal:
    """The kind of caller ``viewer`` is."""
    if viewer.api_key_id is not None:
        if "CONTRIBUTE" in viewer.scopes:
            return Principal.PARTNER_KEY_CONTRIBUTE
        return Principal.PARTNER_KEY_READ
    return Principal(viewer.role.value)


def is_allowed(viewer: Viewer, operation: str) -> bool:
    return principal(viewer) in POLICY[operation]


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
    for operation, allowed in POLICY.items():
        cells = " | ".join("✅" if p in allowed else "—" for p in principals)
        lines.append(f"| `{operation}`: {DESCRIPTIONS[operation]} | {cells} |")
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
"""


def render_authorization_doc() -> str:
    """The whole of docs/authorization.md (``make docs`` writes it; a test compares)."""
    return _DOC_INTRO + render_matrix() + _DOC_OUTRO
