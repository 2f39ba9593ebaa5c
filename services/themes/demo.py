"""Themes of the demo data."""

from __future__ import annotations

from typing import Any

from services.content import ContentStatus
from services.demo.rows import DemoRun, month, published
from services.themes.models import Theme


async def load_demo_theme(entry: dict[str, Any], run: DemoRun) -> Theme:
    return await run.upsert(
        Theme,
        entry["slug"],
        {
            "title": entry["title"],
            "introduction": entry.get("introduction") or "",
            "month": month(entry.get("month")),
            "announced_in": month(entry.get("announced_in_month")),
            "is_next": bool(entry.get("is_next")),
            "is_vote_candidate": bool(entry.get("is_vote_candidate")),
            "status": ContentStatus.PUBLISHED,
            # Public from its announcement as the next theme, else from its month.
            "published_at": published(entry.get("announced_in_month") or entry.get("month")),
        },
    )
