"""Random valid query documents over what the read compiler covers and what it does not.

Each document mixes the portal's shape (the ``resources`` connection and the other root
lists with their filters, orders, pages from either end and cursors; lookups by slug;
scalar, enumerated and label fields; children through link tables; private fields) with
what must go to the ordinary executor (other root fields, fields of credited
contributors, arguments refused), wrapped in the syntax a client may use: aliases,
repeated fields, named and inline fragments, ``@include`` and ``@skip`` on literals and
variables, arguments as literals or variables. A generator is seeded: the same seed gives
the same documents.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field
from typing import Any

RESOURCE = [
    "id",
    "slug",
    "title",
    "summary",
    "body",
    "kind",
    "kindLabel",
    "url",
    "audience",
    "status",
    "publishedAt",
    "updatedAt",
    "version",
    "submittedAt",
    "__typename",
]
THEME = [
    "id",
    "slug",
    "title",
    "introduction",
    "month",
    "announcedIn",
    "isNext",
    "isVoteCandidate",
    "status",
    "publishedAt",
    "version",
    "__typename",
]
TERRITORY = ["id", "slug", "name", "level", "levelLabel", "inseeCode", "__typename"]
ORGANIZATION = [
    "id",
    "slug",
    "name",
    "acronym",
    "kind",
    "kindLabel",
    "website",
    "description",
    "__typename",
]
EVENT = [
    "id",
    "slug",
    "title",
    "summary",
    "startsAt",
    "endsAt",
    "allDay",
    "city",
    "online",
    "format",
    "formatLabel",
    "registrationUrl",
    "status",
    "version",
    "__typename",
]
CONCEPT = [
    "id",
    "slug",
    "title",
    "summary",
    "body",
    "month",
    "furtherReading",
    "status",
    "publishedAt",
    "version",
    "__typename",
]
# A private field: compiled for editors, the ordinary executor's for the others.
PRIVATE = "rejectionReason"
# Fields of a resource the compiler leaves to the ordinary executor.
RESOURCE_OTHERS = [
    "contributorTerritory { slug }",
    "contributorOrganization { name }",
]
# Connections of children through link tables, by parent type (besides Theme's).
REVERSE = {"Organization": ["resources", "events"], "Territory": ["resources"]}
CURSOR_PREFIX = "k2:"
KINDS = ["GUIDE", "EXPERIENCE", "TOOLKIT", "NEWS", "WEBINAR", "OTHER"]
AUDIENCES = ["ALL", "LOCAL_AUTHORITIES", "PARTNERS", "CITIZENS"]
STATUSES = ["PUBLISHED", "DRAFT", "SUBMITTED", "ARCHIVED"]
ORDERS = ["NEWEST", "OLDEST", "TITLE", "RECENTLY_UPDATED"]
EVENT_ORDERS = ["STARTS_AT", "STARTS_AT_DESC"]
FORMATS = ["WEBINAR", "TRAINING", "CONFERENCE", "MEETING", "OTHER"]
# The other root lists: their orders, their filters' enumerated values.
LISTS: dict[str, dict[str, Any]] = {
    "themes": {
        "orders": ["TITLE", "MONTH"],
        "order_type": "ThemeOrder",
        "filter_type": "ThemeFilter",
    },
    "organizations": {
        "orders": ["NAME"],
        "order_type": "OrganizationOrder",
        "filter_type": "OrganizationFilter",
    },
    "territories": {
        "orders": ["NAME"],
        "order_type": "TerritoryOrder",
        "filter_type": "TerritoryFilter",
    },
    "concepts": {"orders": ["MONTH", "TITLE"], "order_type": "ConceptOrder", "filter_type": None},
}
ORGANIZATION_KINDS = ["PUBLIC_AGENCY", "ASSOCIATION", "LOCAL_AUTHORITY", "NETWORK", "OTHER"]
ORGANIZATION_ROLES = ["CO_ANIMATOR", "PROVIDER", "SOURCE", "PARTNER", "ORGANIZER"]
TERRITORY_LEVELS = ["COMMUNE", "EPCI", "DEPARTEMENT", "REGION", "METROPOLE"]
MOMENTS = ["2020-01-01T00:00:00+00:00", "2024-06-01T12:00:00+02:00", "2030-01-01T00:00:00Z"]


@dataclass
class Pool:
    """Values documents draw from: slugs, IDs and cursors that exist, by kind."""

    resource_slugs: list[str]
    theme_slugs: list[str]
    theme_ids: list[str]
    territory_ids: list[str]
    organization_ids: list[str]
    cursors: dict[str, list[str]]
    """By order (resources' and events'), by ``list:order`` (the other root lists')."""
    event_slugs: list[str] = field(default_factory=list)
    organization_slugs: list[str] = field(default_factory=list)
    territory_slugs: list[str] = field(default_factory=list)
    concept_slugs: list[str] = field(default_factory=list)
    node_ids: list[str] = field(default_factory=list)
    """Global IDs of every type ``node(id:)`` serves, and of types it does not."""
    years: list[int] = field(default_factory=lambda: [2019, 2021, 2022, 2023, 2024, 2026])


@dataclass
class Document:
    query: str
    variables: dict[str, Any]
    lists: frozenset[str] = frozenset()
    """The root lists of :data:`LISTS` it reads."""

    def __str__(self) -> str:
        return f"{self.query}\nvariables: {json.dumps(self.variables)}"


class Generator:
    """Builds one random document per :meth:`document` call."""

    def __init__(self, seed: int, pool: Pool) -> None:
        self.random = random.Random(seed)
        self.pool = pool
        self.names = 0

    # -- syntax ------------------------------------------------------------------------

    def fresh(self, prefix: str) -> str:
        self.names += 1
        return f"{prefix}{self.names}"

    def document(self) -> Document:
        self.names = 0
        self.variables: dict[str, Any] = {}
        self.definitions: list[str] = []  # variable definitions
        self.fragments: list[str] = []
        self.lists: set[str] = set()
        count = self.random.choice([1, 1, 1, 2, 2, 3])
        roots = [self.root(alias=i > 0) for i in range(count)]
        header = f"({', '.join(self.definitions)})" if self.definitions else ""
        name = self.random.choice(["", "Portal ", "Q "])
        keyword = f"query {name}{header}".strip() if (header or name) else ""
        query = f"{keyword} {{ {' '.join(roots)} }}"
        if self.fragments:
            query += "\n" + "\n".join(self.fragments)
        return Document(query.strip(), self.variables, frozenset(self.lists))

    def variable(self, graphql_type: str, value: Any) -> str:
        name = self.fresh("v")
        self.definitions.append(f"${name}: {graphql_type}")
        self.variables[name] = value
        return f"${name}"

    def argument(self, graphql_type: str, value: Any) -> str:
        """``value`` as a literal or through a variable."""
        if self.random.random() < 0.4:
            return self.variable(graphql_type, value)
        return _literal(value, enum=graphql_type.rstrip("!").endswith("Order"))

    def keyed(self, field_text: str, selection: str = "", *, alias: bool = False) -> str:
        """A field (name and arguments) and its ``selection``, maybe aliased, maybe under
        ``@include``/``@skip``."""
        r = self.random.random()
        if alias or r < 0.2:
            field_text = f"{self.fresh('a')}: {field_text}"
        r = self.random.random()
        if r < 0.08:
            field_text += f" @include(if: {self.switch(True)})"
        elif r < 0.16:
            field_text += f" @skip(if: {self.switch(False)})"
        elif r < 0.2:
            field_text += f" @skip(if: {self.switch(True)})"
        return f"{field_text} {selection}".strip()

    def switch(self, value: bool) -> str:
        if self.random.random() < 0.5:
            return "true" if value else "false"
        if self.random.random() < 0.5:
            value = not value
        return self.variable("Boolean!", value)

    def wrap(self, type_name: str, selection: str) -> str:
        """``selection`` as it is, in an inline fragment or in a named fragment."""
        r = self.random.random()
        if r < 0.15:
            return f"... on {type_name} {{ {selection} }}"
        if r < 0.3:
            name = self.fresh("F")
            self.fragments.append(f"fragment {name} on {type_name} {{ {selection} }}")
            return f"...{name}"
        if r < 0.35:
            return f"... {{ {selection} }}"
        return selection

    # -- selections --------------------------------------------------------------------

    def fields(self, names: list[str], least: int = 1) -> list[str]:
        chosen = self.random.sample(names, self.random.randint(least, min(len(names), 6)))
        if self.random.random() < 0.1:
            chosen.append(chosen[0])  # the same field twice: merged
        return [self.keyed(name) for name in chosen]

    def resource(self, depth: int = 0) -> str:
        parts = self.fields(RESOURCE)
        if depth < 2 and self.random.random() < 0.2:
            parts.append(self.related(depth + 1))
        for relation, fields in (
            ("themes", lambda: self.theme(depth + 1)),
            ("territories", lambda: self.plain("Territory", TERRITORY, depth + 1)),
            ("organizations", lambda: self.plain("Organization", ORGANIZATION, depth + 1)),
        ):
            if self.random.random() < 0.35:
                parts.append(self.keyed(relation, f"{{ {fields()} }}"))
        if self.random.random() < 0.08:
            parts.append(self.keyed(PRIVATE))
        if self.random.random() < 0.04:
            name, _, selection = self.random.choice(RESOURCE_OTHERS).partition(" ")
            parts.append(self.keyed(name, selection))
        if self.random.random() < 0.05:
            parts.append("... on Node { id }")
        self.random.shuffle(parts)
        return self.wrap("Resource", " ".join(parts))

    def related(self, depth: int) -> str:
        """``related``, its size maybe left out, now and then one it refuses (the error
        comes from below a root field, beside fields that may share its loads)."""
        size = self.random.choice([None, 0, 1, 2, 3, 5, 20])
        if self.random.random() < 0.04:
            size = self.random.choice([21, -1])
        arguments = "" if size is None else f"(first: {self.argument('Int!', size)})"
        return self.keyed(f"related{arguments}", f"{{ {self.resource(depth)} }}")

    def theme(self, depth: int = 0) -> str:
        parts = self.fields(THEME)
        parts += self.reverse("Theme", ["resources", "events"], depth)
        return self.wrap("Theme", " ".join(parts))

    def plain(self, type_name: str, names: list[str], depth: int = 0) -> str:
        parts = self.fields(names)
        parts += self.reverse(type_name, REVERSE.get(type_name, []), depth)
        return self.wrap(type_name, " ".join(parts))

    def reverse(self, type_name: str, names: list[str], depth: int) -> list[str]:
        """Maybe a connection of the children through a link table (``Theme.resources``…),
        seldom below the first level."""
        if not names or self.random.random() > (0.3 if depth == 0 else 0.08):
            return []
        name = self.random.choice(names)
        events = name == "events"
        arguments = self.list_arguments(events=events, scope=f"{type_name}.{name}")
        node = self.event if events else (lambda: self.resource(depth + 2))
        return [self.keyed(f"{name}{arguments}", f"{{ {self.connection(node)} }}")]

    def event(self) -> str:
        parts = self.fields(EVENT)
        for relation, fields in (
            ("organizers", lambda: self.plain("Organization", ORGANIZATION, 2)),
            ("themes", lambda: self.theme(2)),
            ("territories", lambda: self.plain("Territory", TERRITORY, 2)),
        ):
            if self.random.random() < 0.3:
                parts.append(self.keyed(relation, f"{{ {fields()} }}"))
        if self.random.random() < 0.05:
            parts.append(self.keyed("timezone"))
        self.random.shuffle(parts)
        return self.wrap("Event", " ".join(parts))

    def connection(self, node: Any = None) -> str:
        node = node or self.resource
        parts = []
        options = ["totalCount", "edges", "nodes", "pageInfo", "__typename"]
        for name in self.random.sample(options, self.random.randint(1, 4)):
            if name == "edges":
                edge = [
                    self.keyed("node", f"{{ {node()} }}") if e == "node" else self.keyed(e)
                    for e in self.random.sample(
                        ["cursor", "node", "__typename"], self.random.randint(1, 3)
                    )
                ]
                parts.append(self.keyed("edges", f"{{ {' '.join(edge)} }}"))
            elif name == "nodes":
                parts.append(self.keyed("nodes", f"{{ {node()} }}"))
            elif name == "pageInfo":
                info = self.fields(
                    ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"]
                )
                parts.append(self.keyed("pageInfo", f"{{ {' '.join(info)} }}"))
            else:
                parts.append(self.keyed(name))
        return " ".join(parts)

    # -- roots -------------------------------------------------------------------------

    def root(self, *, alias: bool) -> str:
        r = self.random.random()
        if r < 0.45:
            arguments = self.list_arguments()
            return self.keyed(f"resources{arguments}", f"{{ {self.connection()} }}", alias=alias)
        if r < 0.53:
            arguments = self.list_arguments(events=True)
            selection = f"{{ {self.connection(self.event)} }}"
            return self.keyed(f"events{arguments}", selection, alias=alias)
        if r < 0.65:
            name = self.random.choice(list(LISTS))
            self.lists.add(name)
            arguments = self.other_list_arguments(name)
            selection = f"{{ {self.connection(self.listed(name))} }}"
            return self.keyed(f"{name}{arguments}", selection, alias=alias)
        lookups = [
            (0.73, "resource", self.pool.resource_slugs, self.resource),
            (0.79, "theme", self.pool.theme_slugs, self.theme),
            (0.82, "event", self.pool.event_slugs, self.event),
            (
                0.84,
                "organization",
                self.pool.organization_slugs,
                lambda: self.plain("Organization", ORGANIZATION),
            ),
            (
                0.86,
                "territory",
                self.pool.territory_slugs,
                lambda: self.plain("Territory", TERRITORY),
            ),
            (0.87, "concept", self.pool.concept_slugs, self.concept),
        ]
        for bound, name, slugs, selection in lookups:
            if r < bound:
                slug = self.argument("String!", self.random.choice([*slugs, "x"]))
                return self.keyed(f"{name}(slug: {slug})", f"{{ {selection()} }}", alias=alias)
        if r < 0.90:
            name = "currentTheme" if r < 0.885 else "nextTheme"
            return self.keyed(name, f"{{ {self.theme()} }}", alias=alias)
        if r < 0.93 and self.pool.node_ids:
            return self.node_root(alias=alias)
        if r < 0.94:
            return self.keyed("__typename", alias=alias)
        return (
            self.fresh("o")
            + ": "
            + self.random.choice(
                [
                    "organizations(first: 2) { nodes { name roles } }",
                    "votingRounds(first: 1) { nodes { id } }",
                ]
            )
        )

    def node_root(self, *, alias: bool) -> str:
        """``node(id:)`` or ``nodes(ids:)`` over IDs of every type (covered, served but
        not covered, not served), sometimes one that cannot be decoded."""
        parts = [self.keyed(name) for name in self.random.sample(["id", "__typename"], 1)]
        for type_name, selection in (
            ("Resource", self.resource),
            ("Theme", self.theme),
            ("Event", self.event),
            ("Concept", self.concept),
            ("Organization", lambda: self.plain("Organization", ORGANIZATION)),
            ("Territory", lambda: self.plain("Territory", TERRITORY)),
        ):
            if self.random.random() < 0.4:
                parts.append(f"... on {type_name} {{ {selection()} }}")
        selection = " ".join(parts)
        if self.random.random() < 0.5:
            node_id = self.random.choice([*self.pool.node_ids, "bm9wZQ"])
            return self.keyed(
                f"node(id: {self.argument('ID!', node_id)})", f"{{ {selection} }}", alias=alias
            )
        ids = self.random.sample(self.pool.node_ids, self.random.randint(0, 4))
        return self.keyed(
            f"nodes(ids: {self.argument('[ID!]!', ids)})", f"{{ {selection} }}", alias=alias
        )

    def listed(self, name: str) -> Any:
        """The selection of one object of the root list ``name``."""
        return {
            "themes": self.theme,
            "organizations": lambda: self.plain("Organization", ORGANIZATION),
            "territories": lambda: self.plain("Territory", TERRITORY),
            "concepts": self.concept,
        }[name]

    def concept(self) -> str:
        parts = self.fields(CONCEPT)
        if self.random.random() < 0.35:
            organizations = self.plain("Organization", ORGANIZATION, 2)
            parts.append(self.keyed("organizations", f"{{ {organizations} }}"))
        self.random.shuffle(parts)
        return self.wrap("Concept", " ".join(parts))

    def other_list_arguments(self, name: str) -> str:
        """Arguments of the root list ``name`` (not ``resources`` nor ``events``): an
        order, a page from either end, cursors (sometimes of another list or order, or
        none at all), a filter; sometimes arguments it refuses."""
        spec = LISTS[name]
        args: list[str] = []
        order = self.random.choice([None, *spec["orders"]])
        if order is not None:
            args.append(f"order: {self.argument(spec['order_type'], order)}")
        backward = self.random.random() < 0.3
        if self.random.random() < 0.85:
            size = self.random.choice([0, 1, 2, 3, 5, 20, 101, -1])
            args.append(f"{'last' if backward else 'first'}: {self.argument('Int', size)}")
        for cursor_name in ("after", "before"):
            if self.random.random() < 0.25:
                cursor = self.list_cursor(name, order or spec["orders"][0])
                args.append(f"{cursor_name}: {self.argument('String', cursor)}")
        if spec["filter_type"] and self.random.random() < 0.4:
            flt = self.other_filter(name)
            args.append(f"filter: {self.argument(spec['filter_type'], flt)}")
        self.random.shuffle(args)
        return f"({', '.join(args)})" if args else ""

    def list_cursor(self, name: str, order: str) -> str:
        r = self.random.random()
        if r < 0.05:
            return "not-a-cursor"
        if r < 0.1:
            other = self.random.choice(list(LISTS))
            order = self.random.choice(LISTS[other]["orders"])
            name = other
        return self.random.choice(self.pool.cursors[f"{name}:{order}"] or ["not-a-cursor"])

    def other_filter(self, name: str) -> dict[str, Any]:
        sample = self.random.sample
        if name == "themes":
            choices = {
                "isVoteCandidate": lambda: self.random.choice([True, False]),
                "wasThemeOfTheMonth": lambda: self.random.choice([True, False]),
            }
        elif name == "organizations":
            choices = {
                "kinds": lambda: sample(ORGANIZATION_KINDS, self.random.randint(1, 3)),
                "roles": lambda: sample(ORGANIZATION_ROLES, self.random.randint(1, 2)),
            }
        else:
            choices = {"levels": lambda: sample(TERRITORY_LEVELS, self.random.randint(1, 3))}
        return {
            key: choices[key]()
            for key in sample(list(choices), self.random.randint(0, len(choices)))
        }

    def list_arguments(self, *, events: bool = False, scope: str = "") -> str:
        """Arguments of a root list, or of the children's connection ``scope`` (no filter;
        sizes it refuses more rarely than at the root)."""
        refusable = not scope
        args: list[str] = []
        order = self.random.choice([None, *(EVENT_ORDERS if events else ORDERS)])
        if order is not None:
            order_type = "EventOrder" if events else "ResourceOrder"
            args.append(f"order: {self.argument(order_type, order)}")
        r = self.random.random()
        backward = r < 0.4
        size_name = "last" if backward else "first"
        if self.random.random() < 0.85:
            sizes = [0, 1, 2, 3, 4, 5, 7, 10, 12]
            refused = refusable or self.random.random() < 0.04
            size = self.random.choice([*sizes, 101, -1] if refused else sizes)
            size = 100 if self.random.random() < 0.02 else size
            args.append(f"{size_name}: {self.argument('Int', size)}")
        if refusable and self.random.random() < 0.03:
            args.append(f"{'first' if backward else 'last'}: 2")  # both: refused
        for cursor_name in ("after", "before"):
            if self.random.random() < 0.3:
                cursor = self.cursor(order, events=events, scope=scope, valid=not refusable)
                args.append(f"{cursor_name}: {self.argument('String', cursor)}")
        if not scope and self.random.random() < 0.5:
            if events:
                args.append(f"filter: {self.argument('EventFilter', self.event_filter())}")
            else:
                args.append(f"filter: {self.argument('ResourceFilter', self.filter())}")
        self.random.shuffle(args)
        return f"({', '.join(args)})" if args else ""

    def cursor(
        self, order: str | None, *, events: bool = False, scope: str = "", valid: bool = False
    ) -> str:
        """A cursor of the list (``scope``: of the children's connection), unless ``valid``
        sometimes of another order or list, or none at all."""
        r = 1.0 if valid else self.random.random()
        if r < 0.06:
            return "not-a-cursor"
        if r < 0.12:
            order = self.random.choice([*ORDERS, *EVENT_ORDERS])  # maybe another list's
        cursors = self.pool.cursors[order or ("STARTS_AT" if events else "NEWEST")]
        cursor = self.random.choice(cursors)
        if scope and (valid or self.random.random() < 0.9):
            cursor = rescoped(cursor, scope)
        return cursor

    def event_filter(self) -> dict[str, Any]:
        flt: dict[str, Any] = {}
        choices = {
            "from": lambda: self.random.choice(MOMENTS),
            "to": lambda: self.random.choice(MOMENTS),
            "online": lambda: self.random.choice([True, False]),
            "cities": lambda: self.random.sample(["Paris", "niort", "Lyon", "Bourges"], 2),
            "formats": lambda: self.random.sample(FORMATS, self.random.randint(1, 3)),
            "themes": lambda: self.random.sample(self.pool.theme_ids, 2),
            "organizers": lambda: self.random.sample(self.pool.organization_ids, 2),
        }
        for name in self.random.sample(list(choices), self.random.randint(0, 3)):
            flt[name] = choices[name]()
        return flt

    def filter(self) -> dict[str, Any]:
        flt: dict[str, Any] = {}
        choices = {
            "kinds": lambda: self.random.sample(KINDS, self.random.randint(1, 3)),
            "audiences": lambda: self.random.sample(AUDIENCES, self.random.randint(1, 2)),
            "statuses": lambda: self.random.sample(STATUSES, self.random.randint(1, 2)),
            "years": lambda: (
                self.random.sample(self.pool.years, self.random.randint(1, 2))
                + ([99999] if self.random.random() < 0.05 else [])
            ),
            "themes": lambda: (
                self.random.sample(self.pool.theme_ids, 2)
                + (self.pool.territory_ids[:1] if self.random.random() < 0.05 else [])
            ),
            "territories": lambda: self.random.sample(self.pool.territory_ids, 2),
            "organizations": lambda: self.random.sample(self.pool.organization_ids, 2),
        }
        for name in self.random.sample(list(choices), self.random.randint(0, 3)):
            flt[name] = choices[name]()
        return flt


def rescoped(cursor: str, scope: str) -> str:
    """The cursor of the same position in the list ``scope``."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    payload = json.loads(raw.removeprefix(CURSOR_PREFIX))
    payload[0] = scope
    text = CURSOR_PREFIX + json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _literal(value: Any, *, enum: bool = False) -> str:
    """``value`` written in GraphQL: input object keys bare, enum values bare."""
    if isinstance(value, dict):
        inner = ", ".join(f"{k}: {_literal(v, enum=k in ENUM_KEYS)}" for k, v in value.items())
        return f"{{{inner}}}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v, enum=enum) for v in value) + "]"
    if enum and isinstance(value, str):
        return value
    return json.dumps(value)


ENUM_KEYS = frozenset({"kinds", "audiences", "statuses", "formats", "roles", "levels"})
