"""Voting rounds of the demo data, with their candidate themes and the votes cast."""

from __future__ import annotations

from typing import Any

from services.content import ContentStatus
from services.demo.rows import DemoRun, when
from services.votes.models import Candidate, Vote, VotingRound


async def load_demo_voting_round(entry: dict[str, Any], run: DemoRun) -> VotingRound:
    voting_round = await run.upsert(
        VotingRound,
        entry["slug"],
        {
            "title": entry["title"],
            "description": entry.get("description") or "",
            "opens_at": when(entry["opens_at"]),
            "closes_at": when(entry["closes_at"]),
            "votes_per_territory": entry.get("votes_per_territory", 3),
            "status": ContentStatus.PUBLISHED,
            "published_at": when(entry["opens_at"]),
        },
    )
    for slug in entry.get("candidates", []):
        await run.link(Candidate, round=voting_round, theme=run.row("Theme", slug))
    for vote in entry.get("votes", []):
        await run.link(
            Vote,
            round=voting_round,
            territory=run.row("Territory", vote["territory"]),
            theme=run.row("Theme", vote["theme"]),
        )
    return voting_round
