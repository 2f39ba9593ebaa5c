"""GraphQL types of newsletters: issues, their items, compositions, recipient previews."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from schema.relay import Node, to_global_id
from schema.strawberry_compat import describe_enum_values
from services.newsletters import models
from services.newsletters.models import DeliveryStatus, IssueItem, IssueStatus, SectionKind
from services.newsletters.sections import Section
from services.settings import Settings
from services.subscribers.models import SubscriberAudience, SubscriberStatus


def described(source: type[enum.Enum], description: str, values: dict[str, str]) -> Any:
    """A domain enum exposed to GraphQL with a description on each value."""
    wrapped = strawberry.enum(source, description=description)
    describe_enum_values(wrapped, values.__getitem__)
    return wrapped


SectionKindEnum = described(
    SectionKind,
    "Kinds of section of a newsletter (their order in an issue is data: the template's, or "
    "the one editors chose).",
    {
        "VIEW_IN_BROWSER": "Voir dans le navigateur",
        "INTRODUCTION": "Introduction du numéro",
        "THEME_OF_THE_MONTH": "Thématique du mois",
        "INTRODUCTORY_RESOURCE": "En introduction : la ressource qui ouvre la thématique",
        "INSPIRING_PROJECTS": "Projets et expériences pour vous inspirer",
        "CONCEPT": "Le concept du mois",
        "NEXT_THEME": "Contribuez à la prochaine thématique",
        "VOTE": "Votez pour les thématiques (classement)",
        "SHARED_PROJECTS": "Projets partagés",
        "PARTNER_NEWS": "Actualités des partenaires",
        "AGENDA": "À vos agendas !",
        "FOOTER": "Pied de page : contact, licence, préférences, désabonnement",
    },
)
IssueStatusEnum = described(
    IssueStatus,
    "Life cycle of a newsletter issue.",
    {
        "DRAFT": "Brouillon",
        "SCHEDULED": "Programmé",
        "SENDING": "En cours d'envoi",
        "SENT": "Envoyé",
        "CANCELLED": "Annulé",
    },
)
SubscriberAudienceEnum = described(
    SubscriberAudience,
    "Who a subscriber is (segments).",
    {
        "LOCAL_AUTHORITY": "Collectivité territoriale",
        "PARTNER": "Partenaire",
        "CITIZEN": "Citoyen·ne",
    },
)
SubscriberStatusEnum = described(
    SubscriberStatus,
    "Where a subscriber stands; only CONFIRMED ones receive issues.",
    {
        "PENDING": "En attente de confirmation",
        "CONFIRMED": "Confirmé",
        "UNSUBSCRIBED": "Désabonné",
        "BOUNCED": "Adresse refusée définitivement",
    },
)


@strawberry.enum(description="Format of a newsletter preview.")
class NewsletterFormat(enum.Enum):
    HTML = strawberry.enum_value("HTML", description="Responsive HTML, CSS inlined.")
    TEXT = strawberry.enum_value("TEXT", description="Plain-text alternative.")


@strawberry.type(description="An editor's decision about an item of a section.")
class NewsletterItem:
    section: SectionKindEnum = strawberry.field(description="Section of the item.")
    item: strawberry.ID = strawberry.field(description="Global ID of the item (resource…).")
    position: int = strawberry.field(description="Order among the items placed by editors.")
    pinned: bool = strawberry.field(description="Pinned at the top of its section.")
    removed: bool = strawberry.field(description="Left out of its section.")
    call_to_action: str | None = strawberry.field(
        description="Wording of the item's link (null: the section's; empty: no link)."
    )

    @classmethod
    def from_model(cls, row: IssueItem) -> NewsletterItem:
        return cls(
            section=row.section,
            item=strawberry.ID(row.node_id),
            position=row.position,
            pinned=row.pinned,
            removed=row.removed,
            call_to_action=row.cta,
        )


@strawberry.type(
    description="A section of an issue, in its order: its wording (the issue's, or its "
    "template's where the issue leaves it) and whether it shows only the items editors placed."
)
class NewsletterSection:
    kind: SectionKindEnum = strawberry.field(description="Kind of section.")
    title: str | None = strawberry.field(description="Title (an h2), null when none.")
    body: str | None = strawberry.field(
        description="Text, paragraphs separated by a blank line; null when none."
    )
    call_to_action: str | None = strawberry.field(
        description="Wording of the section's call to action (« C'est ici ! »), null when none."
    )
    item_call_to_action: str | None = strawberry.field(
        description="Wording of each item's link (« En savoir plus »), null when none."
    )
    curated: bool = strawberry.field(
        description="Only the items editors placed: the template's query adds nothing."
    )

    @classmethod
    def of(cls, section: Section) -> NewsletterSection:
        return cls(
            kind=section.kind,
            title=section.title or None,
            body=section.body or None,
            call_to_action=section.cta or None,
            item_call_to_action=section.item_cta or None,
            curated=section.curated,
        )


@strawberry.type(description="Messages of an issue per state of the delivery queue.")
class DeliveryProgress:
    pending: int = strawberry.field(description="Waiting (or waiting for a retry).")
    sending: int = strawberry.field(description="Claimed by a sender right now.")
    sent: int = strawberry.field(description="Accepted by the SMTP server.")
    failed: int = strawberry.field(description="Refused for good, or out of attempts.")
    cancelled: int = strawberry.field(description="Not sent: issue cancelled or unsubscribed.")

    @classmethod
    def of(cls, counts: dict[str, int]) -> DeliveryProgress:
        return cls(**{s.value.lower(): counts.get(s.value, 0) for s in DeliveryStatus})


@strawberry.type(description="A newsletter issue (editors).")
class NewsletterIssue(Node):
    slug: str = strawberry.field(description="URL name of its web page.")
    number: int | None = strawberry.field(description="Issue number.")
    title: str = strawberry.field(description="Title.")
    subject: str = strawberry.field(description="Subject of the e-mail.")
    introduction: str = strawberry.field(description="Introduction written for this issue.")
    month: dt.date | None = strawberry.field(description="The month it is about (first day).")
    status: IssueStatusEnum = strawberry.field(description="Life cycle state.")
    variables: JSON = strawberry.field(
        description="Variables of the template's GraphQL document (theme, concept, period…)."
    )
    segment_audiences: list[SubscriberAudienceEnum] = strawberry.field(
        description="Audiences it goes to (all when empty)."
    )
    segment_themes: list[strawberry.ID] = strawberry.field(
        description="Only followers of these themes (everyone when empty)."
    )
    scheduled_at: dt.datetime | None = strawberry.field(description="When it will be sent.")
    frozen_at: dt.datetime | None = strawberry.field(
        description="When its content was composed for good (sending started)."
    )
    sent_at: dt.datetime | None = strawberry.field(description="When sending ended.")
    version: int = strawberry.field(description="Version: send it back with an update.")
    web_url: str | None = strawberry.field(
        description="Public web page (« voir dans le navigateur ») once sending started."
    )
    template: strawberry.ID | None = strawberry.field(
        description="Template used (null: the built-in default)."
    )
    template_pk: strawberry.Private[int | None] = None
    chosen_sections: strawberry.Private[Any] = None

    @strawberry.field(
        description="Its sections in order (those left out are not listed): the ones editors "
        "chose with setNewsletterSections, else the template's."
    )
    async def sections(self) -> list[NewsletterSection]:
        from mailer.compose import layout_of, template_of

        template = await template_of(self.template_pk)
        return [NewsletterSection.of(s) for s in layout_of(template, self.chosen_sections)]

    @strawberry.field(description="Editors' item decisions (added, pinned, removed, ordered).")
    async def items(self, info: strawberry.Info) -> list[NewsletterItem]:
        from services.newsletters.service import list_items

        loader = info.context.loader("NewsletterItemsByIssue", list_items, default=list)
        return [NewsletterItem.from_model(r) for r in await loader.load(self.pk)]

    @strawberry.field(description="Messages of this issue per state of the delivery queue.")
    async def progress(self) -> DeliveryProgress:
        from services.newsletters.queue import progress

        return DeliveryProgress.of(await progress(self.pk))

    @classmethod
    def from_model(cls, row: models.NewsletterIssue, settings: Settings) -> NewsletterIssue:
        return cls(
            pk=row.id,
            slug=row.slug,
            number=row.number,
            title=row.title,
            subject=row.subject,
            introduction=row.introduction,
            month=row.month,
            status=row.status,
            variables=row.variables,
            segment_audiences=[SubscriberAudience(a) for a in row.segment_audiences or []],
            segment_themes=[strawberry.ID(to_global_id("Theme", t)) for t in row.segment_themes],
            scheduled_at=row.scheduled_at,
            frozen_at=row.frozen_at,
            sent_at=row.sent_at,
            version=row.version,
            web_url=f"{settings.http.base_url}/newsletters/{row.slug}" if row.frozen_html else None,
            template=strawberry.ID(to_global_id("NewsletterTemplate", row.template_id))  # type: ignore[attr-defined]
            if row.template_id  # type: ignore[attr-defined]
            else None,
            template_pk=row.template_id,  # type: ignore[attr-defined]
            chosen_sections=row.sections,
        )


@strawberry.type(description="A sent issue in the public archive.")
class ArchivedNewsletter:
    slug: str = strawberry.field(description="URL name.")
    number: int | None = strawberry.field(description="Issue number.")
    title: str = strawberry.field(description="Title.")
    sent_at: dt.datetime | None = strawberry.field(description="When it was sent.")
    web_url: str = strawberry.field(description="Its public web page, as it was sent.")

    @classmethod
    def from_model(cls, row: models.NewsletterIssue, settings: Settings) -> ArchivedNewsletter:
        return cls(
            slug=row.slug,
            number=row.number,
            title=row.title,
            sent_at=row.sent_at,
            web_url=f"{settings.http.base_url}/newsletters/{row.slug}",
        )


@strawberry.type(description="Items of one section after the editors' decisions.")
class ComposedSection:
    kind: SectionKindEnum = strawberry.field(description="The section.")
    items: list[strawberry.ID] = strawberry.field(description="Global IDs, in order.")
    titles: list[str] = strawberry.field(description="Their titles, in the same order.")


@strawberry.type(description="An issue composed as of its date (not frozen): what would be sent.")
class ComposedNewsletter:
    subject: str = strawberry.field(description="Subject of the e-mail.")
    html: str = strawberry.field(
        description="HTML, personalised for a sample recipient (greeting and links)."
    )
    text: str = strawberry.field(description="Plain-text alternative.")
    sections: list[ComposedSection] = strawberry.field(description="Sections, in order.")


@strawberry.type(description="A test message sent.")
class TestSendReceipt:
    to: str = strawberry.field(description="Address it went to.")
    message_id: str = strawberry.field(description="Its Message-ID.")


@strawberry.type(description="A stored newsletter template.")
class NewsletterTemplate(Node):
    slug: str = strawberry.field(description="URL name.")
    name: str = strawberry.field(description="Name.")
    document: str = strawberry.field(description="GraphQL document it runs.")
    mjml: str = strawberry.field(description="MJML markup (Jinja) rendering the result.")
    text: str = strawberry.field(description="Plain-text template (Jinja); may be empty.")
    sections: JSON = strawberry.field(
        description="Its sections in their default order: kind, where the items are in the "
        "result (dotted path), how many the query may add, default wording."
    )

    @classmethod
    def from_model(cls, row: models.NewsletterTemplate) -> NewsletterTemplate:
        return cls(
            pk=row.id,
            slug=row.slug,
            name=row.name,
            document=row.document,
            mjml=row.mjml,
            text=row.text,
            sections=row.sections,
        )
