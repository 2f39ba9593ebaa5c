"""Shared-project queries."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.caching import public_read
from schema.projects.loaders import membership_by_id, shared_project_by_id
from schema.projects.types import Membership, ProjectStatusEnum, SharedProject, SharedProjectOrder
from schema.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    connection,
    decode_ids,
    page_request,
)
from services.projects import service


@strawberry.input(description="Conditions on shared projects.")
class SharedProjectFilter:
    statuses: list[ProjectStatusEnum] | None = strawberry.field(
        default=None, description="Statuses (any of)."
    )
    themes: list[strawberry.ID] | None = strawberry.field(
        default=None, description="IDs of themes (any of)."
    )
    territories: list[strawberry.ID] | None = strawberry.field(
        default=None, description="IDs of member territories (any of)."
    )


@registry.query
@strawberry.type
class SharedProjectQueries:
    @public_read(description="Shared projects, newest first.")
    async def shared_projects(
        self,
        info: strawberry.Info,
        filter: Annotated[
            SharedProjectFilter | None, strawberry.argument(description="Conditions.")
        ] = None,
        order: Annotated[
            SharedProjectOrder | None, strawberry.argument(description="Sort order.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[SharedProject]:
        flt = service.ProjectFilter()
        if filter is not None:
            flt = service.ProjectFilter(
                statuses=filter.statuses or (),
                theme_ids=decode_ids(filter.themes or (), "Theme", "filter.themes"),
                territory_ids=decode_ids(
                    filter.territories or (), "Territory", "filter.territories"
                ),
            )
        page = await service.list_shared_projects(
            info.context.viewer,
            flt=flt,
            order=order.value if order else None,
            page=page_request(info, first, after, last, before),
        )
        return connection(page, SharedProject.from_model)

    @public_read(description="The shared project with this slug, or null.")
    async def shared_project(
        self,
        info: strawberry.Info,
        slug: Annotated[str, strawberry.argument(description="Slug of the project.")],
    ) -> SharedProject | None:
        found = await service.get_shared_project_by_slug(info.context.viewer, slug)
        return SharedProject.from_model(found) if found else None


registry.node_type("SharedProject", SharedProject, shared_project_by_id)
registry.node_type("Membership", Membership, membership_by_id)
