"""Newsletter mutations: write an issue, arrange its items, compose, test, schedule, cancel."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from graphql import parse, validate
from graphql.error import GraphQLSyntaxError
from strawberry.scalars import JSON

from mailer.render import check_syntax
from mailer.sending import preview, send_test
from schema import registry
from schema.newsletters.queries import IssueID, issue_pk
from schema.newsletters.runtime import executor_for, transport_for
from schema.newsletters.types import (
    ComposedNewsletter,
    ComposedSection,
    NewsletterIssue,
    NewsletterTemplate,
    SectionKindEnum,
    SubscriberAudienceEnum,
    TestSendReceipt,
)
from schema.payloads import object_payload, payload_mutation
from schema.relay import decode_id, decode_ids
from schema.strawberry_compat import graphql_core_schema
from services.accounts.service import normalize_email
from services.errors import BadUserInput, Problems
from services.newsletters import service
from services.newsletters.errors import CompositionFailed
from services.newsletters.models import SectionKind
from services.newsletters.sections import Section as IssueSection
from services.policy import authorize

ItemID = Annotated[
    strawberry.ID, strawberry.argument(description="Global ID of the item (resource, event…).")
]
Section = Annotated[SectionKindEnum, strawberry.argument(description="The section.")]
NewsletterIssuePayload = object_payload(
    "NewsletterIssuePayload", "issue", NewsletterIssue, "The issue, as it is now."
)
ComposeNewsletterPayload = object_payload(
    "ComposeNewsletterPayload",
    "composed",
    ComposedNewsletter,
    "The issue as subscribers would get it now.",
)
SendTestNewsletterPayload = object_payload(
    "SendTestNewsletterPayload", "receipt", TestSendReceipt, "The test message sent."
)
CreateNewsletterTemplatePayload = object_payload(
    "CreateNewsletterTemplatePayload", "template", NewsletterTemplate, "The template stored."
)


@strawberry.input(description="Fields of an issue to change; omitted fields are left as they are.")
class NewsletterIssueUpdateInput:
    title: str | None = strawberry.field(default=strawberry.UNSET, description="Title.")
    subject: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="E-mail subject (no line breaks); the title if omitted.",
    )
    introduction: str | None = strawberry.field(
        default=strawberry.UNSET, description="Introduction (plain text, paragraphs)."
    )
    variables: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="Variables of the template's GraphQL document."
    )
    audiences: list[SubscriberAudienceEnum] | None = strawberry.field(
        default=strawberry.UNSET, description="Segment: only these audiences (all when empty)."
    )
    themes: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Segment: only followers of these themes."
    )
    template: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="A stored template (the default one if omitted)."
    )


@strawberry.input(description="Fields of an issue to create; the non-null ones are required.")
class NewsletterIssueCreateInput(NewsletterIssueUpdateInput):
    title: str = strawberry.field(description="Title.")
    month: dt.date | None = strawberry.field(
        default=strawberry.UNSET,
        description="Month of the issue: picks its theme, concept and agenda.",
    )


def _given(value: Any) -> Any:
    return None if value is strawberry.UNSET else value


def _changes(data: NewsletterIssueUpdateInput) -> service.IssueChanges:
    themes = _given(data.themes)
    audiences = _given(data.audiences)
    template = _given(data.template)
    return service.IssueChanges(
        title=_given(data.title),
        subject=_given(data.subject),
        introduction=_given(data.introduction),
        variables=_given(data.variables),
        segment_audiences=[a.value for a in audiences] if audiences is not None else None,
        segment_themes=decode_ids(themes, "Theme", "themes") if themes is not None else None,
        template_id=decode_id(template, "NewsletterTemplate", "template") if template else None,
    )


def _composed(result: Any) -> ComposedNewsletter:
    return ComposedNewsletter(
        subject=result.subject,
        html=result.html,
        text=result.text,
        sections=[
            ComposedSection(
                kind=SectionKind(kind),
                items=[strawberry.ID(i["id"]) for i in items],
                titles=[str(i.get("title", "")) for i in items],
            )
            for kind, items in result.sections.items()
        ],
    )


@strawberry.input(
    description="A section of an issue. Sections come in the order given; a kind not given "
    "is left out of the issue (the footer cannot be). Omitted wording keeps the template's; "
    "an empty string means none."
)
class NewsletterSectionInput:
    kind: SectionKindEnum = strawberry.field(description="Kind of section.")
    title: str | None = strawberry.field(default=None, description="Title (an h2).")
    body: str | None = strawberry.field(
        default=None, description="Text, paragraphs separated by a blank line."
    )
    call_to_action: str | None = strawberry.field(
        default=None, description="Wording of the section's call to action."
    )
    item_call_to_action: str | None = strawberry.field(
        default=None, description="Wording of each item's link."
    )
    curated: bool = strawberry.field(
        default=False,
        description="Only the items editors placed (addNewsletterItem): the query adds nothing.",
    )

    def to_section(self) -> IssueSection:
        return IssueSection(
            kind=SectionKind(self.kind),
            title=self.title,
            body=self.body,
            cta=self.call_to_action,
            item_cta=self.item_call_to_action,
            curated=self.curated,
        )


def _month(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{value.strip()[:7]}-01")
    except ValueError:
        raise BadUserInput(
            f"Mois invalide : « {value[:20]} » (attendu : AAAA-MM, par ex. 2026-12).",
            field="month",
        ) from None


@strawberry.input(description="A newsletter template: GraphQL document, MJML, text.")
class NewsletterTemplateInput:
    name: str = strawberry.field(description="Name.")
    document: str = strawberry.field(description="GraphQL document (one query).")
    mjml: str = strawberry.field(description="MJML markup, Jinja syntax for the data.")
    text: str = strawberry.field(default="", description="Plain-text template (Jinja).")
    sections: JSON | None = strawberry.field(
        default=None,
        description="Its sections in their default order: "
        '[{"kind": "AGENDA", "items": "events.nodes", "title": "À vos agendas !"}, …] (or '
        'where section items are: {"AGENDA": "events.nodes", …}).',
    )


@registry.mutation
@strawberry.type
class NewsletterMutations:
    @payload_mutation(NewsletterIssuePayload, description="Create a draft issue (editors).")
    async def create_newsletter_issue(
        self,
        info: strawberry.Info,
        input: Annotated[
            NewsletterIssueCreateInput, strawberry.argument(description="Its fields.")
        ],
    ) -> NewsletterIssue:
        found = await service.create_issue(
            info.context.viewer,
            title=input.title,
            subject=_given(input.subject),
            month=_given(input.month),
            changes=_changes(input),
        )
        return NewsletterIssue.from_model(found, info.context.settings)

    @payload_mutation(
        NewsletterIssuePayload,
        description="Create a draft issue for a month, pre-filled from that month's content "
        "(editors): the template's sections, the current theme and its resources, the next "
        "theme, the open vote, news and upcoming events; you review, pin and write the "
        "introduction.",
    )
    async def draft_newsletter(
        self,
        info: strawberry.Info,
        month: Annotated[str, strawberry.argument(description="The month: AAAA-MM.")],
    ) -> NewsletterIssue:
        found = await service.draft_issue(info.context.viewer, month=_month(month))
        return NewsletterIssue.from_model(found, info.context.settings)

    @payload_mutation(
        NewsletterIssuePayload,
        description="Choose an issue's sections (editors): their order, those left out (not "
        "listed; the footer stays), their titles, bodies and calls to action.",
    )
    async def set_newsletter_sections(
        self,
        info: strawberry.Info,
        id: IssueID,
        version: Annotated[int, strawberry.argument(description="The version you read.")],
        sections: Annotated[
            list[NewsletterSectionInput], strawberry.argument(description="In their order.")
        ],
    ) -> NewsletterIssue:
        found = await service.set_sections(
            info.context.viewer,
            issue_pk(id),
            version=version,
            sections=[s.to_section() for s in sections],
        )
        return NewsletterIssue.from_model(found, info.context.settings)

    @payload_mutation(
        NewsletterIssuePayload, description="Change a draft or scheduled issue (editors)."
    )
    async def update_newsletter_issue(
        self,
        info: strawberry.Info,
        id: IssueID,
        version: Annotated[int, strawberry.argument(description="The version you read.")],
        input: Annotated[NewsletterIssueUpdateInput, strawberry.argument(description="Changes.")],
    ) -> NewsletterIssue:
        found = await service.update_issue(
            info.context.viewer, issue_pk(id), version=version, changes=_changes(input)
        )
        return NewsletterIssue.from_model(found, info.context.settings)

    @payload_mutation(
        NewsletterIssuePayload, description="Add an item to a section, after the others (editors)."
    )
    async def add_newsletter_item(
        self,
        info: strawberry.Info,
        id: IssueID,
        section: Section,
        item: ItemID,
        pinned: Annotated[bool, strawberry.argument(description="Pin it on top.")] = False,
        call_to_action: Annotated[
            str | None,
            strawberry.argument(
                description="Wording of its link (the section's if omitted; empty: no link)."
            ),
        ] = None,
    ) -> NewsletterIssue:
        found = await service.add_item(
            info.context.viewer,
            issue_pk(id),
            section=section,
            node_id=item,
            pinned=pinned,
            cta=call_to_action,
        )
        return NewsletterIssue.from_model(found, info.context.settings)

    @payload_mutation(
        NewsletterIssuePayload, description="Pin (or unpin) an item at the top of its section."
    )
    async def pin_newsletter_item(
        self,
        info: strawberry.Info,
        id: IssueID,
        section: Section,
        item: ItemID,
        pinned: Annotated[bool, strawberry.argument(description="False unpins.")] = True,
    ) -> NewsletterIssue:
        found = await service.pin_item(
            info.context.viewer, issue_pk(id), section=section, node_id=item, pinned=pinned
        )
        return NewsletterIssue.from_model(found, info.context.settings)

    @payload_mutation(
        NewsletterIssuePayload, description="Leave an item out of a section (editors)."
    )
    async def remove_newsletter_item(
        self, info: strawberry.Info, id: IssueID, section: Section, item: ItemID
    ) -> NewsletterIssue:
        found = await service.remove_item(
            info.context.viewer, issue_pk(id), section=section, node_id=item
        )
        return NewsletterIssue.from_model(found, info.context.settings)

    @payload_mutation(
        NewsletterIssuePayload, description="Put these items first in a section, in this order."
    )
    async def reorder_newsletter_items(
        self,
        info: strawberry.Info,
        id: IssueID,
        section: Section,
        items: Annotated[list[strawberry.ID], strawberry.argument(description="Item IDs.")],
    ) -> NewsletterIssue:
        found = await service.reorder_items(
            info.context.viewer, issue_pk(id), section=section, node_ids=list(items)
        )
        return NewsletterIssue.from_model(found, info.context.settings)

    @payload_mutation(
        ComposeNewsletterPayload,
        description="Compose the issue as subscribers will get it — as the public sees the "
        "platform on the issue's date — (nothing is frozen or sent): "
        "COMPOSITION_FAILED with the GraphQL errors when the template's document fails.",
    )
    async def compose_newsletter(self, info: strawberry.Info, id: IssueID) -> ComposedNewsletter:
        ctx = info.context
        issue = await service.get_issue(ctx.viewer, issue_pk(id))
        result = await preview(executor_for(info), issue, settings=ctx.settings, viewer=ctx.viewer)
        return _composed(result)

    @payload_mutation(
        SendTestNewsletterPayload,
        description="Send the issue, composed now, to one address (editors).",
    )
    async def send_test_newsletter(
        self,
        info: strawberry.Info,
        id: IssueID,
        to: Annotated[str, strawberry.argument(description="Address to send the test to.")],
    ) -> TestSendReceipt:
        ctx = info.context
        authorize(ctx.viewer, "newsletter.send")
        address = normalize_email(to)
        issue = await service.get_issue(ctx.viewer, issue_pk(id))
        transport = transport_for(ctx)
        try:
            message_id = await send_test(
                executor_for(info),
                issue,
                to=address,
                settings=ctx.settings,
                transport=transport,
                viewer=ctx.viewer,
            )
        finally:
            await transport.close()
        return TestSendReceipt(to=address, message_id=message_id)

    @payload_mutation(
        NewsletterIssuePayload,
        description="Send the issue at `at` (editors). It is composed first: a template "
        "error refuses with COMPOSITION_FAILED and nothing is scheduled.",
    )
    async def schedule_newsletter(
        self,
        info: strawberry.Info,
        id: IssueID,
        at: Annotated[dt.datetime, strawberry.argument(description="When (with time zone).")],
    ) -> NewsletterIssue:
        ctx = info.context
        authorize(ctx.viewer, "newsletter.send")
        issue = await service.get_issue(ctx.viewer, issue_pk(id))
        await preview(executor_for(info), issue, settings=ctx.settings, viewer=ctx.viewer)
        found = await service.schedule_issue(ctx.viewer, issue.id, at=at)
        return NewsletterIssue.from_model(found, ctx.settings)

    @payload_mutation(
        NewsletterIssuePayload,
        description="Cancel a scheduled issue (back to draft) or stop one being sent.",
    )
    async def cancel_newsletter(self, info: strawberry.Info, id: IssueID) -> NewsletterIssue:
        found = await service.cancel_issue(info.context.viewer, issue_pk(id))
        return NewsletterIssue.from_model(found, info.context.settings)

    @payload_mutation(
        CreateNewsletterTemplatePayload,
        description="Store a template after checking that its document is valid against the "
        "schema and its MJML and text parse (editors).",
    )
    async def create_newsletter_template(
        self,
        info: strawberry.Info,
        input: Annotated[NewsletterTemplateInput, strawberry.argument(description="It.")],
    ) -> NewsletterTemplate:
        authorize(info.context.viewer, "newsletter.compose")
        # Every part is checked before anything is refused: the service adds the name's
        # and the sections' refusals to these.
        problems = Problems()
        try:
            errors = validate(graphql_core_schema(info.schema), parse(input.document))
        except GraphQLSyntaxError as error:
            errors = [error]
        if errors:
            problems.add(CompositionFailed([e.formatted for e in errors], field="document"))
        problems.check(lambda: check_syntax(input.mjml, field="mjml"))
        problems.check(lambda: check_syntax(input.text, field="text"))
        sections = input.sections or []
        if isinstance(sections, dict):
            sections = {str(k): str(v) for k, v in sections.items()}
        found = await service.create_template(
            info.context.viewer,
            name=input.name,
            document=input.document,
            mjml=input.mjml,
            text=input.text,
            sections=sections,
            problems=problems,
        )
        return NewsletterTemplate.from_model(found)
