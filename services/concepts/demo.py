"""Concepts of the demo data, with their organisations."""

from __future__ import annotations

from typing import Any

from services.concepts.models import Concept, ConceptOrganization
from services.content import ContentStatus
from services.demo.rows import DemoRun, month, published


async def load_demo_concept(entry: dict[str, Any], run: DemoRun) -> Concept:
    concept = await run.upsert(
        Concept,
        entry["slug"],
        {
            "title": entry["title"],
            "summary": entry.get("summary") or "",
            "body": entry.get("body") or "",
            "month": month(entry.get("month")),
            "further_reading": entry.get("further_reading"),
            "status": ContentStatus.PUBLISHED,
            "published_at": published(entry.get("month")),
        },
    )
    for slug in entry.get("organizations", []):
        await run.link(
            ConceptOrganization, concept=concept, organization=run.row("Organization", slug)
        )
    return concept
