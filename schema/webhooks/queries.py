"""Webhook queries: endpoints (partners: their organisation's), delivery logs, event types."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    connection,
    decode_id,
    page_request,
)
from schema.webhooks.loaders import readable_delivery_by_id, readable_endpoint_by_id
from schema.webhooks.types import (
    WebhookDelivery,
    WebhookDeliveryStatusEnum,
    WebhookEndpoint,
    WebhookEventType,
)
from services.policy import authorize
from services.webhooks import endpoints
from services.webhooks.events import event_types


@registry.query
@strawberry.type
class WebhookQueries:
    @strawberry.field(
        description="Webhook endpoints, oldest first: a partner's organisation's; every one "
        "for editors."
    )
    async def webhook_endpoints(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[WebhookEndpoint]:
        ctx = info.context
        page = await endpoints.list_endpoints(
            ctx.viewer, page=page_request(info, first, after, last, before)
        )
        return connection(page, WebhookEndpoint.from_model)

    @strawberry.field(
        description="The delivery log of an endpoint, newest first (editors, and the "
        "endpoint's organisation)."
    )
    async def webhook_deliveries(
        self,
        info: strawberry.Info,
        endpoint: Annotated[strawberry.ID, strawberry.argument(description="The endpoint.")],
        statuses: Annotated[
            list[WebhookDeliveryStatusEnum] | None,
            strawberry.argument(description="Only deliveries in these states."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[WebhookDelivery]:
        ctx = info.context
        page = await endpoints.list_deliveries(
            ctx.viewer,
            decode_id(endpoint, "WebhookEndpoint", "endpoint"),
            statuses=statuses or (),
            page=page_request(info, first, after, last, before),
        )
        return connection(page, WebhookDelivery.from_model)

    @strawberry.field(description="The event types an endpoint may follow.")
    def webhook_event_types(self, info: strawberry.Info) -> list[WebhookEventType]:
        authorize(info.context.viewer, "webhook.read")
        return [
            WebhookEventType(name=e.name, description=e.description) for e in event_types().values()
        ]


registry.other_node_type(WebhookEndpoint, readable_endpoint_by_id)
registry.other_node_type(WebhookDelivery, readable_delivery_by_id)
