"""What every write shares: one transaction, optimistic versions, audit and outbox.

A write either commits with its audit entry and outbox rows, or changes nothing.

Two writes of one object never both act on the same version: the row is locked when it
is read (:func:`get_for_update`: ``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite every
transaction holds the database's write lock from its start, see
``services/compat_tortoise_sqlite.py``), and the write itself is tied to the version it read
(``UPDATE``/``DELETE … WHERE id = … AND version = …``). The second writer waits for the
first, then reads what it left and gets ``CONFLICT`` on ``version``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, NoReturn, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from services.audit.models import AuditEntry
from services.audit.service import diff, record, snapshot
from services.content import ContentStatus
from services.errors import BadUserInput, Conflict, NotFound
from services.outbox.service import record_changes
from services.validation import unique_slug
from services.viewer import Viewer

M = TypeVar("M", bound=Model)

# Outbox entity type of each model whose changes other components follow.
ENTITY_TYPES = {
    "Resource": "resource",
    "Event": "event",
    "Theme": "theme",
    "Concept": "concept",
    "Organization": "organization",
    "Territory": "territory",
}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# SQLSTATEs of a transaction PostgreSQL aborted because of a concurrent one (a deadlock
# between two writers, a serialisation failure): retrying the request is safe.
_CONCURRENT_SQLSTATES = {"40001", "40P01"}


def _aborted_by_concurrent_write(error: BaseException | None) -> bool:
    seen = 0
    while error is not None and seen < 5:
        if getattr(error, "sqlstate", None) in _CONCURRENT_SQLSTATES:
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


@contextlib.asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction whose constraint violations, and aborts caused by a concurrent
    write, come out as ``CONFLICT``."""
    try:
        async with in_transaction():
            yield
    except IntegrityError:
        raise Conflict(
            "Conflit avec des données existantes : doublon, ou objet encore utilisé ailleurs."
        ) from None
    except Exception as error:
        if not _aborted_by_concurrent_write(error):
            raise
        raise Conflict(
            "Conflit avec une autre modification faite au même moment : rien n'a été "
            "enregistré. Rechargez, puis réessayez.",
        ) from None


async def get_for_update(model: type[M], pk: int, *, label: str, version: int | None) -> M:
    """Row ``pk`` of ``model``, locked until the end of the transaction.

    ``version`` (the one the caller read) is checked against the locked row: ``CONFLICT``
    when it changed, or when the row was deleted since (the audit log keeps deletions);
    ``None`` for models without a version. ``NOT_FOUND`` when no such row ever was."""
    found = await model.filter(id=pk).select_for_update().first()
    if found is None:
        if version is not None and await _deleted(model, pk):
            _refuse_stale(version, None)
        raise NotFound(f"{label} introuvable.", field="id")
    if version is not None:
        check_version(found, version)
    return found


async def _deleted(model: type[Model], pk: int) -> bool:
    return await AuditEntry.filter(
        entity_type=model.__name__, entity_id=pk, action__endswith=".delete"
    ).exists()


def _refuse_stale(version: int, current: int | None) -> NoReturn:
    if current is None:
        raise Conflict(
            f"Supprimé entre-temps : la version {version} que vous avez lue n'existe plus.",
            field="version",
        )
    raise Conflict(
        f"Modifié entre-temps : vous éditez la version {version}, la version actuelle est "
        f"{current}. Rechargez, puis réappliquez vos changements.",
        field="version",
    )


def check_version(row: Model, version: int) -> None:
    """``CONFLICT`` on ``version`` unless ``row`` is at ``version``."""
    current = row.version  # type: ignore[attr-defined]
    if current != version:
        _refuse_stale(version, current)


async def _refuse_changed_since(model: type[Model], pk: int, version: int) -> NoReturn:
    """``CONFLICT`` for a write tied to ``version`` that matched no row."""
    current = await model.filter(id=pk).values_list("version", flat=True)
    _refuse_stale(version, current[0] if current else None)


async def note_change(
    viewer: Viewer | None, action: str, row: Model, changes: Mapping[str, list[Any]] | None = None
) -> None:
    """Audit entry plus outbox row for ``row`` (inside the current transaction)."""
    await record(viewer, action, row, changes=changes)
    entity_type = ENTITY_TYPES.get(type(row).__name__)
    if entity_type:
        await record_changes(entity_type, [row.pk])


async def create_draft(model: type[M], values: dict[str, Any]) -> M:
    """A new row of publishable content, as a draft, with a slug made from its title
    unless one was given."""
    values.setdefault("slug", await unique_slug(model, values["title"]))
    return await model.create(**values, status=ContentStatus.DRAFT)


