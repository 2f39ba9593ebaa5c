"""The database-wide content version, and what changed, for caches that must never serve
a stale read.

Every committed write appends an :class:`~services.audit.models.AuditEntry` row in its
transaction, so the audit log's head is a version of everything the public can read.
It is read from the database, hence right across any number of app processes. The rows
themselves say what changed (:func:`list_changes`): each names the model of the row
written, and the registry says which content types' answers such a write can change
(:func:`services.registry.cache_tags_of_model`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise import connections
from tortoise.exceptions import FieldError

from services import registry
from services.audit.models import AuditEntry

# PostgreSQL hands out ids when a row is inserted, not when it commits: a transaction that
# took id 10 may commit after one that took id 11. Counting the rows of the last ids as well
# makes that late commit change the version although MAX(id) stays the same.
_WINDOW = 1000
WINDOW = _WINDOW
"""How far below the head a write may still commit late and be noticed (see above)."""

# Search answers come from the index, which applies committed writes a little later (the
# outbox): the number of changes it has not applied yet is part of the version, negated so
# that the version only grows (a write raises the audit head, applying one raises the
# third part), and an answer cached while the index lagged is not served once it caught up.
_VERSION_SQL = (
    f"SELECT m.top, (SELECT COUNT(*) FROM audit_entry WHERE id > m.top - {_WINDOW}), "
    "(SELECT COUNT(*) FROM outbox_entry WHERE topic = 'search' AND processed_at IS NULL) "
    "FROM (SELECT COALESCE(MAX(id), 0) AS top FROM audit_entry) m"
)

# Content « published at » a future date appears by itself when that date comes, and a
# voting round opens and closes by the clock: a cached answer is valid until the first of
# these instants.
_SCHEDULED_TABLES = ("resource", "theme", "concept", "event")


def _boundary_sql() -> str:
    parts = [
        f"SELECT MIN(published_at) AS at FROM {table} WHERE published_at > $1"
        for table in _SCHEDULED_TABLES
    ]
    parts += [
        "SELECT MIN(opens_at) AS at FROM voting_round WHERE opens_at > $1",
        "SELECT MIN(closes_at) AS at FROM voting_round WHERE closes_at > $1",
    ]
    return "SELECT MIN(at) FROM (" + " UNION ALL ".join(parts) + ") boundaries"


async def get_content_version() -> tuple[int, int, int]:
    """A value that changes whenever a write commits, and whenever the search index
    applies one (one cheap statement on keys)."""
    conn = connections.get("default")
    _, rows = await conn.execute_query(_VERSION_SQL)
    row = rows[0]
    return int(row[0] or 0), int(row[1] or 0), -int(row[2] or 0)


async def get_next_scheduled_change(now: dt.datetime) -> dt.datetime | None:
    """The first instant after ``now`` when public content changes without any write."""
    conn = connections.get("default")
    sql = _boundary_sql()
    if conn.capabilities.dialect == "sqlite":
        # SQLite stores aware datetimes as ISO text: compare with the same format.
        sql = sql.replace("$1", "?")
        params = [now.astimezone(dt.UTC).isoformat(sep=" ")] * (len(_SCHEDULED_TABLES) + 2)
        _, rows = await conn.execute_query(sql, params)
    else:
        _, rows = await conn.execute_query(sql, [now])
    value = rows[0][0] if rows else None
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


@dataclass(frozen=True)
class ContentChange:
    """One committed write, as a cache needs it: its audit id, the content types whose
    answers it can change (None: any answer may change), and the row it wrote when that
    row is one of a content type's own (``("Organization", 12)``): the other types it
    changes, it changes without saying which rows."""

    id: int
    tags: frozenset[str] | None
    row: tuple[str, int] | None = None


def tags_of_write(entity_type: str, action: str) -> frozenset[str] | None:
    """The content types whose answers a write audited as ``action`` on a row of the model
    ``entity_type`` can change; None when any may. A deletion may be any: the database
    cascades it into the link tables of other types."""
    if action.endswith(".delete"):
        return None
    return registry.cache_tags_of_model(entity_type)


async def list_changes(*, above: int, up_to: int | None = None, limit: int) -> list[ContentChange]:
    """The committed writes with an audit id above ``above`` (and at most ``up_to``), in
    order, at most ``limit`` of them."""
    rows = AuditEntry.filter(id__gt=above)
    if up_to is not None:
        rows = rows.filter(id__lte=up_to)
    found = (
        await rows.order_by("id")
        .limit(limit)
        .values_list("id", "entity_type", "entity_id", "action")
    )
    changes = []
    for pk, entity_type, entity_id, action in found:
        tags = tags_of_write(entity_type, action)
        owner = registry.of_model_name(entity_type)
        row = (owner.name, int(entity_id)) if owner is not None and tags is not None else None
        changes.append(ContentChange(int(pk), tags, row))
    return changes


async def find_content_id(type_name: str, slug: str) -> int | None:
    """The id of the row of content type ``type_name`` holding ``slug``, whatever its
    state; None when none does."""
    content = registry.content_type(type_name)
    if content is None:
        return None
    try:
        found = await content.model.filter(slug=slug).values_list("id", flat=True)
    except FieldError:  # a type without slugs: nothing to find
        return None
    return int(found[0]) if found else None
