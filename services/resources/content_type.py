"""The resource as a content type: its fields, declared once."""

from __future__ import annotations

from services.content import Audience
from services.fields import Field, Fields, Link, links_field, slug_field
from services.organizations.models import Organization
from services.policy import CONTRIBUTORS, EDITORS
from services.registry import ContentType, Demo, PolicyRow, register
from services.resources.demo import load_demo_resource
from services.resources.models import (
    Resource,
    ResourceKind,
    ResourceOrganization,
    ResourceTerritory,
    ResourceTheme,
)
from services.territories.models import Territory
from services.themes.models import Theme
from services.validation import SUMMARY_MAX, TITLE_MAX, rich_text, text, web_address

RESOURCE = register(
    ContentType(
        name="Resource",
        model=Resource,
        label="Ressource",
        definite="la ressource",
        entity="resource",
        demo=Demo("resources", load_demo_resource, after=("Theme", "Territory", "Organization")),
        publishable=True,
        fields=Fields(
            Field("title", str, "Title (≤ 300).", required=True, clean=text(TITLE_MAX)),
            slug_field(),
            Field(
                "summary",
                str,
                "Plain-text summary (≤ 2,000).",
                clean=text(SUMMARY_MAX, required=False),
            ),
            Field(
                "body",
                str,
                "Rich text as HTML (≤ 100,000); sanitised with an allow-list.",
                clean=rich_text(),
            ),
            Field("kind", ResourceKind, "Kind of resource (OTHER when omitted)."),
            Field(
                "url",
                str,
                "Link (http or https only); null removes it.",
                nullable=True,
                clean=web_address,
            ),
            Field("audience", Audience, "Who it is written for."),
            links_field(
                "themes",
                "IDs of its themes",
                target=Theme,
                link=Link(ResourceTheme, "resource_id", "theme_id"),
            ),
            links_field(
                "territories",
                "IDs of the territories it concerns",
                target=Territory,
                link=Link(ResourceTerritory, "resource_id", "territory_id"),
            ),
            links_field(
                "organizations",
                "IDs of the organisations behind it",
                target=Organization,
                link=Link(ResourceOrganization, "resource_id", "organization_id"),
            ),
        ),
        policy=(
            PolicyRow(
                "contribution.submit",
                CONTRIBUTORS,
                "contributeResource (« J'envoie ma ressource »)",
            ),
            PolicyRow(
                "contribution.list_own", CONTRIBUTORS, "myContributions (with rejection reasons)"
            ),
            PolicyRow(
                "contribution.moderate",
                EDITORS,
                "moderationQueue, acceptContribution, rejectContribution",
            ),
        ),
    )
)
