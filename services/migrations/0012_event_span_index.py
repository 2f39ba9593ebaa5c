"""An index of events by span (``ends_at - starts_at``): the longest is one step from its
end, and the events running at or after an instant are read from that instant minus the
longest span on (``services/events/service.py``, ``_earliest_start``), not from the first
event ever. An index on an expression, the same expression the service reads, written
for each database: SQLite keeps instants as text (``julianday`` makes days of them).

Tortoise's models know nothing of it: a later migration that makes SQLite rebuild the
event table (a foreign key added, a column altered) drops it, as 0003 dropped the index
0006 restores; ``tests/services/test_event_overlap.py`` then fails on SQLite."""

from tortoise import migrations
from tortoise.migrations import operations as ops

NAME = "idx_event_span"


async def _create(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        span = 'julianday("ends_at") - julianday("starts_at")'
    else:
        span = '("ends_at" - "starts_at")'
    await client.execute_script(f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "event" ({span})')


async def _drop(apps, schema_editor) -> None:
    await schema_editor.client.execute_script(f'DROP INDEX IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    dependencies = [("models", "0011_resource_theme_by_theme")]

    initial = False

    operations = [ops.RunPython(_create, _drop)]
