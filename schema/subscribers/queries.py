"""Subscriber queries: the list (editors) and one's own subscription (signed link)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.newsletters.types import SubscriberStatusEnum
from schema.relay import After, Before, Connection, First, Last, connection, decode_id, page_request
from schema.subscribers.loaders import subscriber_by_id
from schema.subscribers.types import MySubscription, Subscriber
from services.subscribers import service
from services.subscribers.signing import signing_keys

Token = Annotated[str, strawberry.argument(description="Token of the link of an e-mail.")]


@registry.query
@strawberry.type
class SubscriberQueries:
    @strawberry.field(description="Newsletter subscribers, newest first (editors).")
    async def subscribers(
        self,
        info: strawberry.Info,
        statuses: Annotated[
            list[SubscriberStatusEnum] | None,
            strawberry.argument(description="Only these states."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Subscriber]:
        ctx = info.context
        page = await service.list_subscribers(
            ctx.viewer,
            statuses=[s.value for s in statuses or ()],
            page=page_request(info, first, after, last, before),
        )
        return connection(page, Subscriber.from_model)

    @strawberry.field(description="One subscriber (editors).")
    async def subscriber(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="ID of the subscriber.")],
    ) -> Subscriber:
        found = await service.get_subscriber(info.context.viewer, decode_id(id, "Subscriber"))
        return Subscriber.from_model(found)

    @strawberry.field(description="Your subscription, from the token of an e-mail's link.")
    async def my_subscription(self, info: strawberry.Info, token: Token) -> MySubscription:
        found = await service.get_subscriber_by_token(signing_keys(info.context.settings), token)
        themes = await service.get_theme_ids([found.id])
        return MySubscription.from_model(found, themes.get(found.id, []))


registry.other_node_type(Subscriber, subscriber_by_id)
