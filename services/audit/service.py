"""Recording and reading the audit log."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.models import Model

from services.audit.models import AuditEntry
from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.policy import authorize
from services.viewer import Viewer

ORDERING = Ordering((SortKey("id", True, "int"),))


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def snapshot(row: Model, fields: Iterable[str]) -> dict[str, Any]:
    """JSON-safe values of ``fields`` of ``row`` (the « before » of an update)."""
    return {f: _plain(getattr(row, f)) for f in fields}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` of the fields whose value changed."""
    return {
        f: [before.get(f), _plain(after.get(f))]
        for f in after
        if before.get(f) != _plain(after.get(f))
    }


async def record(
    viewer: Viewer | None,
    action: str,
    entity: Model,
    *,
    changes: Mapping[str, list[Any]] | None = None,
) -> None:
    """Append an entry; call it inside the transaction of the write it describes.

    ``viewer`` is None for the platform's own scheduled work (recorded as ``SYSTEM``); an
    operator's viewer (the ``tec`` command) leaves their name (:attr:`Viewer.operator`)."""
    await AuditEntry.create(
        actor_account_id=viewer.account_id if viewer else None,
        actor_api_key_id=viewer.api_key_id if viewer else None,
        actor_role=viewer.role.value if viewer else "SYSTEM",
        actor_name=viewer.operator[:200] if viewer and viewer.operator else None,
        action=action,
        entity_type=type(entity).__name__,
        entity_id=entity.pk,
        changes=dict(changes or {}),
    )


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: int | None = None
    actor_account_id: int | None = None
    actions: Sequence[str] = ()


async def list_audit_entries(
    viewer: Viewer, *, flt: AuditFilter, page: PageRequest
) -> Page[AuditEntry]:
    """The audit log, newest first (editors only)."""
    authorize(viewer, "audit.read")
    condition = Q()
    if flt.entity_type:
        condition &= Q(entity_type=flt.entity_type)
    if flt.entity_id is not None:
        condition &= Q(entity_id=flt.entity_id)
    if flt.actor_account_id is not None:
        condition &= Q(actor_account_id=flt.actor_account_id)
    if flt.actions:
        condition &= Q(action__in=list(flt.actions))
    return await paginate(AuditEntry.filter(condition), ORDERING, page)
