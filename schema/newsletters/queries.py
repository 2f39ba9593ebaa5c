"""Newsletter queries: issues (editors), previews, recipients, the public archive."""

from __future__ import annotations

from typing import Annotated

import strawberry

from mailer.sending import preview, sample_render
from schema import registry
from schema.newsletters.loaders import issue_by_id, template_by_id
from schema.newsletters.runtime import executor_for
from schema.newsletters.types import (
    ArchivedNewsletter,
    IssueStatusEnum,
    NewsletterFormat,
    NewsletterIssue,
    NewsletterTemplate,
    SubscriberAudienceEnum,
)
from schema.relay import After, Before, Connection, First, Last, connection, decode_id, page_request
from schema.subscribers.types import Subscriber
from services.newsletters import service
from services.newsletters.models import IssueStatus
from services.policy import authorize
from services.subscribers import service as subscribers
from services.subscribers.models import SubscriberAudience

IssueID = Annotated[strawberry.ID, strawberry.argument(description="ID of the issue.")]


def issue_pk(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "NewsletterIssue")


@strawberry.type(description="Confirmed subscribers of one audience a segment reaches.")
class AudienceCount:
    audience: SubscriberAudienceEnum = strawberry.field(description="The audience.")
    count: int = strawberry.field(description="How many.")


@strawberry.type(description="Who an issue would go to, before anything is sent.")
class RecipientPreview:
    total: int = strawberry.field(description="How many confirmed subscribers in all.")
    by_audience: list[AudienceCount] = strawberry.field(description="How many per audience.")
    sample: list[Subscriber] = strawberry.field(description="The first ones, by subscription.")


@registry.query
@strawberry.type
class NewsletterQueries:
    @strawberry.field(description="Newsletter issues, newest first (editors).")
    async def newsletter_issues(
        self,
        info: strawberry.Info,
        statuses: Annotated[
            list[IssueStatusEnum] | None, strawberry.argument(description="Only these states.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[NewsletterIssue]:
        ctx = info.context
        page = await service.list_issues(
            ctx.viewer,
            statuses=[s.value for s in statuses or ()],
            page=page_request(info, first, after, last, before),
        )
        return connection(page, lambda r: NewsletterIssue.from_model(r, ctx.settings))

    @strawberry.field(description="One issue (editors).")
    async def newsletter_issue(self, info: strawberry.Info, id: IssueID) -> NewsletterIssue:
        found = await service.get_issue(info.context.viewer, issue_pk(id))
        return NewsletterIssue.from_model(found, info.context.settings)

    @strawberry.field(
        description="The issue as it would be sent (composed as the public sees the platform "
        "on the issue's date), or as it was sent once sending started (frozen), personalised "
        "for a sample recipient (editors)."
    )
    async def newsletter_preview(
        self,
        info: strawberry.Info,
        id: IssueID,
        format: Annotated[
            NewsletterFormat, strawberry.argument(description="HTML or TEXT.")
        ] = NewsletterFormat.HTML,
    ) -> str:
        ctx = info.context
        issue = await service.get_issue(ctx.viewer, issue_pk(id))
        if issue.frozen_html is not None:
            html, text = sample_render(issue.frozen_html, issue.frozen_text or "", ctx.settings)
        else:
            composed = await preview(
                executor_for(info), issue, settings=ctx.settings, viewer=ctx.viewer
            )
            html, text = composed.html, composed.text
        return html if format is NewsletterFormat.HTML else text

    @strawberry.field(
        description="How many confirmed subscribers the issue's segment reaches, per "
        "audience, and the first of them (editors)."
    )
    async def newsletter_recipients(
        self,
        info: strawberry.Info,
        id: IssueID,
        first: Annotated[
            int, strawberry.argument(description="How many subscribers to list (≤ 100).")
        ] = 20,
    ) -> RecipientPreview:
        viewer = info.context.viewer
        authorize(viewer, "newsletter.recipients")
        issue = await service.get_issue(viewer, issue_pk(id))
        segment = service.segment_of(issue)
        counts = await subscribers.count_recipients(segment)
        sample = await subscribers.list_recipients(segment, limit=max(0, min(first, 100)))
        return RecipientPreview(
            total=sum(counts.values()),
            by_audience=[
                AudienceCount(audience=SubscriberAudience(a), count=n) for a, n in counts.items()
            ],
            sample=[Subscriber.from_model(s) for s in sample],
        )

    @strawberry.field(description="Sent issues, newest first: the public archive.")
    async def newsletter_archive(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ArchivedNewsletter]:
        settings = info.context.settings
        page = await service.list_archive(page=page_request(info, first, after, last, before))
        return connection(page, lambda r: ArchivedNewsletter.from_model(r, settings))


registry.other_node_type(
    NewsletterIssue,
    issue_by_id,
    convert=lambda ctx, row: NewsletterIssue.from_model(row, ctx.settings),
)
registry.other_node_type(NewsletterTemplate, template_by_id)

__all__ = ["IssueStatus", "NewsletterQueries"]
