"""Event mutations: editors create, change and delete events."""

from __future__ import annotations

from schema.events.types import Event
from schema.writes import Descriptions, content_mutations
from services.events.content_type import EVENT

WRITES = content_mutations(
    EVENT,
    Event,
    Descriptions(
        a="an event",
        the="the event",
        create="Create an event as a draft (editors).",
        update="Change an event (editors).",
        delete="Delete an event for good (editors); archive it to keep it.",
    ),
)
EventCreateInput, EventUpdateInput = WRITES.create_input, WRITES.update_input
