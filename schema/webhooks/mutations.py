"""Webhook mutations: partners manage their organisation's endpoints, administrators all."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.relay import Deleted, decode_id
from schema.webhooks.types import WebhookEndpoint, WebhookEndpointSecret
from services.webhooks import endpoints

EndpointID = Annotated[strawberry.ID, strawberry.argument(description="ID of the endpoint.")]


@strawberry.input(description="A new webhook endpoint.")
class WebhookEndpointCreateInput:
    url: str = strawberry.field(
        description="http(s) URL of the receiver; public addresses only (no loopback, "
        "private or link-local address)."
    )
    events: list[str] = strawberry.field(
        description="Event types to receive (`webhookEventTypes`), at least one."
    )
    description: str | None = strawberry.field(default=None, description="What it is for.")
    organization: strawberry.ID | None = strawberry.field(
        default=None,
        description="Organisation it belongs to (administrators; a partner's endpoints are "
        "always its own organisation's).",
    )


@strawberry.input(description="Changes to a webhook endpoint; omitted fields stay as they are.")
class WebhookEndpointUpdateInput:
    url: str | None = strawberry.field(default=None, description="New URL.")
    events: list[str] | None = strawberry.field(default=None, description="New event types.")
    description: str | None = strawberry.field(default=None, description="New description.")
    enabled: bool | None = strawberry.field(
        default=None,
        description="false stops deliveries (they wait); true starts them again, with a "
        "fresh failure count.",
    )


def _draft(
    given: WebhookEndpointCreateInput | WebhookEndpointUpdateInput,
) -> endpoints.EndpointDraft:
    return endpoints.EndpointDraft(
        url=given.url,
        events=given.events,
        description=given.description,
        enabled=getattr(given, "enabled", None),
    )


@registry.mutation
@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="Register a webhook endpoint; returns its secret, once.")
    async def create_webhook_endpoint(
        self,
        info: strawberry.Info,
        input: Annotated[
            WebhookEndpointCreateInput, strawberry.argument(description="Its fields.")
        ],
    ) -> WebhookEndpointSecret:
        ctx = info.context
        organization = (
            decode_id(input.organization, "Organization", "organization")
            if input.organization
            else None
        )
        row, secret = await endpoints.create_endpoint(
            ctx.viewer,
            _draft(input),
            organization_id=organization,
            allow_private=ctx.settings.webhooks_allow_private,
        )
        return WebhookEndpointSecret(endpoint=WebhookEndpoint.from_model(row), secret=secret)

    @strawberry.mutation(description="Change a webhook endpoint (URL, events, description, state).")
    async def update_webhook_endpoint(
        self,
        info: strawberry.Info,
        id: EndpointID,
        input: Annotated[
            WebhookEndpointUpdateInput, strawberry.argument(description="Fields to change.")
        ],
    ) -> WebhookEndpoint:
        ctx = info.context
        row = await endpoints.update_endpoint(
            ctx.viewer,
            decode_id(id, "WebhookEndpoint"),
            _draft(input),
            allow_private=ctx.settings.webhooks_allow_private,
        )
        return WebhookEndpoint.from_model(row)

    @strawberry.mutation(description="Remove a webhook endpoint and its delivery log.")
    async def delete_webhook_endpoint(self, info: strawberry.Info, id: EndpointID) -> Deleted:
        await endpoints.delete_endpoint(info.context.viewer, decode_id(id, "WebhookEndpoint"))
        return Deleted(id=id)

    @strawberry.mutation(
        description="Give an endpoint a new secret, shown once; the previous one keeps "
        "signing beside it for 24 hours so that the receiver can switch without loss."
    )
    async def rotate_webhook_secret(
        self, info: strawberry.Info, id: EndpointID
    ) -> WebhookEndpointSecret:
        row, secret = await endpoints.rotate_secret(
            info.context.viewer, decode_id(id, "WebhookEndpoint")
        )
        return WebhookEndpointSecret(endpoint=WebhookEndpoint.from_model(row), secret=secret)
