"""Reading shared projects, their members, stages and providers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.expressions import Q, Subquery

from services.links import children_by_parent
from services.organizations.models import Organization
from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.projects.models import (
    Membership,
    ProjectNews,
    ProjectProvider,
    ProjectResource,
    ProjectStage,
    ProjectStatus,
    SharedProject,
)
from services.resources.models import Resource
from services.statements import instances_by_ids
from services.viewer import Viewer

ORDERINGS: dict[str, Ordering] = {
    "NEWEST": Ordering((SortKey("id", True, "int"),)),
    "TITLE": Ordering((SortKey("slug", False, "str"), SortKey("id", False, "int"))),
}


def _visible(viewer: Viewer) -> Q:
    return Q() if viewer.sees_unpublished else ~Q(status=ProjectStatus.DRAFT)


@dataclass(frozen=True)
class ProjectFilter:
    statuses: Sequence[ProjectStatus] = ()
    theme_ids: Sequence[int] = ()
    territory_ids: Sequence[int] = ()


async def list_shared_projects(
    viewer: Viewer, *, flt: ProjectFilter, order: str | None, page: PageRequest
) -> Page[SharedProject]:
    condition = _visible(viewer)
    if flt.statuses:
        condition &= Q(status__in=list(flt.statuses))
    if flt.theme_ids:
        condition &= Q(theme_id__in=list(flt.theme_ids))
    if flt.territory_ids:
        ids = Subquery(
            Membership.filter(territory_id__in=list(flt.territory_ids)).values("project_id")
        )
        condition &= Q(id__in=ids)
    return await paginate(SharedProject.filter(condition), ORDERINGS[order or "NEWEST"], page)


async def get_shared_project_by_slug(viewer: Viewer, slug: str) -> SharedProject | None:
    return await SharedProject.filter(_visible(viewer), slug=slug).first()


async def get_shared_projects_by_ids(
    viewer: Viewer, ids: Sequence[int]
) -> dict[int, SharedProject]:
    return await instances_by_ids(SharedProject, _visible(viewer), ids)


async def get_memberships_by_project_ids(ids: Sequence[int]) -> dict[int, list[Membership]]:
    grouped: dict[int, list[Membership]] = defaultdict(list)
    for m in await Membership.filter(project_id__in=list(ids)).order_by("role", "id"):
        grouped[m.project_id].append(m)
    return grouped


async def get_memberships_by_territory_ids(
    viewer: Viewer, ids: Sequence[int]
) -> dict[int, list[Membership]]:
    """A territory's memberships in the projects ``viewer`` may see."""
    condition = Q(territory_id__in=list(ids))
    if not viewer.sees_unpublished:
        condition &= ~Q(project__status=ProjectStatus.DRAFT)
    grouped: dict[int, list[Membership]] = defaultdict(list)
    for m in await Membership.filter(condition).order_by("-project_id"):
        grouped[m.territory_id].append(m)
    return grouped


async def get_stages_by_project_ids(ids: Sequence[int]) -> dict[int, list[ProjectStage]]:
    grouped: dict[int, list[ProjectStage]] = defaultdict(list)
    for s in await ProjectStage.filter(project_id__in=list(ids)).order_by("position"):
        grouped[s.project_id].append(s)
    return grouped


def stage_on(stages: Sequence[ProjectStage], day: dt.date) -> ProjectStage | None:
    """The stage under way on ``day``: the first (by position) whose dates include it;
    None before the first stage, between stages and after the last."""
    for stage in sorted(stages, key=lambda s: s.position):
        if stage.starts_on is None or stage.starts_on > day:
            continue
        if stage.ends_on is None or day <= stage.ends_on:
            return stage
    return None


async def get_providers_by_project_ids(ids: Sequence[int]) -> dict[int, list[Organization]]:
    return await children_by_parent(
        ProjectProvider,
        parent="project",
        child="organization",
        parent_ids=ids,
        child_order=("slug",),
    )


async def get_memberships_by_ids(viewer: Viewer, ids: Sequence[int]) -> dict[int, Membership]:
    condition = Q(id__in=list(ids))
    if not viewer.sees_unpublished:
        condition &= ~Q(project__status=ProjectStatus.DRAFT)
    return {m.id: m for m in await Membership.filter(condition)}


async def get_news_by_project_ids(ids: Sequence[int]) -> dict[int, list[ProjectNews]]:
    grouped: dict[int, list[ProjectNews]] = defaultdict(list)
    for n in await ProjectNews.filter(project_id__in=list(ids)).order_by("-published_at", "-id"):
        grouped[n.project_id].append(n)  # type: ignore[attr-defined]
    return grouped


async def get_resources_by_project_ids(
    viewer: Viewer, ids: Sequence[int]
) -> dict[int, list[Resource]]:
    return await children_by_parent(
        ProjectResource,
        parent="project",
        child="resource",
        parent_ids=ids,
        visible_to=viewer,
        child_order=("-published_at", "-id"),
    )
