"""Webhook endpoints, the events recorded for them and one delivery per (event, endpoint).

Events and deliveries are written in the transaction of the change they describe
(:mod:`services.webhooks.events`), so a committed change always has its deliveries and a
rolled-back one never does. The sender claims deliveries with a lease; a delivery whose
sender died is claimed again once the lease has expired, with the same ``webhook-id``.
"""

from __future__ import annotations

import enum

from tortoise import fields

from services.compat_tortoise import ModelWithoutComments
from services.content import TimestampedModel


class DeliveryStatus(str, enum.Enum):
    PENDING = "PENDING"
    """Waiting for its first attempt, or for its next one after a failure."""
    SENDING = "SENDING"
    """Claimed by a sender until ``lease_until``."""
    DELIVERED = "DELIVERED"
    """The endpoint answered 2xx."""
    FAILED = "FAILED"
    """Given up: every attempt failed during the retry window, or the endpoint said 410."""


class WebhookEndpoint(TimestampedModel):
    """A URL of a partner site (or of the platform's team) and the events it wants."""

    organization: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Organization", related_name="webhook_endpoints", null=True, on_delete=fields.CASCADE
    )
    created_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Account", related_name="webhook_endpoints", null=True, on_delete=fields.SET_NULL
    )
    url = fields.CharField(max_length=2000)
    description = fields.CharField(max_length=200, default="")
    # Event types it receives (``resource.published``…): a JSON list.
    events = fields.JSONField(default=list)
    # ``whsec_`` + base64 of 32 random bytes: it signs every delivery, so it is kept.
    secret = fields.CharField(max_length=100)
    # The secret before the last rotation, still signing beside the new one until then.
    previous_secret = fields.CharField(max_length=100, null=True)
    previous_secret_until = fields.DatetimeField(null=True)
    enabled = fields.BooleanField(default=True)
    disabled_at = fields.DatetimeField(null=True)
    disabled_reason = fields.CharField(max_length=500, null=True)
    # The first failure since the last success; None while deliveries succeed.
    failing_since = fields.DatetimeField(null=True)
    last_success_at = fields.DatetimeField(null=True)
    # Set once the owner was told the endpoint was disabled (the notice is sent by the
    # worker, from the database: a crash between disabling and mailing loses nothing).
    disabled_notice_sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_endpoint"


class WebhookEvent(ModelWithoutComments):
    """Something partner sites may want to know, as sent (the body is frozen)."""

    id = fields.BigIntField(primary_key=True)
    # The ``webhook-id`` of every delivery of the event: the receivers' idempotency key.
    uid = fields.CharField(max_length=40, unique=True)
    type = fields.CharField(max_length=60)
    # What the event is about (``Resource:12``, ``theme.next``): deliveries of one subject
    # to one endpoint go out in the order of their events.
    subject = fields.CharField(max_length=80)
    body = fields.TextField()
    occurred_at = fields.DatetimeField()

    class Meta:
        table = "webhook_event"
        indexes = (("type", "id"),)


class WebhookDelivery(ModelWithoutComments):
    """One event to one endpoint: its state and the last attempt's outcome."""

    id = fields.BigIntField(primary_key=True)
    event: fields.ForeignKeyRelation[WebhookEvent] = fields.ForeignKeyField(
        "models.WebhookEvent", related_name="deliveries", on_delete=fields.CASCADE
    )
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    subject = fields.CharField(max_length=80)
    status = fields.CharEnumField(DeliveryStatus, max_length=12, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    # Not before: a scheduled publication is announced when it takes effect.
    next_attempt_at = fields.DatetimeField()
    # When the first attempt was due: the retry window starts there.
    due_at = fields.DatetimeField()
    lease_until = fields.DatetimeField(null=True)
    response_code = fields.IntField(null=True)
    response_body = fields.TextField(null=True)
    last_error = fields.TextField(null=True)
    last_attempt_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "webhook_delivery"
        indexes = (("status", "next_attempt_at"), ("endpoint_id", "subject", "id"))
