"""The audit-log query (editors)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.audit.types import AuditEntry
from schema.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    connection,
    from_global_id,
    page_request,
)
from services.audit import service


@strawberry.input(description="Conditions on audit entries.")
class AuditFilter:
    object: strawberry.ID | None = strawberry.field(
        default=None, description="Only the history of this object (global ID)."
    )
    actions: list[str] | None = strawberry.field(
        default=None, description="Only these actions, e.g. `resource.publish`."
    )


@registry.query
@strawberry.type
class AuditQueries:
    @strawberry.field(description="Who changed what and when, newest first (editors).")
    async def audit_log(
        self,
        info: strawberry.Info,
        filter: Annotated[
            AuditFilter | None, strawberry.argument(description="Conditions.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[AuditEntry]:
        flt = service.AuditFilter()
        if filter is not None:
            entity_type, entity_id = (
                from_global_id(filter.object) if filter.object else (None, None)
            )
            flt = service.AuditFilter(
                entity_type=entity_type, entity_id=entity_id, actions=filter.actions or ()
            )
        ctx = info.context
        page = await service.list_audit_entries(
            ctx.viewer, flt=flt, page=page_request(info, first, after, last, before)
        )
        return connection(page, AuditEntry.from_model)
