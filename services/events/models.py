"""Events of the agenda: webinars, trainings, conferences, afterworks, in a city or online."""

from __future__ import annotations

import enum

from tortoise import fields

from services.content import ContentModel, TimestampedModel

EVENT_TIMEZONE = "Europe/Paris"


class EventFormat(str, enum.Enum):
    WEBINAR = "WEBINAR"
    TRAINING = "TRAINING"
    CONFERENCE = "CONFERENCE"
    AFTERWORK = "AFTERWORK"
    FESTIVAL = "FESTIVAL"
    MEETING = "MEETING"
    FAIR = "FAIR"
    OTHER = "OTHER"


class Event(ContentModel):
    title = fields.CharField(max_length=300)
    summary = fields.TextField(default="")
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    all_day = fields.BooleanField(default=False)
    city = fields.CharField(max_length=120, null=True)
    online = fields.BooleanField(default=False)
    format = fields.CharEnumField(EventFormat, max_length=16, default=EventFormat.OTHER)
    registration_url = fields.CharField(max_length=1000, null=True)

    class Meta:
        table = "event"
        indexes = (("status", "starts_at"),)


class EventOrganizer(TimestampedModel):
    event = fields.ForeignKeyField(
        "models.Event", related_name="organizer_links", on_delete=fields.CASCADE
    )
    organization = fields.ForeignKeyField(
        "models.Organization", related_name="event_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "event_organizer"
        unique_together = (("event", "organization"),)


class EventTheme(TimestampedModel):
    event = fields.ForeignKeyField(
        "models.Event", related_name="theme_links", on_delete=fields.CASCADE
    )
    theme = fields.ForeignKeyField(
        "models.Theme", related_name="event_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "event_theme"
        unique_together = (("event", "theme"),)


class EventTerritory(TimestampedModel):
    event = fields.ForeignKeyField(
        "models.Event", related_name="territory_links", on_delete=fields.CASCADE
    )
    territory = fields.ForeignKeyField(
        "models.Territory", related_name="event_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "event_territory"
        unique_together = (("event", "territory"),)
