from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_content_workflow')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ProjectNews',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('project', fields.ForeignKeyField('models.SharedProject', source_field='project_id', db_constraint=True, to_field='id', related_name='news', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=300)),
                ('body', fields.TextField(default='', unique=False)),
                ('published_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'project_news', 'app': 'models', 'indexes': [Index(fields=['project_id', 'published_at'])], 'pk_attr': 'id', 'table_description': "A news item a shared project publishes (« Découvrir et suivre l'accompagnement »)."},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ProjectResource',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('project', fields.ForeignKeyField('models.SharedProject', source_field='project_id', db_constraint=True, to_field='id', related_name='resource_links', on_delete=OnDelete.CASCADE)),
                ('resource', fields.ForeignKeyField('models.Resource', source_field='resource_id', db_constraint=True, to_field='id', related_name='project_links', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'project_resource', 'app': 'models', 'unique_together': (('project', 'resource'),), 'pk_attr': 'id', 'table_description': 'A resource linked to a shared project (its diagnostics, guides, reports…).'},
            bases=['TimestampedModel'],
        ),
        ops.AddField(
            model_name='ProjectStage',
            name='territory',
            field=fields.ForeignKeyField('models.Territory', source_field='territory_id', null=True, db_constraint=True, to_field='id', related_name='project_stages', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Vote',
            name='cast_by',
            field=fields.ForeignKeyField('models.Account', source_field='cast_by_id', null=True, db_constraint=True, to_field='id', related_name='votes', on_delete=OnDelete.SET_NULL),
        ),
    ]
