"""Subscribers of the newsletter (no account needed) and the themes they follow."""

from __future__ import annotations

import enum

from tortoise import fields

from services.content import TimestampedModel


class SubscriberStatus(str, enum.Enum):
    """Where a subscriber stands: only ``CONFIRMED`` ones receive issues."""

    PENDING = "PENDING"  # subscribed, confirmation link not followed yet
    CONFIRMED = "CONFIRMED"
    UNSUBSCRIBED = "UNSUBSCRIBED"
    BOUNCED = "BOUNCED"  # the address was refused permanently: never sent to again


class SubscriberAudience(str, enum.Enum):
    """Who the subscriber is, for segments."""

    LOCAL_AUTHORITY = "LOCAL_AUTHORITY"
    PARTNER = "PARTNER"
    CITIZEN = "CITIZEN"


class Subscriber(TimestampedModel):
    """One e-mail address. Proof of consent: when, from which IP, through which source,
    and which version of the consent wording was shown."""

    email = fields.CharField(max_length=254, unique=True)  # lower-cased
    name = fields.CharField(max_length=200, default="")
    status = fields.CharEnumField(SubscriberStatus, max_length=16, default=SubscriberStatus.PENDING)
    audience = fields.CharEnumField(
        SubscriberAudience, max_length=20, default=SubscriberAudience.CITIZEN
    )
    consent_at = fields.DatetimeField()
    consent_ip = fields.CharField(max_length=45, default="")
    consent_source = fields.CharField(max_length=200, default="")
    consent_wording_version = fields.CharField(max_length=40)
    confirmed_at = fields.DatetimeField(null=True)
    confirmed_ip = fields.CharField(max_length=45, null=True)
    unsubscribed_at = fields.DatetimeField(null=True)
    bounced_at = fields.DatetimeField(null=True)
    bounce_reason = fields.CharField(max_length=500, null=True)
    # Bumped by unsubscribing and by confirming a request: links signed before stop working.
    link_generation = fields.IntField(default=1)

    class Meta:
        table = "subscriber"
        indexes = (("status", "audience"),)


class SubscriptionRequest(TimestampedModel):
    """One request to subscribe an address, kept apart from the subscriber until its own
    confirmation link is followed: only then do its name, audience, themes and proof of
    consent replace the subscriber's. Each request is one confirmation e-mail (the per
    address throttle counts them)."""

    subscriber: fields.ForeignKeyRelation[Subscriber] = fields.ForeignKeyField(
        "models.Subscriber", related_name="requests", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200, default="")
    audience = fields.CharEnumField(
        SubscriberAudience, max_length=20, default=SubscriberAudience.CITIZEN
    )
    theme_ids = fields.JSONField(default=list)
    consent_at = fields.DatetimeField()  # when the request was made
    consent_ip = fields.CharField(max_length=45, default="")
    consent_source = fields.CharField(max_length=200, default="")
    consent_wording_version = fields.CharField(max_length=40)
    # The subscriber's generation when the request was made: confirming needs it unchanged.
    link_generation = fields.IntField()
    confirmed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "subscription_request"
        indexes = (("subscriber_id", "consent_at"), ("consent_at",))


class SubscriberTheme(TimestampedModel):
    """A theme a subscriber follows (preferences)."""

    subscriber: fields.ForeignKeyRelation[Subscriber] = fields.ForeignKeyField(
        "models.Subscriber", related_name="theme_links", on_delete=fields.CASCADE
    )
    theme: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Theme", related_name="subscriber_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "subscriber_theme"
        unique_together = (("subscriber", "theme"),)
