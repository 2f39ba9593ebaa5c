"""Webhook mutations: partners manage their organisation's endpoints, administrators all."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.payloads import DeletePayload, UserError, payload_mutation
from schema.relay import decode_id
from schema.webhooks.types import WebhookEndpoint
from services.webhooks import endpoints

EndpointID = Annotated[strawberry.ID, strawberry.argument(description="ID of the endpoint.")]
_ERRORS = "What was refused, one entry per problem; empty on success."


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


@strawberry.type(description="Result of a mutation: the endpoint and its new secret.")
class WebhookEndpointSecretPayload:
    __payload_field__ = "endpoint"
    endpoint: WebhookEndpoint | None = strawberry.field(
        default=None, description="The endpoint; null when refused."
    )
    secret: str | None = strawberry.field(
        default=None,
        description="`whsec_` + base64 of 32 random bytes, shown this once: the receiver "
        "verifies every delivery with it. Null when refused.",
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description=_ERRORS)


@strawberry.type(description="Result of a mutation: the endpoint as changed.")
class WebhookEndpointPayload:
    __payload_field__ = "endpoint"
    endpoint: WebhookEndpoint | None = strawberry.field(
        default=None, description="The endpoint as changed; null when refused."
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description=_ERRORS)


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
    @payload_mutation(
        WebhookEndpointSecretPayload,
        description="Register a webhook endpoint; returns its secret, once.",
    )
    async def create_webhook_endpoint(
        self,
        info: strawberry.Info,
        input: Annotated[
            WebhookEndpointCreateInput, strawberry.argument(description="Its fields.")
        ],
    ) -> WebhookEndpointSecretPayload:
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
            allow_private=ctx.settings.webhooks.webhooks_allow_private,
        )
        return WebhookEndpointSecretPayload(endpoint=WebhookEndpoint.from_model(row), secret=secret)

    @payload_mutation(
        WebhookEndpointPayload,
        description="Change a webhook endpoint (URL, events, description, state).",
    )
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
            allow_private=ctx.settings.webhooks.webhooks_allow_private,
        )
        return WebhookEndpoint.from_model(row)

    @payload_mutation(DeletePayload, description="Remove a webhook endpoint and its delivery log.")
    async def delete_webhook_endpoint(self, info: strawberry.Info, id: EndpointID) -> strawberry.ID:
        await endpoints.delete_endpoint(info.context.viewer, decode_id(id, "WebhookEndpoint"))
        return id

    @payload_mutation(
        WebhookEndpointSecretPayload,
        description="Give an endpoint a new secret, shown once; the previous one keeps "
        "signing beside it for 24 hours so that the receiver can switch without loss.",
    )
    async def rotate_webhook_secret(
        self, info: strawberry.Info, id: EndpointID
    ) -> WebhookEndpointSecretPayload:
        row, secret = await endpoints.rotate_secret(
            info.context.viewer, decode_id(id, "WebhookEndpoint")
        )
        return WebhookEndpointSecretPayload(endpoint=WebhookEndpoint.from_model(row), secret=secret)
