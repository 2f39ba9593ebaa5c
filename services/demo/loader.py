"""Load the demo data (the seeds' organisations, territories, themes, resources, events…,
and their newsletters as issues: ``services.demo.issues``).

Idempotent: every row is matched by its slug and updated in place, links are added once,
so running it again on a loaded database changes nothing and duplicates nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from importlib import resources as package_files
from typing import Any

from tortoise.transactions import in_transaction

from services.concepts.models import Concept, ConceptOrganization
from services.content import ContentStatus
from services.demo.issues import load_demo_issues
from services.events.models import Event, EventOrganizer, EventTerritory, EventTheme
from services.organizations.models import Organization, OrganizationRoleLink
from services.projects.models import (
    Membership,
    MembershipRole,
    MembershipStatus,
    ProjectProvider,
    ProjectStage,
    SharedProject,
)
from services.resources.models import (
    Resource,
    ResourceOrganization,
    ResourceTerritory,
    ResourceTheme,
)
from services.richtext import paragraphs_to_html
from services.territories.models import Territory
from services.themes.models import Theme
from services.votes.models import Candidate, Vote, VotingRound


def read_demo_data() -> dict[str, Any]:
    """The demo data file shipped inside the package."""
    text = package_files.files("services.demo").joinpath("data.json").read_text("utf-8")
    return json.loads(text)


def _month(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(f"{value}-01") if value else None


def _when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _published(month: str | None) -> dt.datetime | None:
    return _when(f"{month}-01T09:00:00+00:00") if month else None


async def _upsert(model: Any, slug: str, values: dict[str, Any], counts: Counter[str]) -> Any:
    row, created = await model.update_or_create(defaults=values, slug=slug)
    counts[model.__name__] += 1
    counts[f"{model.__name__}+"] += int(created)
    return row


async def _link(model: Any, counts: Counter[str], **keys: Any) -> None:
    _, created = await model.get_or_create(**keys)
    if created:
        counts[f"{model.__name__}+"] += 1


async def load_demo(data: dict[str, Any] | None = None) -> dict[str, int]:
    """Load ``data`` (the shipped file by default) in one transaction.

    Returns how many rows of each model were seen (``Model``) and created (``Model+``)."""
    data = data if data is not None else read_demo_data()
    counts: Counter[str] = Counter()
    async with in_transaction():
        orgs = {}
        for o in data["organizations"]:
            orgs[o["slug"]] = await _upsert(
                Organization,
                o["slug"],
                {
                    "name": o["name"],
                    "acronym": o.get("acronym"),
                    "kind": o["kind"],
                    "website": o.get("website"),
                    "description": o.get("description") or "",
                },
                counts,
            )
            for role in o.get("roles", []):
                await _link(OrganizationRoleLink, counts, organization=orgs[o["slug"]], role=role)
        territories = {}
        for t in data["territories"]:
            territories[t["slug"]] = await _upsert(
                Territory,
                t["slug"],
                {
                    "name": t["name"],
                    "level": t["level"],
                    "insee_code": t.get("insee_code"),
                },
                counts,
            )
        themes = {}
        for t in data["themes"]:
            themes[t["slug"]] = await _upsert(
                Theme,
                t["slug"],
                {
                    "title": t["title"],
                    "introduction": t.get("introduction") or "",
                    "month": _month(t.get("month")),
                    "announced_in": _month(t.get("announced_in_month")),
                    "is_next": bool(t.get("is_next")),
                    "is_vote_candidate": bool(t.get("is_vote_candidate")),
                    "status": ContentStatus.PUBLISHED,
                    # Public from its announcement as the next theme, else from its month.
                    "published_at": _published(t.get("announced_in_month") or t.get("month")),
                },
                counts,
            )
        for c in data["concepts"]:
            concept = await _upsert(
                Concept,
                c["slug"],
                {
                    "title": c["title"],
                    "summary": c.get("summary") or "",
                    "body": c.get("body") or "",
                    "month": _month(c.get("month")),
                    "further_reading": c.get("further_reading"),
                    "status": ContentStatus.PUBLISHED,
                    "published_at": _when(f"{c['month']}-01T09:00:00+00:00")
                    if c.get("month")
                    else None,
                },
                counts,
            )
            for slug in c.get("organizations", []):
                await _link(ConceptOrganization, counts, concept=concept, organization=orgs[slug])
        for r in data["resources"]:
            resource = await _upsert(
                Resource,
                r["slug"],
                {
                    "title": r["title"],
                    "summary": r.get("summary") or "",
                    "body": paragraphs_to_html(r.get("body") or ""),
                    "kind": r["kind"],
                    "url": r.get("url"),
                    "audience": r.get("audience") or "ALL",
                    "status": ContentStatus.PUBLISHED,
                    "published_at": _when(r["published_at"]),
                },
                counts,
            )
            for slug in r.get("themes", []):
                await _link(ResourceTheme, counts, resource=resource, theme=themes[slug])
            for slug in r.get("territories", []):
                await _link(
                    ResourceTerritory, counts, resource=resource, territory=territories[slug]
                )
            for slug in r.get("organizations", []):
                await _link(
                    ResourceOrganization, counts, resource=resource, organization=orgs[slug]
                )
        for e in data["events"]:
            event = await _upsert(
                Event,
                e["slug"],
                {
                    "title": e["title"],
                    "summary": e.get("summary") or "",
                    "starts_at": _when(e["starts_at"]),
                    "ends_at": _when(e["ends_at"]),
                    "all_day": bool(e.get("all_day")),
                    "city": e.get("city"),
                    "online": bool(e.get("online")),
                    "format": e["format"],
                    "registration_url": e.get("registration_url"),
                    "status": ContentStatus.PUBLISHED,
                    "published_at": _when(e.get("published_at") or e["starts_at"]),
                },
                counts,
            )
            for slug in e.get("organizers", []):
                await _link(EventOrganizer, counts, event=event, organization=orgs[slug])
            for slug in e.get("themes", []):
                await _link(EventTheme, counts, event=event, theme=themes[slug])
            for slug in e.get("territories", []):
                await _link(EventTerritory, counts, event=event, territory=territories[slug])
        for v in data["voting_rounds"]:
            voting_round = await _upsert(
                VotingRound,
                v["slug"],
                {
                    "title": v["title"],
                    "description": v.get("description") or "",
                    "opens_at": _when(v["opens_at"]),
                    "closes_at": _when(v["closes_at"]),
                    "votes_per_territory": v.get("votes_per_territory", 3),
                    "status": ContentStatus.PUBLISHED,
                    "published_at": _when(v["opens_at"]),
                },
                counts,
            )
            for slug in v.get("candidates", []):
                await _link(Candidate, counts, round=voting_round, theme=themes[slug])
            for vote in v.get("votes", []):
                await _link(
                    Vote,
                    counts,
                    round=voting_round,
                    territory=territories[vote["territory"]],
                    theme=themes[vote["theme"]],
                )
        for p in data["shared_projects"]:
            project = await _upsert(
                SharedProject,
                p["slug"],
                {
                    "title": p["title"],
                    "summary": p.get("summary") or "",
                    "theme": themes[p["theme"]],
                    "status": p["status"],
                    "starts_on": p.get("starts_on") and dt.date.fromisoformat(p["starts_on"]),
                    "ends_on": p.get("ends_on") and dt.date.fromisoformat(p["ends_on"]),
                },
                counts,
            )
            for slug in p.get("providers", []):
                await _link(ProjectProvider, counts, project=project, organization=orgs[slug])
            for role, key in (
                (MembershipRole.PARTICIPANT, "participants"),
                (MembershipRole.OBSERVER, "observers"),
            ):
                for slug in p.get(key, []):
                    _, created = await Membership.get_or_create(
                        project=project,
                        territory=territories[slug],
                        defaults={"role": role, "status": MembershipStatus.CONFIRMED},
                    )
                    counts["Membership+"] += int(created)
            for position, stage in enumerate(p.get("stages", []), start=1):
                _, created = await ProjectStage.update_or_create(
                    project=project,
                    position=position,
                    defaults={
                        "kind": stage["kind"],
                        "title": stage["title"],
                        "description": stage.get("description") or "",
                        "starts_on": stage.get("starts_on")
                        and dt.date.fromisoformat(stage["starts_on"]),
                        "ends_on": stage.get("ends_on") and dt.date.fromisoformat(stage["ends_on"]),
                    },
                )
                counts["ProjectStage+"] += int(created)
        await load_demo_issues(data, counts)
    return {k: v for k, v in sorted(counts.items()) if v}
