"""The organisation as a content type: its fields and what refers to it, declared once.

Organisations have no version column and no draft state: an update is a plain save
(last write wins, audited with the before/after of the fields it changed), a new
organisation is public at once.
"""

from __future__ import annotations

from typing import Any

from services.errors import BadUserInput
from services.fields import Cleaning, Field, Fields, Link, slug_field
from services.organizations.demo import load_demo_organization
from services.organizations.models import (
    Organization,
    OrganizationKind,
    OrganizationRole,
    OrganizationRoleLink,
)
from services.registry import ContentType, Demo, register
from services.validation import SUMMARY_MAX, optional_text, text, web_address

NAME_MAX = 200
ACRONYM_MAX = 30
WEBSITE_MAX = 500  # the column's size


def _website(value: Any, cleaning: Cleaning) -> str | None:
    website = web_address(value, cleaning)
    if website is not None and len(website) > WEBSITE_MAX:
        raise BadUserInput(
            f"« website » dépasse {WEBSITE_MAX} caractères ({len(website)}).", field="website"
        )
    return website


def _roles(value: Any, cleaning: Cleaning) -> list[OrganizationRole]:
    return list(dict.fromkeys(OrganizationRole(r) for r in value))


async def _uses(organization_id: int) -> dict[str, int]:
    from services.accounts.models import Account, ApiKey
    from services.projects.models import ProjectProvider
    from services.resources.models import Resource

    return {
        "comptes": await Account.filter(organization_id=organization_id).count(),
        "clés d'API actives": await ApiKey.filter(
            organization_id=organization_id, revoked_at__isnull=True
        ).count(),
        "projets partagés (prestataire)": await ProjectProvider.filter(
            organization_id=organization_id
        ).count(),
        "contributions": await Resource.filter(contributor_organization_id=organization_id).count(),
    }


ORGANIZATION = register(
    ContentType(
        name="Organization",
        model=Organization,
        label="Organisation",
        definite="l'organisation",
        entity="organization",
        demo=Demo("organizations", load_demo_organization),
        versioned=False,
        slug_from="name",
        fields=Fields(
            Field("name", str, "Full name (≤ 200).", required=True, clean=text(NAME_MAX)),
            slug_field("name"),
            Field(
                "acronym",
                str,
                "Acronym (≤ 30), e.g. ANCT; null removes it.",
                nullable=True,
                clean=optional_text(ACRONYM_MAX),
            ),
            Field("kind", OrganizationKind, "Kind of organisation (OTHER when omitted)."),
            Field(
                "website",
                str,
                "Home page (http or https only, ≤ 500); null removes it.",
                nullable=True,
                clean=_website,
            ),
            Field(
                "description",
                str,
                "Short plain-text presentation (≤ 2,000).",
                clean=text(SUMMARY_MAX, required=False),
            ),
            Field(
                "roles",
                list[OrganizationRole],
                "Roles it plays on the platform (replaces the list).",
                clean=_roles,
                link=Link(OrganizationRoleLink, "organization_id", "role"),
            ),
        ),
        in_use=_uses,
    )
)