async def delete_noted(viewer: Viewer, row: Model, *, action: str, version: int | None) -> None:
    """Delete ``row`` if still at ``version`` (``None``: a model without version), with
    its audit entry and outbox row (what it was called is kept)."""
    model = type(row)
    rows = model.filter(id=row.pk)
    if version is not None:
        rows = rows.filter(version=version)
    if not await rows.delete():
        if version is not None:
            await _refuse_changed_since(model, row.pk, version)
        raise NotFound("Objet introuvable : supprimé entre-temps.", field="id")
    named = {k: [getattr(row, k), None] for k in ("title", "name", "slug") if hasattr(row, k)}
    await note_change(viewer, action, row, named)


async def update_versioned(
    viewer: Viewer,
    row: M,
    *,
    version: int,
    values: Mapping[str, Any],
    action: str,
    extra_changes: Mapping[str, list[Any]] | None = None,
) -> M:
    """Apply ``values`` if ``row`` is still at ``version`` (compare-and-set in SQL)."""
    check_version(row, version)
    before = snapshot(row, values.keys())
    updated = (
        await type(row)
        .filter(id=row.pk, version=version)
        .update(**values, version=version + 1, updated_at=now())
    )
    if not updated:  # a writer that did not lock the row got there first
        await _refuse_changed_since(type(row), row.pk, version)
    await row.refresh_from_db()
    await note_change(viewer, action, row, {**diff(before, values), **(extra_changes or {})})
    return row


async def replace_links(
    link: type[Model],
    *,
    owner: str,
    owner_id: int,
    target: str,
    target_ids: Iterable[int],
) -> list[int] | None:
    """Make the links of ``owner_id`` exactly ``target_ids``; the previous ids if changed."""
    wanted = list(dict.fromkeys(target_ids))
    current = await link.filter(**{f"{owner}_id": owner_id}).values_list(f"{target}_id", flat=True)
    if sorted(current) == sorted(wanted):
        return None
    await link.filter(**{f"{owner}_id": owner_id}).delete()
    await link.bulk_create([link(**{f"{owner}_id": owner_id, f"{target}_id": t}) for t in wanted])
    return sorted(current)


async def apply_links(
    owner: str,
    owner_id: int,
    links: Mapping[str, list[int]],
    tables: Mapping[str, tuple[type[Model], str]],
) -> dict[str, list[Any]]:
    """Replace each given list of links (``{"theme_ids": [...]}``) through its link table;
    ``{name: [before, after]}`` of those that changed, for the audit log."""
    changed: dict[str, list[Any]] = {}
    for name, ids in links.items():
        link, target = tables[name]
        previous = await replace_links(
            link, owner=owner, owner_id=owner_id, target=target, target_ids=ids
        )
        if previous is not None:
            changed[name] = [previous, sorted(ids)]
    return changed


async def check_exist(model: type[Model], ids: Iterable[int], *, field: str) -> list[int]:
    wanted = list(dict.fromkeys(ids))
    found = set(await model.filter(id__in=wanted).values_list("id", flat=True))
    missing = [i for i in wanted if i not in found]
    if missing:
        raise BadUserInput(
            f"« {field} » désigne {len(missing)} objet(s) inexistant(s).", field=field
        )
    return wanted


async def update_unversioned(
    viewer: Viewer,
    row: M,
    *,
    values: Mapping[str, Any],
    action: str,
    extra_changes: Mapping[str, list[Any]] | None = None,
) -> M:
    """Apply ``values`` to a row without a version column (organisations, territories):
    a plain save, audited with the before/after of the changed fields."""
    before = snapshot(row, values.keys())
    if values:
        row.update_from_dict(dict(values))
        await row.save(update_fields=[*values, "updated_at"])
    await note_change(viewer, action, row, {**diff(before, values), **(extra_changes or {})})
    return row


def refuse_if_used(label: str, uses: Mapping[str, int], *, hint: str = "") -> None:
    """``CONFLICT`` naming what still refers to the object about to be deleted.

    Checked before deleting, so that references the database would silently cascade
    (votes, memberships…) are kept, and the message says what is in the way."""
    used = [f"{what} : {count}" for what, count in uses.items() if count]
    if used:
        raise Conflict(
            f"Suppression impossible, {label} est encore utilisé(e) ({', '.join(used)}). "
            f"Retirez d'abord ces références{hint}.",
            field="id",
        )
