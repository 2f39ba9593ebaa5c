"""Resources of the demo data, with their themes, territories and organisations."""

from __future__ import annotations

from typing import Any

from services.content import ContentStatus
from services.demo.rows import DemoRun, when
from services.resources.models import (
    Resource,
    ResourceOrganization,
    ResourceTerritory,
    ResourceTheme,
)
from services.richtext import paragraphs_to_html


async def load_demo_resource(entry: dict[str, Any], run: DemoRun) -> Resource:
    resource = await run.upsert(
        Resource,
        entry["slug"],
        {
            "title": entry["title"],
            "summary": entry.get("summary") or "",
            "body": paragraphs_to_html(entry.get("body") or ""),
            "kind": entry["kind"],
            "url": entry.get("url"),
            "audience": entry.get("audience") or "ALL",
            "status": ContentStatus.PUBLISHED,
            "published_at": when(entry["published_at"]),
        },
    )
    for slug in entry.get("themes", []):
        await run.link(ResourceTheme, resource=resource, theme=run.row("Theme", slug))
    for slug in entry.get("territories", []):
        await run.link(ResourceTerritory, resource=resource, territory=run.row("Territory", slug))
    for slug in entry.get("organizations", []):
        await run.link(
            ResourceOrganization, resource=resource, organization=run.row("Organization", slug)
        )
    return resource
