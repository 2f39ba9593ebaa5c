"""Subscription requests, kept apart from the subscriber until their own confirmation link
is confirmed (and counted per address to throttle confirmation e-mails)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from services.subscribers.models import SubscriberAudience
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_resource_publication_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SubscriptionRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('subscriber', fields.ForeignKeyField('models.Subscriber', source_field='subscriber_id', db_constraint=True, to_field='id', related_name='requests', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(default='', max_length=200)),
                ('audience', fields.CharEnumField(default=SubscriberAudience.CITIZEN, description='LOCAL_AUTHORITY: LOCAL_AUTHORITY\nPARTNER: PARTNER\nCITIZEN: CITIZEN', enum_type=SubscriberAudience, max_length=20)),
                ('theme_ids', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('consent_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('consent_ip', fields.CharField(default='', max_length=45)),
                ('consent_source', fields.CharField(default='', max_length=200)),
                ('consent_wording_version', fields.CharField(max_length=40)),
                ('link_generation', fields.IntField()),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'subscription_request', 'app': 'models', 'indexes': [Index(fields=['subscriber_id', 'consent_at']), Index(fields=['consent_at'])], 'pk_attr': 'id', 'table_description': 'One request to subscribe an address, kept apart from the subscriber until its own'},
            bases=['TimestampedModel'],
        ),
    ]
