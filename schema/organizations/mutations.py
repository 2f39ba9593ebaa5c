"""Organization mutations: editors create, change and delete organisations."""

from __future__ import annotations

from schema.organizations.types import Organization
from schema.writes import Descriptions, content_mutations
from services.organizations.content_type import ORGANIZATION

WRITES = content_mutations(
    ORGANIZATION,
    Organization,
    Descriptions(
        a="an organisation",
        the="the organisation",
        create="Create an organisation (editors); it is public at once.",
        update="Change an organisation (editors). Organisations carry no version: "
        "the last write wins.",
        delete="Delete an organisation for good (editors); CONFLICT while accounts, "
        "active API keys, shared projects or contributions refer to it.",
    ),
)
OrganizationCreateInput, OrganizationUpdateInput = WRITES.create_input, WRITES.update_input
