"""Restore the (status, published_at) index of resources on SQLite.

0001 created it, but SQLite rebuilds a table to add a foreign key (0003) and the rebuild
dropped it: every public list of resources then scanned and sorted the whole table.
PostgreSQL kept its index; nothing to do there."""

from tortoise import migrations
from tortoise.migrations import operations as ops


async def _restore(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        await client.execute_script(
            'CREATE INDEX IF NOT EXISTS "idx_resource_status_published" '
            'ON "resource" ("status", "published_at")'
        )


class Migration(migrations.Migration):
    dependencies = [("models", "0005_newsletters")]

    initial = False

    operations = [ops.RunPython(_restore, ops.RunPython.noop)]
