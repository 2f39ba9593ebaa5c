"""Subscriber mutations: subscribe (anyone), the links' actions (signed token), and
editors' export and erasure on a subscriber's behalf."""

from __future__ import annotations

import logging
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from mailer.sending import send_confirmation
from mailer.transport import DeliveryError
from schema import registry
from schema.newsletters.runtime import transport_for
from schema.newsletters.types import SubscriberAudienceEnum
from schema.payloads import DeletePayload, object_payload, payload_mutation
from schema.relay import decode_id, decode_ids
from schema.subscribers.queries import Token
from schema.subscribers.types import MySubscription
from services.policy import authorize
from services.subscribers import service
from services.subscribers.models import SubscriberAudience
from services.subscribers.signing import signing_keys

logger = logging.getLogger("tec.subscribers")

SubscriberID = Annotated[strawberry.ID, strawberry.argument(description="ID of the subscriber.")]
_NEXT = (
    "Merci ! Si cette adresse n'était pas encore abonnée, un e-mail de confirmation vient de "
    "lui être envoyé : l'abonnement commence quand le lien qu'il contient est ouvert."
)  # the same whatever the address's state, throttled or not

SubscribePayload = object_payload(
    "SubscribePayload",
    "message",
    str,
    "What happens next (the same whether the address was known or not).",
)
MySubscriptionPayload = object_payload(
    "MySubscriptionPayload", "subscription", MySubscription, "The subscription, as it is now."
)
SubscriberDataPayload = object_payload(
    "SubscriberDataPayload", "data", JSON, "Everything kept about the subscriber, as JSON."
)
ErasePayload = object_payload(
    "ErasePayload", "erased", bool, "True: the subscription and its history are erased."
)


@strawberry.input(description="A subscription request.")
class SubscribeInput:
    email: str = strawberry.field(description="E-mail address.")
    name: str = strawberry.field(default="", description="Name (optional; used to greet).")
    audience: SubscriberAudienceEnum = strawberry.field(
        default=SubscriberAudience.CITIZEN, description="Who you are."
    )
    themes: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Themes followed (IDs)."
    )
    source: str = strawberry.field(
        default="", description="Where the form is (page, partner site): proof of consent."
    )
    consent_wording_version: str | None = strawberry.field(
        default=None,
        description="Version of the consent wording the form showed "
        "(TEC_CONSENT_WORDING_VERSION when omitted).",
    )


@strawberry.input(description="Preferences of a subscription; omitted fields stay as they are.")
class PreferencesInput:
    name: str | None = strawberry.field(default=None, description="Name.")
    audience: SubscriberAudienceEnum | None = strawberry.field(
        default=None, description="Who you are."
    )
    themes: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Themes followed (replaces the list)."
    )


async def _mine(info: strawberry.Info, row: service.Subscriber) -> MySubscription:
    themes = await service.get_theme_ids([row.id])
    return MySubscription.from_model(row, themes.get(row.id, []))


@registry.mutation
@strawberry.type
class SubscriberMutations:
    @payload_mutation(
        SubscribePayload,
        description="Subscribe to the newsletter (no account needed): a confirmation e-mail "
        "with a link valid 7 days is sent; nothing is received, and nothing known about the "
        "address changes, before it is confirmed. The answer is the same for every address.",
    )
    async def subscribe(
        self,
        info: strawberry.Info,
        input: Annotated[SubscribeInput, strawberry.argument(description="The request.")],
    ) -> str:
        ctx = info.context
        authorize(ctx.viewer, "subscriber.subscribe")
        result = await service.subscribe(
            input.email,
            consent=service.Consent(
                ip=ctx.client_ip,
                source=input.source,
                wording_version=input.consent_wording_version
                or ctx.settings.newsletters.consent_wording_version,
            ),
            name=input.name,
            audience=input.audience,
            theme_ids=decode_ids(input.themes, "Theme", "themes"),
            throttle=service.ConfirmationThrottle.of(ctx.settings),
        )
        if result.subscriber is not None and result.request is not None:
            transport = transport_for(ctx)
            try:
                await send_confirmation(
                    result.subscriber, result.request, settings=ctx.settings, transport=transport
                )
            except DeliveryError as error:
                # The request is recorded; asking again later (throttle) sends a new link.
                logger.warning("confirmation e-mail not sent: %s", error)
            finally:
                await transport.close()
        return _NEXT

    @payload_mutation(
        MySubscriptionPayload,
        description="Confirm with the token of the confirmation link: the request's details "
        "apply and the subscription starts.",
    )
    async def confirm_subscription(self, info: strawberry.Info, token: Token) -> MySubscription:
        found = await service.confirm_subscription(
            signing_keys(info.context.settings), token, ip=info.context.client_ip
        )
        return await _mine(info, found)

    @payload_mutation(
        MySubscriptionPayload, description="Unsubscribe with the link of any e-mail (idempotent)."
    )
    async def unsubscribe(self, info: strawberry.Info, token: Token) -> MySubscription:
        found = await service.unsubscribe(signing_keys(info.context.settings), token)
        return await _mine(info, found)

    @payload_mutation(
        MySubscriptionPayload, description="Change your preferences with the link of an e-mail."
    )
    async def update_subscription_preferences(
        self,
        info: strawberry.Info,
        token: Token,
        input: Annotated[PreferencesInput, strawberry.argument(description="Changes.")],
    ) -> MySubscription:
        found = await service.update_preferences(
            signing_keys(info.context.settings),
            token,
            audience=input.audience,
            theme_ids=decode_ids(input.themes, "Theme", "themes")
            if input.themes is not None
            else None,
            name=input.name,
        )
        return await _mine(info, found)

    @payload_mutation(
        SubscriberDataPayload, description="Everything kept about you, as JSON (link of an e-mail)."
    )
    async def export_my_subscription_data(self, info: strawberry.Info, token: Token) -> JSON:
        return await service.export_own_data(signing_keys(info.context.settings), token)

    @payload_mutation(ErasePayload, description="Erase your subscription and its history for good.")
    async def erase_my_subscription_data(self, info: strawberry.Info, token: Token) -> bool:
        await service.erase_own_data(signing_keys(info.context.settings), token)
        return True

    @payload_mutation(
        SubscriberDataPayload, description="A subscriber's data as JSON, on their behalf (editors)."
    )
    async def export_subscriber(self, info: strawberry.Info, id: SubscriberID) -> JSON:
        return await service.export_subscriber(info.context.viewer, decode_id(id, "Subscriber"))

    @payload_mutation(
        DeletePayload, description="Erase a subscriber for good, on their behalf (editors)."
    )
    async def erase_subscriber(self, info: strawberry.Info, id: SubscriberID) -> strawberry.ID:
        await service.erase_subscriber(info.context.viewer, decode_id(id, "Subscriber"))
        return id
