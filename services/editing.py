"""What every write shares: one transaction, optimistic versions, audit and outbox; and
the create/update/delete of every content type declared with fields
(:func:`create_content`, :func:`update_content`, :func:`delete_content`).

A write either commits with its audit entry, outbox rows and webhook events, or changes
nothing.

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
import enum
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, NoReturn, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from services import registry
from services.audit.models import AuditEntry
from services.audit.service import diff, record, snapshot
from services.content import ContentStatus
from services.errors import BadUserInput, Conflict, InvalidInput, NotFound
from services.fields import Changes, Fields, Link, clean
from services.outbox.service import record_changes
from services.policy import authorize
from services.registry import ContentType
from services.validation import unique_slug
from services.viewer import Viewer
from services.webhooks.events import record_events

M = TypeVar("M", bound=Model)


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
    """Audit entry, outbox row and webhook events for ``row`` (inside the current
    transaction)."""
    await record(viewer, action, row, changes=changes)
    content = registry.of_model(type(row))
    if content is not None and content.followed:
        await record_changes(content.entity, [row.pk])
    await record_events(action, row, changes or {})


async def create_draft(model: type[M], values: dict[str, Any], *, slug_from: str = "title") -> M:
    """A new row of publishable content, as a draft, with a slug made from its title
    unless one was given."""
    values.setdefault("slug", await unique_slug(model, values[slug_from]))
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


async def replace_links(link: Link, owner_id: int, wanted: Iterable[Any]) -> list[Any] | None:
    """Make the links of ``owner_id`` exactly ``wanted``; the previous values if changed."""
    wanted = list(dict.fromkeys(wanted))
    owned = link.table.filter(**{link.owner_column: owner_id})
    current = [_plain(v) for v in await owned.values_list(link.value_column, flat=True)]
    if sorted(current) == sorted(_plain(v) for v in wanted):
        return None
    await owned.delete()
    await link.table.bulk_create(
        [link.table(**{link.owner_column: owner_id, link.value_column: v}) for v in wanted]
    )
    return sorted(current)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


async def apply_links(
    fields: Fields, owner_id: int, links: Mapping[str, list[Any]]
) -> dict[str, list[Any]]:
    """Replace each given list of links through its link table; ``{field: [before,
    after]}`` of those that changed, for the audit log."""
    changed: dict[str, list[Any]] = {}
    for name, values in links.items():
        link = fields[name].link
        assert link is not None
        previous = await replace_links(link, owner_id, values)
        if previous is not None:
            changed[name] = [previous, sorted(_plain(v) for v in values)]
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


# --- The shared writes of content types declared with fields -----------------------------


def _editable(content: ContentType) -> Fields:
    if content.fields is None:
        raise TypeError(f"{content.name} has writes of its own, not the shared ones")
    return content.fields


async def create_content(viewer: Viewer, content: ContentType, given: Mapping[str, Any]) -> Any:
    """A new row of ``content`` from the ``given`` fields: a draft for publishable types
    (only editors see it until it is published), public at once for the others."""
    fields = _editable(content)
    authorize(viewer, f"{content.entity}.create")
    async with write_transaction():
        changes = await clean(fields, given, model=content.model, exclude_id=None, creating=True)
        _check(content, changes, None)
        values = changes.values
        if content.publishable:
            row = await create_draft(content.model, values, slug_from=content.slug_from)
        else:
            values.setdefault("slug", await unique_slug(content.model, values[content.slug_from]))
            row = await content.model.create(**values)
        links = await apply_links(fields, row.pk, changes.links)
        if content.after_write is not None:
            await content.after_write(viewer, row, changes)
        await note_change(viewer, f"{content.entity}.create", row, {**diff({}, values), **links})
    return row


async def update_content(
    viewer: Viewer,
    content: ContentType,
    pk: int,
    *,
    version: int | None,
    given: Mapping[str, Any],
) -> Any:
    """Change the ``given`` fields of row ``pk``: compare-and-set on ``version`` for
    versioned types (``CONFLICT`` when it moved), last write wins for the others."""
    fields = _editable(content)
    authorize(viewer, f"{content.entity}.update")
    async with write_transaction():
        row = await get_for_update(
            content.model, pk, label=content.label, version=_version(content, version)
        )
        changes = await clean(fields, given, model=content.model, exclude_id=pk, creating=False)
        _check(content, changes, row)
        links = await apply_links(fields, pk, changes.links)
        action = f"{content.entity}.update"
        if content.versioned:
            assert version is not None
            row = await update_versioned(
                viewer,
                row,
                version=version,
                values=changes.values,
                action=action,
                extra_changes=links,
            )
        else:
            row = await update_unversioned(
                viewer, row, values=changes.values, action=action, extra_changes=links
            )
        if content.after_write is not None:
            await content.after_write(viewer, row, changes)
    return row


async def delete_content(
    viewer: Viewer, content: ContentType, pk: int, *, version: int | None
) -> Any:
    """Delete row ``pk`` for good, unless something still refers to it (``CONFLICT``
    naming what). Versioned types delete only the version that was read."""
    _editable(content)
    authorize(viewer, f"{content.entity}.delete")
    version = _version(content, version)
    async with write_transaction():
        row = await get_for_update(content.model, pk, label=content.label, version=version)
        if content.in_use is not None:
            refuse_if_used(content.definite, await content.in_use(pk), hint=content.delete_hint)
        await delete_noted(viewer, row, action=f"{content.entity}.delete", version=version)
    return row


def _check(content: ContentType, changes: Changes, row: Model | None) -> None:
    if content.check is None:
        return
    try:
        content.check(changes, row)
    except InvalidInput:
        raise
    except BadUserInput as error:
        raise InvalidInput([error]) from None


def _version(content: ContentType, version: int | None) -> int | None:
    if not content.versioned:
        return None
    if version is None:
        raise BadUserInput(
            "« version » est obligatoire : la version que vous avez lue.", field="version"
        )
    return version
