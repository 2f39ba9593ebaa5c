"""Shared projects of the demo data, with their providers, members and stages."""

from __future__ import annotations

from typing import Any

from services.demo.rows import DemoRun, day
from services.projects.models import (
    Membership,
    MembershipRole,
    MembershipStatus,
    ProjectProvider,
    ProjectStage,
    SharedProject,
)


async def load_demo_shared_project(entry: dict[str, Any], run: DemoRun) -> SharedProject:
    project = await run.upsert(
        SharedProject,
        entry["slug"],
        {
            "title": entry["title"],
            "summary": entry.get("summary") or "",
            "theme": run.row("Theme", entry["theme"]),
            "status": entry["status"],
            "starts_on": day(entry.get("starts_on")),
            "ends_on": day(entry.get("ends_on")),
        },
    )
    for slug in entry.get("providers", []):
        await run.link(ProjectProvider, project=project, organization=run.row("Organization", slug))
    for role, key in (
        (MembershipRole.PARTICIPANT, "participants"),
        (MembershipRole.OBSERVER, "observers"),
    ):
        for slug in entry.get(key, []):
            _, created = await Membership.get_or_create(
                project=project,
                territory=run.row("Territory", slug),
                defaults={"role": role, "status": MembershipStatus.CONFIRMED},
            )
            run.created(Membership, created)
    for position, stage in enumerate(entry.get("stages", []), start=1):
        _, created = await ProjectStage.update_or_create(
            project=project,
            position=position,
            defaults={
                "kind": stage["kind"],
                "title": stage["title"],
                "description": stage.get("description") or "",
                "starts_on": day(stage.get("starts_on")),
                "ends_on": day(stage.get("ends_on")),
            },
        )
        run.created(ProjectStage, created)
    return project
