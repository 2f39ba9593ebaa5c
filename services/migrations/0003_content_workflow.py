from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_accounts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('actor_account', fields.ForeignKeyField('models.Account', source_field='actor_account_id', null=True, db_constraint=True, to_field='id', related_name='audit_entries', on_delete=OnDelete.SET_NULL)),
                ('actor_api_key', fields.ForeignKeyField('models.ApiKey', source_field='actor_api_key_id', null=True, db_constraint=True, to_field='id', related_name='audit_entries', on_delete=OnDelete.SET_NULL)),
                ('actor_role', fields.CharField(max_length=20)),
                ('action', fields.CharField(db_index=True, max_length=60)),
                ('entity_type', fields.CharField(max_length=40)),
                ('entity_id', fields.IntField()),
                ('changes', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'audit_entry', 'app': 'models', 'indexes': [Index(fields=['entity_type', 'entity_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('topic', fields.CharField(max_length=30)),
                ('entity_type', fields.CharField(max_length=40)),
                ('entity_id', fields.IntField()),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_entry', 'app': 'models', 'indexes': [Index(fields=['topic', 'processed_at', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Concept',
            name='version',
            field=fields.IntField(default=1, db_default=1),
        ),
        ops.AddField(
            model_name='Event',
            name='version',
            field=fields.IntField(default=1, db_default=1),
        ),
        ops.AlterField(
            model_name='Resource',
            name='version',
            field=fields.IntField(default=1, db_default=1),
        ),
        ops.AddField(
            model_name='Resource',
            name='contributed_by',
            field=fields.ForeignKeyField('models.Account', source_field='contributed_by_id', null=True, db_constraint=True, to_field='id', related_name='contributions', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Resource',
            name='contributed_by_key',
            field=fields.ForeignKeyField('models.ApiKey', source_field='contributed_by_key_id', null=True, db_constraint=True, to_field='id', related_name='contributions', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Resource',
            name='contributor_organization',
            field=fields.ForeignKeyField('models.Organization', source_field='contributor_organization_id', null=True, db_constraint=True, to_field='id', related_name='contributions', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Resource',
            name='contributor_territory',
            field=fields.ForeignKeyField('models.Territory', source_field='contributor_territory_id', null=True, db_constraint=True, to_field='id', related_name='contributions', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Resource',
            name='rejection_reason',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Resource',
            name='submitted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Theme',
            name='version',
            field=fields.IntField(default=1, db_default=1),
        ),
        ops.AddField(
            model_name='VotingRound',
            name='version',
            field=fields.IntField(default=1, db_default=1),
        ),
    ]
