"""Sections as data: an issue keeps its sections (order, titles, bodies, calls to action)
and its month; an item placed by editors may carry its own link wording; a section for
the theme's introductory resource."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from services.newsletters.models import SectionKind
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_subscription_requests')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='IssueItem',
            name='section',
            field=fields.CharEnumField(description='VIEW_IN_BROWSER: VIEW_IN_BROWSER\nINTRODUCTION: INTRODUCTION\nTHEME_OF_THE_MONTH: THEME_OF_THE_MONTH\nINTRODUCTORY_RESOURCE: INTRODUCTORY_RESOURCE\nINSPIRING_PROJECTS: INSPIRING_PROJECTS\nCONCEPT: CONCEPT\nNEXT_THEME: NEXT_THEME\nVOTE: VOTE\nSHARED_PROJECTS: SHARED_PROJECTS\nPARTNER_NEWS: PARTNER_NEWS\nAGENDA: AGENDA\nFOOTER: FOOTER', enum_type=SectionKind, max_length=24),
        ),
        ops.AddField(
            model_name='IssueItem',
            name='cta',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='NewsletterIssue',
            name='month',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='NewsletterIssue',
            name='sections',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
