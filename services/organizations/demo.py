"""Organisations of the demo data, with their roles."""

from __future__ import annotations

from typing import Any

from services.demo.rows import DemoRun
from services.organizations.models import Organization, OrganizationRoleLink


async def load_demo_organization(entry: dict[str, Any], run: DemoRun) -> Organization:
    organization = await run.upsert(
        Organization,
        entry["slug"],
        {
            "name": entry["name"],
            "acronym": entry.get("acronym"),
            "kind": entry["kind"],
            "website": entry.get("website"),
            "description": entry.get("description") or "",
        },
    )
    for role in entry.get("roles", []):
        await run.link(OrganizationRoleLink, organization=organization, role=role)
    return organization
