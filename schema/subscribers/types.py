"""GraphQL types of subscribers. The e-mail address is readable by editors only."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.directives import VIEWER_DEPENDENT
from schema.newsletters.types import SubscriberAudienceEnum, SubscriberStatusEnum
from schema.relay import Node, to_global_id
from services.policy import is_allowed
from services.subscribers import models


@strawberry.type(description="A newsletter subscriber (editors).")
class Subscriber(Node):
    email_address: strawberry.Private[str]
    name: str = strawberry.field(description="Name given when subscribing (may be empty).")
    status: SubscriberStatusEnum = strawberry.field(description="Where the subscriber stands.")
    audience: SubscriberAudienceEnum = strawberry.field(description="Who they are.")
    consent_at: dt.datetime = strawberry.field(description="Proof of consent: when.")
    consent_source: str = strawberry.field(description="Proof of consent: where (form, page).")
    consent_wording_version: str = strawberry.field(
        description="Proof of consent: version of the wording shown."
    )
    confirmed_at: dt.datetime | None = strawberry.field(
        description="When the confirmation link was followed."
    )
    created_at: dt.datetime = strawberry.field(description="First subscription.")

    @strawberry.field(
        description="E-mail address (editors only; null for anyone else).",
        directives=[VIEWER_DEPENDENT],
    )
    def email(self, info: strawberry.Info) -> str | None:
        if is_allowed(info.context.viewer, "subscriber.read"):
            return self.email_address
        return None

    @classmethod
    def from_model(cls, row: models.Subscriber) -> Subscriber:
        return cls(
            pk=row.id,
            email_address=row.email,
            name=row.name,
            status=row.status,
            audience=row.audience,
            consent_at=row.consent_at,
            consent_source=row.consent_source,
            consent_wording_version=row.consent_wording_version,
            confirmed_at=row.confirmed_at,
            created_at=row.created_at,
        )


@strawberry.type(description="Your subscription, as the link of an e-mail shows it.")
class MySubscription:
    email: str = strawberry.field(description="Your address.")
    name: str = strawberry.field(description="Your name.")
    status: SubscriberStatusEnum = strawberry.field(description="Where you stand.")
    audience: SubscriberAudienceEnum = strawberry.field(description="Who you are.")
    themes: list[strawberry.ID] = strawberry.field(description="IDs of the themes you follow.")

    @classmethod
    def from_model(cls, row: models.Subscriber, theme_ids: list[int]) -> MySubscription:
        return cls(
            email=row.email,
            name=row.name,
            status=row.status,
            audience=row.audience,
            themes=[strawberry.ID(to_global_id("Theme", t)) for t in theme_ids],
        )
