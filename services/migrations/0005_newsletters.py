from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from services.newsletters.models import DeliveryStatus, IssueStatus, SectionKind
from services.subscribers.models import SubscriberAudience, SubscriberStatus
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_votes_and_projects')]

    initial = False

    operations = [
        ops.CreateModel(
            name='NewsletterTemplate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('slug', fields.CharField(unique=True, max_length=120)),
                ('name', fields.CharField(max_length=200)),
                ('document', fields.TextField(unique=False)),
                ('mjml', fields.TextField(unique=False)),
                ('text', fields.TextField(default='', unique=False)),
                ('sections', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('version', fields.IntField(default=1, db_default=1)),
            ],
            options={'table': 'newsletter_template', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A template is data: a GraphQL document run against the public schema, the MJML'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='NewsletterIssue',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('slug', fields.CharField(unique=True, max_length=120)),
                ('number', fields.IntField(null=True)),
                ('title', fields.CharField(max_length=300)),
                ('subject', fields.CharField(max_length=300)),
                ('template', fields.ForeignKeyField('models.NewsletterTemplate', source_field='template_id', null=True, db_constraint=True, to_field='id', related_name='issues', on_delete=OnDelete.RESTRICT)),
                ('variables', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('introduction', fields.TextField(default='', unique=False)),
                ('segment_audiences', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('segment_themes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('status', fields.CharEnumField(default=IssueStatus.DRAFT, description='DRAFT: DRAFT\nSCHEDULED: SCHEDULED\nSENDING: SENDING\nSENT: SENT\nCANCELLED: CANCELLED', enum_type=IssueStatus, max_length=16)),
                ('scheduled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('scheduled_by', fields.ForeignKeyField('models.Account', source_field='scheduled_by_id', null=True, db_constraint=True, to_field='id', related_name='scheduled_issues', on_delete=OnDelete.SET_NULL)),
                ('frozen_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('frozen_html', fields.TextField(null=True, unique=False)),
                ('frozen_text', fields.TextField(null=True, unique=False)),
                ('frozen_subject', fields.CharField(null=True, max_length=300)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('version', fields.IntField(default=1, db_default=1)),
            ],
            options={'table': 'newsletter_issue', 'app': 'models', 'indexes': [Index(fields=['status', 'scheduled_at'])], 'pk_attr': 'id', 'table_description': 'One issue. Once sending starts its composed content is frozen: the web archive shows'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='IssueItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('issue', fields.ForeignKeyField('models.NewsletterIssue', source_field='issue_id', db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.CASCADE)),
                ('section', fields.CharEnumField(description='VIEW_IN_BROWSER: VIEW_IN_BROWSER\nINTRODUCTION: INTRODUCTION\nTHEME_OF_THE_MONTH: THEME_OF_THE_MONTH\nINSPIRING_PROJECTS: INSPIRING_PROJECTS\nCONCEPT: CONCEPT\nNEXT_THEME: NEXT_THEME\nVOTE: VOTE\nSHARED_PROJECTS: SHARED_PROJECTS\nPARTNER_NEWS: PARTNER_NEWS\nAGENDA: AGENDA\nFOOTER: FOOTER', enum_type=SectionKind, max_length=24)),
                ('node_id', fields.CharField(max_length=120)),
                ('position', fields.IntField(default=0)),
                ('pinned', fields.BooleanField(default=False)),
                ('removed', fields.BooleanField(default=False)),
            ],
            options={'table': 'newsletter_issue_item', 'app': 'models', 'unique_together': (('issue', 'section', 'node_id'),), 'pk_attr': 'id', 'table_description': "An editor's decision about one item of a section: added or reordered (``position``),"},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Subscriber',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('name', fields.CharField(default='', max_length=200)),
                ('status', fields.CharEnumField(default=SubscriberStatus.PENDING, description='PENDING: PENDING\nCONFIRMED: CONFIRMED\nUNSUBSCRIBED: UNSUBSCRIBED\nBOUNCED: BOUNCED', enum_type=SubscriberStatus, max_length=16)),
                ('audience', fields.CharEnumField(default=SubscriberAudience.CITIZEN, description='LOCAL_AUTHORITY: LOCAL_AUTHORITY\nPARTNER: PARTNER\nCITIZEN: CITIZEN', enum_type=SubscriberAudience, max_length=20)),
                ('consent_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('consent_ip', fields.CharField(default='', max_length=45)),
                ('consent_source', fields.CharField(default='', max_length=200)),
                ('consent_wording_version', fields.CharField(max_length=40)),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('confirmed_ip', fields.CharField(null=True, max_length=45)),
                ('unsubscribed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('bounced_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('bounce_reason', fields.CharField(null=True, max_length=500)),
                ('link_generation', fields.IntField(default=1)),
            ],
            options={'table': 'subscriber', 'app': 'models', 'indexes': [Index(fields=['status', 'audience'])], 'pk_attr': 'id', 'table_description': 'One e-mail address. Proof of consent: when, from which IP, through which source,'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Delivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('issue', fields.ForeignKeyField('models.NewsletterIssue', source_field='issue_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('subscriber', fields.ForeignKeyField('models.Subscriber', source_field='subscriber_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=DeliveryStatus.PENDING, description='PENDING: PENDING\nSENDING: SENDING\nSENT: SENT\nFAILED: FAILED\nCANCELLED: CANCELLED', enum_type=DeliveryStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reclaims', fields.IntField(default=0)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(null=True, max_length=500)),
            ],
            options={'table': 'newsletter_delivery', 'app': 'models', 'unique_together': (('issue', 'subscriber'),), 'indexes': [Index(fields=['status', 'next_attempt_at']), Index(fields=['issue_id', 'status'])], 'pk_attr': 'id', 'table_description': 'One message of the durable queue: one row per (issue, subscriber).'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='SubscriberTheme',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('subscriber', fields.ForeignKeyField('models.Subscriber', source_field='subscriber_id', db_constraint=True, to_field='id', related_name='theme_links', on_delete=OnDelete.CASCADE)),
                ('theme', fields.ForeignKeyField('models.Theme', source_field='theme_id', db_constraint=True, to_field='id', related_name='subscriber_links', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'subscriber_theme', 'app': 'models', 'unique_together': (('subscriber', 'theme'),), 'pk_attr': 'id', 'table_description': 'A theme a subscriber follows (preferences).'},
            bases=['TimestampedModel'],
        ),
    ]
