"""The shared write mechanism: rows locked when read, writes tied to the version read.

Sequential specifications, on both backends; the concurrent ones, with two app
processes, are in test_write_races.py (PostgreSQL) and test_sqlite_busy.py (SQLite).
"""

from __future__ import annotations

import asyncio

import pytest

from services import editing, publishing
from services.audit.models import AuditEntry
from services.editing import create_content, delete_content, update_content
from services.errors import Conflict, NotFound
from services.organizations.content_type import ORGANIZATION
from services.outbox.models import OutboxEntry
from services.resources.content_type import RESOURCE
from services.resources.models import Resource
from services.territories.content_type import TERRITORY
from services.territories.models import Territory
from services.viewer import Role, Viewer
from tests.conftest import POSTGRES_URL
from tests.unique import unique_tag

pytestmark = pytest.mark.usefixtures("database")
EDITOR = Viewer(role=Role.EDITOR)


async def _resource() -> Resource:
    return await create_content(EDITOR, RESOURCE, {"title": f"Essai {unique_tag(8)}"})


async def _traces(pk: int) -> tuple[int, int]:
    """(audit entries, outbox rows) of resource ``pk``."""
    return (
        await AuditEntry.filter(entity_type="Resource", entity_id=pk).count(),
        await OutboxEntry.filter(entity_type="resource", entity_id=pk).count(),
    )


async def test_a_write_on_an_object_deleted_since_it_was_read_is_a_conflict_on_version():
    resource = await _resource()
    await delete_content(EDITOR, RESOURCE, resource.id, version=1)
    traces = await _traces(resource.id)
    writes = [
        update_content(EDITOR, RESOURCE, resource.id, version=1, given={"title": "Tard"}),
        delete_content(EDITOR, RESOURCE, resource.id, version=1),
        publishing.publish(EDITOR, "Resource", resource.id, version=1),
        publishing.archive(EDITOR, "Resource", resource.id, version=1),
    ]
    for write in writes:
        with pytest.raises(Conflict) as refused:
            await write
        assert refused.value.field == "version"
        assert refused.value.message.startswith("Supprimé entre-temps")
    assert await _traces(resource.id) == traces


async def test_an_id_no_object_ever_had_is_not_found():
    missing = (await Resource.all().order_by("-id").first()).id + 10_000
    with pytest.raises(NotFound):
        await delete_content(EDITOR, RESOURCE, missing, version=1)
    with pytest.raises(NotFound):
        await publishing.unpublish(EDITOR, "Resource", missing, version=1)


async def test_a_stale_version_changes_nothing():
    resource = await _resource()
    await update_content(EDITOR, RESOURCE, resource.id, version=1, given={"title": "Deux"})
    traces = await _traces(resource.id)
    for write in (
        delete_content(EDITOR, RESOURCE, resource.id, version=1),
        publishing.publish(EDITOR, "Resource", resource.id, version=1),
    ):
        with pytest.raises(Conflict) as refused:
            await write
        assert refused.value.field == "version"
        assert "la version actuelle est 2" in refused.value.message
    assert await _traces(resource.id) == traces
    assert (await Resource.get(id=resource.id)).version == 2


async def test_the_delete_itself_is_tied_to_the_version_it_read():
    # A writer that read the row before another one changed it, without holding a lock.
    resource = await _resource()
    read_early = await Resource.get(id=resource.id)
    await update_content(EDITOR, RESOURCE, resource.id, version=1, given={"title": "Deux"})
    traces = await _traces(resource.id)
    with pytest.raises(Conflict) as refused:
        async with editing.write_transaction():
            await editing.delete_noted(EDITOR, read_early, action="resource.delete", version=1)
    assert refused.value.field == "version"
    assert await Resource.exists(id=resource.id)
    assert await _traces(resource.id) == traces


async def test_the_update_itself_is_tied_to_the_version_it_read():
    resource = await _resource()
    read_early = await Resource.get(id=resource.id)
    await update_content(EDITOR, RESOURCE, resource.id, version=1, given={"title": "Deux"})
    with pytest.raises(Conflict):
        async with editing.write_transaction():
            await editing.update_versioned(
                EDITOR, read_early, version=1, values={"title": "Perdu"}, action="resource.update"
            )
    assert (await Resource.get(id=resource.id)).title == "Deux"


async def test_an_unversioned_row_deleted_already_is_not_found():
    territory = await Territory.create(slug=f"t-{unique_tag(8)}", name="Essai", level="COMMUNE")
    await delete_content(EDITOR, TERRITORY, territory.id, version=None)
    with pytest.raises(NotFound):
        await delete_content(EDITOR, TERRITORY, territory.id, version=None)
    with pytest.raises(NotFound):
        await delete_content(EDITOR, ORGANIZATION, 10**9, version=None)


@pytest.mark.skipif(not POSTGRES_URL, reason="deadlocks between two transactions: PostgreSQL")
async def test_a_transaction_postgres_aborts_as_a_deadlock_comes_out_as_conflict():
    a, b = [
        await Territory.create(slug=f"d-{unique_tag(8)}", name="D", level="COMMUNE")
        for _ in range(2)
    ]
    locked = [asyncio.Event(), asyncio.Event()]

    async def lock(me: int, first: int, second: int) -> str:
        try:
            async with editing.write_transaction():
                await Territory.filter(id=first).select_for_update().first()
                locked[me].set()
                await locked[1 - me].wait()
                await Territory.filter(id=second).select_for_update().first()
        except Conflict as error:
            return error.code
        return "OK"

    outcomes = await asyncio.gather(lock(0, a.id, b.id), lock(1, b.id, a.id))
    assert sorted(outcomes) == ["CONFLICT", "OK"]
