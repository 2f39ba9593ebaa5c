"""Territories of the demo data."""

from __future__ import annotations

from typing import Any

from services.demo.rows import DemoRun
from services.territories.models import Territory


async def load_demo_territory(entry: dict[str, Any], run: DemoRun) -> Territory:
    return await run.upsert(
        Territory,
        entry["slug"],
        {"name": entry["name"], "level": entry["level"], "insee_code": entry.get("insee_code")},
    )
