"""An index of resource themes by theme, then resource: a theme's resources and the
resources sharing a theme with another (``related``) are read from it alone. The unique
(resource, theme) index only serves the other direction."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_audit_operator')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='ResourceTheme',
            index=Index(fields=['theme_id', 'resource_id']),
        ),
    ]
