"""The GraphQL types of webhooks: endpoints, their deliveries, the event types."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.enums import mirror
from schema.relay import Node
from schema.webhooks import loaders
from services.webhooks.models import DeliveryStatus
from services.webhooks.models import WebhookDelivery as DeliveryModel
from services.webhooks.models import WebhookEndpoint as EndpointModel

if TYPE_CHECKING:
    from schema.organizations.types import Organization

WebhookDeliveryStatusEnum = mirror(DeliveryStatus, "State of one webhook delivery.")


@strawberry.type(description="An event type an endpoint may follow (docs/webhooks.md).")
class WebhookEventType:
    name: str = strawberry.field(description="e.g. `resource.published`.")
    description: str = strawberry.field(description="When it is sent.")


@strawberry.type(
    description="A URL of a partner site that receives signed webhooks (Standard Webhooks) "
    "for the events it follows. Its secret is shown only when made (creation, rotation)."
)
class WebhookEndpoint(Node):
    url: str = strawberry.field(description="Where deliveries are POSTed (http or https).")
    description: str = strawberry.field(description="What it is for.")
    events: list[str] = strawberry.field(description="Event types it receives.")
    enabled: bool = strawberry.field(
        description="False once disabled (by its owner, after 24 h of failures, or a 410)."
    )
    disabled_at: dt.datetime | None = strawberry.field(
        description="When the platform disabled it; null when enabled or disabled by hand."
    )
    disabled_reason: str | None = strawberry.field(description="Why it is disabled.")
    failing_since: dt.datetime | None = strawberry.field(
        description="First failure since the last success; null while deliveries succeed."
    )
    last_success_at: dt.datetime | None = strawberry.field(description="Last 2xx answer.")
    previous_secret_expires_at: dt.datetime | None = strawberry.field(
        description="After a rotation, until when the previous secret still signs beside "
        "the new one."
    )
    created_at: dt.datetime = strawberry.field(description="When it was registered.")
    organization_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, m: EndpointModel) -> WebhookEndpoint:
        return cls(
            pk=m.id,
            url=m.url,
            description=m.description,
            events=list(m.events or []),
            enabled=m.enabled,
            disabled_at=m.disabled_at,
            disabled_reason=m.disabled_reason,
            failing_since=m.failing_since,
            last_success_at=m.last_success_at,
            previous_secret_expires_at=m.previous_secret_until,
            created_at=m.created_at,
            organization_pk=m.organization_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The partner organisation it belongs to (null: the platform).")
    async def organization(
        self, info: strawberry.Info
    ) -> Annotated[Organization, strawberry.lazy("schema.organizations.types")] | None:
        from schema.organizations.loaders import organization_by_id
        from schema.organizations.types import Organization

        if self.organization_pk is None:
            return None
        found = await organization_by_id(info.context).load(self.organization_pk)
        return Organization.from_model(found) if found else None


@strawberry.type(description="One event sent (or to be sent) to one endpoint, and its attempts.")
class WebhookDelivery(Node):
    status: WebhookDeliveryStatusEnum = strawberry.field(description="Where it stands.")
    attempts: int = strawberry.field(description="Attempts made so far.")
    next_attempt_at: dt.datetime | None = strawberry.field(
        description="When it is tried next (pending only)."
    )
    last_attempt_at: dt.datetime | None = strawberry.field(description="Last attempt.")
    delivered_at: dt.datetime | None = strawberry.field(description="When a 2xx came back.")
    response_code: int | None = strawberry.field(
        description="HTTP status of the last answer; null when none came (timeout, refused)."
    )
    response_body: str | None = strawberry.field(
        description="The last answer's body, cut at 1,000 characters."
    )
    last_error: str | None = strawberry.field(description="Why the last attempt failed.")
    created_at: dt.datetime = strawberry.field(description="When the event was queued.")
    event_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, m: DeliveryModel) -> WebhookDelivery:
        pending = m.status is DeliveryStatus.PENDING
        return cls(
            pk=m.id,
            status=m.status,
            attempts=m.attempts,
            next_attempt_at=m.next_attempt_at if pending else None,
            last_attempt_at=m.last_attempt_at,
            delivered_at=m.delivered_at,
            response_code=m.response_code,
            response_body=m.response_body,
            last_error=m.last_error,
            created_at=m.created_at,
            event_pk=m.event_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The `webhook-id` header: the receivers' idempotency key.")
    async def webhook_id(self, info: strawberry.Info) -> str:
        return (await loaders.webhook_event_by_id(info.context).load(self.event_pk)).uid

    @strawberry.field(description="Event type, e.g. `theme.next_changed`.")
    async def event_type(self, info: strawberry.Info) -> str:
        return (await loaders.webhook_event_by_id(info.context).load(self.event_pk)).type

    @strawberry.field(description="The body as sent (JSON text, signed as is).")
    async def payload(self, info: strawberry.Info) -> str:
        return (await loaders.webhook_event_by_id(info.context).load(self.event_pk)).body
