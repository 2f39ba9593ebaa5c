"""The concept of the month as a content type: its fields, declared once."""

from __future__ import annotations

import datetime as dt

from services.concepts.demo import load_demo_concept
from services.concepts.models import Concept, ConceptOrganization
from services.fields import Field, Fields, Link, links_field, slug_field
from services.organizations.models import Organization
from services.registry import ContentType, Demo, register
from services.validation import SUMMARY_MAX, first_of_month, optional_text, rich_text, text

CONCEPT_TITLE_MAX = 200  # the column's size
FURTHER_READING_MAX = 300

CONCEPT = register(
    ContentType(
        name="Concept",
        model=Concept,
        label="Concept",
        definite="le concept",
        entity="concept",
        demo=Demo("concepts", load_demo_concept, after=("Organization",)),
        publishable=True,
        fields=Fields(
            Field("title", str, "Title (≤ 200).", required=True, clean=text(CONCEPT_TITLE_MAX)),
            slug_field(),
            Field(
                "summary",
                str,
                "Plain-text opening lines (≤ 2,000).",
                clean=text(SUMMARY_MAX, required=False),
            ),
            Field(
                "body",
                str,
                "Full text as HTML (≤ 100,000); sanitised with an allow-list.",
                clean=rich_text(),
            ),
            Field(
                "month",
                dt.date,
                "Month it is the concept of the month (stored as the 1st); null removes it.",
                nullable=True,
                clean=first_of_month,
            ),
            Field(
                "further_reading",
                str,
                "« Pour aller plus loin » hint, plain text (≤ 300); null removes it.",
                nullable=True,
                clean=optional_text(FURTHER_READING_MAX),
            ),
            links_field(
                "organizations",
                "IDs of the organisations that wrote it",
                target=Organization,
                link=Link(ConceptOrganization, "concept_id", "organization_id"),
            ),
        ),
    )
)
