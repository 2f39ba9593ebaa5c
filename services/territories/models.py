"""Territories: the local authorities (communes, EPCI, départements, régions, métropoles)."""

from __future__ import annotations

import enum

from tortoise import fields

from services.content import TimestampedModel


class TerritoryLevel(str, enum.Enum):
    COMMUNE = "COMMUNE"
    EPCI = "EPCI"
    DEPARTEMENT = "DEPARTEMENT"
    REGION = "REGION"
    METROPOLE = "METROPOLE"


class Territory(TimestampedModel):
    slug = fields.CharField(max_length=120, unique=True)
    name = fields.CharField(max_length=200)
    level = fields.CharEnumField(TerritoryLevel, max_length=16)
    insee_code = fields.CharField(max_length=10, null=True, unique=True)

    class Meta:
        table = "territory"
