"""GraphQL types of search: results, hits, facets, filters, the index status."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

import strawberry

from schema.concepts.types import Concept
from schema.events.types import Event, EventFormatEnum
from schema.organizations.types import Organization
from schema.projects.types import SharedProject
from schema.relay import PageInfo, decode_ids
from schema.resources.types import AudienceEnum, Resource, ResourceKindEnum
from schema.themes.types import Theme
from search import port


@strawberry.enum(description="What a search hit is.")
class SearchType(enum.Enum):
    RESOURCE = strawberry.enum_value("resource", description="A resource (« Ressource »).")
    EVENT = strawberry.enum_value("event", description="An event of the agenda (« Événement »).")
    THEME = strawberry.enum_value("theme", description="A theme (« Thématique »).")
    CONCEPT = strawberry.enum_value("concept", description="A concept of the month.")
    SHARED_PROJECT = strawberry.enum_value(
        "project", description="A shared project (« Projet partagé »)."
    )
    ORGANIZATION = strawberry.enum_value("organization", description="An organisation.")


@strawberry.enum(description="Facets whose value counts a search can return.")
class SearchFacet(enum.Enum):
    TYPE = strawberry.enum_value(
        "type",
        description="What the hit is: resource, event, theme, concept, shared project "
        "or organisation.",
    )
    THEME = strawberry.enum_value("themes", description="Themes (value: the theme's ID).")
    KIND = strawberry.enum_value("kind", description="Kind of resource.")
    TERRITORY = strawberry.enum_value(
        "territories", description="Territories (value: the territory's ID)."
    )
    ORGANIZATION = strawberry.enum_value(
        "organizations", description="Organisations (value: the organisation's ID)."
    )
    YEAR = strawberry.enum_value("year", description="Year of publication (events: of start).")
    AUDIENCE = strawberry.enum_value("audience", description="Audience of a resource.")
    EVENT_FORMAT = strawberry.enum_value("format", description="Format of an event.")


@strawberry.enum(description="Orders of search results.")
class SearchSort(enum.Enum):
    RELEVANCE = strawberry.enum_value(
        "RELEVANCE",
        description="Best match first (title above text, fewer typos first), newest on "
        "ties; newest first when the query is empty.",
    )
    NEWEST = strawberry.enum_value("NEWEST", description="Most recently published first.")
    OLDEST = strawberry.enum_value("OLDEST", description="Earliest published first.")


@strawberry.input(description="Conditions on search results; lists mean « any of », all hold.")
class SearchFilter:
    types: list[SearchType] | None = strawberry.field(
        default=None, description="Kinds of hit (default: every kind)."
    )
    themes: list[strawberry.ID] | None = strawberry.field(
        default=None, description="IDs of themes."
    )
    kinds: list[ResourceKindEnum] | None = strawberry.field(
        default=None, description="Kinds of resource."
    )
    territories: list[strawberry.ID] | None = strawberry.field(
        default=None, description="IDs of territories."
    )
    organizations: list[strawberry.ID] | None = strawberry.field(
        default=None, description="IDs of organisations (behind a resource, organising an event)."
    )
    years: list[int] | None = strawberry.field(
        default=None, description="Years of publication (events: of start), Europe/Paris."
    )
    audiences: list[AudienceEnum] | None = strawberry.field(
        default=None, description="Audiences of resources."
    )
    event_formats: list[EventFormatEnum] | None = strawberry.field(
        default=None, description="Formats of events."
    )

    def to_port(self) -> port.SearchFilter:
        return port.SearchFilter(
            types=[t.value for t in self.types or ()],
            themes=decode_ids(self.themes or (), "Theme", "filter.themes"),
            kinds=[k.value for k in self.kinds or ()],
            territories=decode_ids(self.territories or (), "Territory", "filter.territories"),
            organizations=decode_ids(
                self.organizations or (), "Organization", "filter.organizations"
            ),
            years=list(self.years or ()),
            audiences=[a.value for a in self.audiences or ()],
            formats=[f.value for f in self.event_formats or ()],
        )


SearchNode = Annotated[
    Resource | Event | Theme | Concept | SharedProject | Organization,
    strawberry.union(
        "SearchNode",
        description="What a search finds: a resource, an event, a theme, a concept, a "
        "shared project or an organisation.",
    ),
]


@strawberry.type(description="One search result.")
class SearchHit:
    cursor: str = strawberry.field(description="Pass it as `after` to continue after this hit.")
    node: SearchNode = strawberry.field(description="What was found.")
    type: SearchType = strawberry.field(description="What kind of hit it is.")
    title_highlighted: str = strawberry.field(
        description="The title as HTML-escaped text, matched words inside `<mark>`."
    )
    snippet: str = strawberry.field(
        description="A passage of the text around the first match, same markup (may be empty)."
    )


@strawberry.type(description="A title to propose in a search box as the visitor types.")
class SearchSuggestion:
    id: strawberry.ID = strawberry.field(description="Global ID of what the title is of.")
    type: SearchType = strawberry.field(description="What kind of content it is.")
    title: str = strawberry.field(description="The title (an organisation: name and acronym).")


@strawberry.type(description="One value of a facet and how many results have it.")
class FacetValue:
    value: str = strawberry.field(
        description="The value to filter on: a global ID (themes, territories, "
        "organisations), an enum value name, a year or a `SearchType` value."
    )
    label: str = strawberry.field(description="How to show it, in French.")
    count: int = strawberry.field(description="Results (with the filters applied) having it.")


@strawberry.type(description="The value counts of one facet.")
class FacetDistribution:
    facet: SearchFacet = strawberry.field(description="The facet.")
    values: list[FacetValue] = strawberry.field(description="Its values, most frequent first.")


@strawberry.type(
    description="A page of search results (`first`/`after`) with the total and facet counts."
)
class SearchConnection:
    hits: list[SearchHit] = strawberry.field(description="The results of this page.")
    total: int = strawberry.field(description="How many results match, over all pages.")
    facets: list[FacetDistribution] = strawberry.field(
        description="Counts of the requested facets, computed on the filtered results."
    )
    processing_time_ms: float = strawberry.field(
        description="Time the search engine took, in milliseconds."
    )
    page_info: PageInfo = strawberry.field(description="Pagination information.")

    @strawberry.field(
        description="How many results match, over all pages (`total`, named as on every "
        "connection)."
    )
    def total_count(self) -> int:
        return self.total


@strawberry.type(description="How far the search index is behind the database (editors).")
class SearchIndexStatus:
    engine: str = strawberry.field(description="`embedded` (tantivy) or `meilisearch`.")
    documents: int | None = strawberry.field(
        description="Documents in the index (null when the engine does not answer)."
    )
    pending_changes: int = strawberry.field(description="Changes not yet applied to the index.")
    failing_changes: int = strawberry.field(
        description="Pending changes whose application already failed (retried with backoff)."
    )
    oldest_pending_at: dt.datetime | None = strawberry.field(
        description="When the oldest change not yet applied was made (null: up to date)."
    )
    lag_seconds: float = strawberry.field(
        description="Age of the oldest change not yet applied, in seconds (0: up to date)."
    )
    last_error: str | None = strawberry.field(description="Last error of a failing change.")


@strawberry.type(description="A Meilisearch tenant token for a front-end (InstantSearch).")
class SearchTenantToken:
    token: str = strawberry.field(description="The JWT to use as the Meilisearch API key.")
    url: str = strawberry.field(description="The Meilisearch URL to query.")
    index_uid: str = strawberry.field(description="The index to query.")
    expires_at: dt.datetime = strawberry.field(description="When the token stops working.")
