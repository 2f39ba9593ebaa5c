"""Editors' writes on organisations: create, update, delete.

Organisations have no version column: an update is a plain save, audited with the
before/after of the fields it changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.accounts.models import Account, ApiKey
from services.audit.service import diff
from services.editing import (
    delete_noted,
    get_for_update,
    note_change,
    refuse_if_used,
    update_unversioned,
    write_transaction,
)
from services.errors import BadUserInput
from services.organizations.models import (
    Organization,
    OrganizationKind,
    OrganizationRole,
    OrganizationRoleLink,
)
from services.policy import authorize
from services.projects.models import ProjectProvider
from services.resources.models import Resource
from services.validation import (
    SUMMARY_MAX,
    check_slug_free,
    clean_slug,
    clean_text,
    clean_url,
    unique_slug,
)
from services.viewer import Viewer

_UNSET: Any = object()
NAME_MAX = 200
ACRONYM_MAX = 30
WEBSITE_MAX = 500  # the column's size


@dataclass
class OrganizationChanges:
    """Fields to set; ``_UNSET`` (the default) leaves a field as it is."""

    name: str = _UNSET
    slug: str = _UNSET
    acronym: str | None = _UNSET
    kind: OrganizationKind = _UNSET
    website: str | None = _UNSET
    description: str = _UNSET
    roles: list[OrganizationRole] = _UNSET

    def given(self, name: str) -> bool:
        return getattr(self, name) is not _UNSET


async def clean_organization_changes(
    changes: OrganizationChanges, *, exclude_id: int | None
) -> dict[str, Any]:
    """Validated column values of ``changes``; nothing is written here."""
    values: dict[str, Any] = {}
    if changes.given("name"):
        values["name"] = clean_text(changes.name, field="name", max_length=NAME_MAX)
    if changes.given("slug"):
        values["slug"] = clean_slug(changes.slug)
        await check_slug_free(Organization, values["slug"], exclude_id=exclude_id)
    if changes.given("acronym"):
        values["acronym"] = (
            clean_text(
                changes.acronym or "", field="acronym", max_length=ACRONYM_MAX, required=False
            )
            or None
        )
    if changes.given("kind"):
        values["kind"] = OrganizationKind(changes.kind)
    if changes.given("website"):
        website = clean_url(changes.website, field="website")
        if website is not None and len(website) > WEBSITE_MAX:
            raise BadUserInput(
                f"« website » dépasse {WEBSITE_MAX} caractères ({len(website)}).", field="website"
            )
        values["website"] = website
    if changes.given("description"):
        values["description"] = clean_text(
            changes.description, field="description", max_length=SUMMARY_MAX, required=False
        )
    if changes.given("roles"):
        changes.roles = list(dict.fromkeys(OrganizationRole(r) for r in changes.roles))
    return values


async def _replace_roles(organization: Organization, roles: list[OrganizationRole]) -> list[Any]:
    """Make the organisation's roles exactly ``roles``; ``[before, after]`` if changed."""
    current = sorted(
        r.value if isinstance(r, OrganizationRole) else r
        for r in await OrganizationRoleLink.filter(organization_id=organization.id).values_list(
            "role", flat=True
        )
    )
    wanted = sorted(r.value for r in roles)
    if current == wanted:
        return []
    await OrganizationRoleLink.filter(organization_id=organization.id).delete()
    await OrganizationRoleLink.bulk_create(
        [OrganizationRoleLink(organization_id=organization.id, role=r) for r in roles]
    )
    return [current, wanted]


async def create_organization(viewer: Viewer, *, changes: OrganizationChanges) -> Organization:
    """A new organisation (organisations have no draft state: it is public at once)."""
    authorize(viewer, "organization.create")
    if not changes.given("name"):
        changes.name = ""
    async with write_transaction():
        values = await clean_organization_changes(changes, exclude_id=None)
        values.setdefault("slug", await unique_slug(Organization, values["name"]))
        organization = await Organization.create(**values)
        audit = diff({}, values)
        if changes.given("roles"):
            roles = await _replace_roles(organization, changes.roles)
            if roles:
                audit["roles"] = roles
        await note_change(viewer, "organization.create", organization, audit)
    return organization


async def update_organization(
    viewer: Viewer, organization_id: int, *, changes: OrganizationChanges
) -> Organization:
    """Change the given fields (last write wins: organisations carry no version)."""
    authorize(viewer, "organization.update")
    async with write_transaction():
        organization = await get_for_update(
            Organization, organization_id, label="Organisation", version=None
        )
        values = await clean_organization_changes(changes, exclude_id=organization_id)
        extra: dict[str, list[Any]] = {}
        if changes.given("roles"):
            roles = await _replace_roles(organization, changes.roles)
            if roles:
                extra["roles"] = roles
        return await update_unversioned(
            viewer,
            organization,
            values=values,
            action="organization.update",
            extra_changes=extra,
        )


async def delete_organization(viewer: Viewer, organization_id: int) -> Organization:
    """Delete for good, unless accounts, API keys, shared projects or contributions still
    refer to it (CONFLICT). Links from resources, events and concepts go with it."""
    authorize(viewer, "organization.delete")
    async with write_transaction():
        organization = await get_for_update(
            Organization, organization_id, label="Organisation", version=None
        )
        refuse_if_used(
            "l'organisation",
            {
                "comptes": await Account.filter(organization_id=organization_id).count(),
                "clés d'API actives": await ApiKey.filter(
                    organization_id=organization_id, revoked_at__isnull=True
                ).count(),
                "projets partagés (prestataire)": await ProjectProvider.filter(
                    organization_id=organization_id
                ).count(),
                "contributions": await Resource.filter(
                    contributor_organization_id=organization_id
                ).count(),
            },
        )
        await delete_noted(viewer, organization, action="organization.delete", version=None)
    return organization
