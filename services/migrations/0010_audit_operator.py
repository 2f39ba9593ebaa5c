"""The audit log names who ran the operators' command `tec` (`tec (alice@host)`)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_webhooks')]

    initial = False

    operations = [
        ops.AddField(
            model_name='AuditEntry',
            name='actor_name',
            field=fields.CharField(null=True, max_length=200),
        ),
    ]
