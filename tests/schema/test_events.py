"""The agenda as partner sites use it: date ranges, places, formats, themes, order."""

from __future__ import annotations

import datetime as dt

from schema.relay import to_global_id
from services.content import ContentStatus
from services.events.models import Event, EventFormat
from tests.sqlcount import count_queries
from tests.unique import unique_tag

EVENTS = """
query Events($first: Int, $after: String, $filter: EventFilter, $order: EventOrder) {
  events(first: $first, after: $after, filter: $filter, order: $order) {
    edges { cursor node { id slug startsAt endsAt allDay city online format
      organizers { slug } themes { slug } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""

RENNES_2022 = "rencontres-europeennes-de-la-participation-2022-rennes"


async def _slugs(gql, variables):
    data = await gql.data(EVENTS, {"first": 100, **variables})
    return [e["node"]["slug"] for e in data["events"]["edges"]]


async def test_every_demo_event_is_listed_soonest_first(gql):
    data = await gql.data(EVENTS, {"first": 100})
    nodes = [e["node"] for e in data["events"]["edges"]]
    assert len(nodes) == 18
    starts = [dt.datetime.fromisoformat(n["startsAt"]) for n in nodes]
    assert starts == sorted(starts)
    assert nodes[0]["slug"] == "journee-de-rencontre-participation-citoyenne-plouguerneau-2016"


async def test_latest_first_order_is_the_reverse(gql):
    ascending = await _slugs(gql, {"order": "STARTS_AT"})
    descending = await _slugs(gql, {"order": "STARTS_AT_DESC"})
    assert descending == list(reversed(ascending))
    assert descending[0] == "webinaire-decouvrez-le-reseau-des-territoires-en-2023"


async def test_keyset_pages_cover_every_event_once(gql):
    for order in ("STARTS_AT", "STARTS_AT_DESC"):
        expected = await _slugs(gql, {"order": order})
        seen, after = [], None
        while True:
            page = (await gql.data(EVENTS, {"first": 5, "after": after, "order": order}))["events"]
            seen += [e["node"]["slug"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == expected, order


async def test_date_range_selects_events_overlapping_it(gql):
    october = {"from": "2022-10-01T00:00:00+02:00", "to": "2022-11-01T00:00:00+01:00"}
    assert set(await _slugs(gql, {"filter": october})) == {
        "reunion-europeenne-open-government-partnership-2022",
        RENNES_2022,
    }
    # An event of several days counts for a day in its middle.
    one_day = {"from": "2021-09-15T00:00:00Z", "to": "2021-09-16T00:00:00Z"}
    assert await _slugs(gql, {"filter": one_day}) == [
        "rencontres-europeennes-de-la-participation-2021"
    ]
    # from alone: still running at or after; to alone: starting before.
    after_dec = await _slugs(gql, {"filter": {"from": "2022-12-10T12:00:00+01:00"}})
    assert after_dec == [
        "conference-annuelle-de-l-oidp-2022",
        "webinaire-decouvrez-le-reseau-des-territoires-en-2023",
    ]
    before_2017 = await _slugs(gql, {"filter": {"to": "2017-01-01T00:00:00+01:00"}})
    assert before_2017 == ["journee-de-rencontre-participation-citoyenne-plouguerneau-2016"]


async def test_online_filter(gql):
    data = await gql.data(EVENTS, {"first": 100, "filter": {"online": True}})
    online = [e["node"] for e in data["events"]["edges"]]
    assert len(online) == 5 and all(n["online"] for n in online)
    data = await gql.data(EVENTS, {"first": 100, "filter": {"online": False}})
    in_person = [e["node"] for e in data["events"]["edges"]]
    assert len(in_person) == 13 and not any(n["online"] for n in in_person)


async def test_cities_are_matched_without_case(gql):
    slugs = await _slugs(gql, {"filter": {"cities": ["rennes", "PARIS"]}})
    assert set(slugs) == {
        RENNES_2022,
        "democracy-happy-hour-la-malette-des-barmans-2022-09-23",
        "salon-des-maires-2022",
    }


async def test_formats_filter(gql):
    data = await gql.data(EVENTS, {"first": 100, "filter": {"formats": ["AFTERWORK", "FAIR"]}})
    nodes = [e["node"] for e in data["events"]["edges"]]
    assert len(nodes) == 3
    assert {n["format"] for n in nodes} == {"AFTERWORK", "FAIR"}


async def test_themes_and_organizers_filters(gql):
    theme_slug = "mettre-en-place-une-demarche-participative-les-bonnes-questions-a-se-poser"
    theme = await gql.data("query($s: String!) { theme(slug: $s) { id } }", {"s": theme_slug})
    data = await gql.data(EVENTS, {"first": 100, "filter": {"themes": [theme["theme"]["id"]]}})
    nodes = [e["node"] for e in data["events"]["edges"]]
    assert {n["slug"] for n in nodes} == {
        "formation-concevoir-votre-demarche-participative-2021-09-01",
        "quels-pre-requis-pour-lancer-une-demarche-participative-2022-09-27",
    }
    assert all(theme_slug in [t["slug"] for t in n["themes"]] for n in nodes)
    icpc = await gql.data('{ organization(slug: "icpc") { id } }')
    data = await gql.data(
        EVENTS, {"first": 100, "filter": {"organizers": [icpc["organization"]["id"]]}}
    )
    nodes = [e["node"] for e in data["events"]["edges"]]
    assert len(nodes) == 3
    assert all("icpc" in [o["slug"] for o in n["organizers"]] for n in nodes)


async def test_filters_combine(gql):
    slugs = await _slugs(
        gql,
        {
            "filter": {
                "from": "2022-01-01T00:00:00+01:00",
                "online": False,
                "formats": ["CONFERENCE"],
                "cities": ["grenoble", "Rennes"],
            }
        },
    )
    assert slugs == [RENNES_2022, "conference-annuelle-de-l-oidp-2022"]


async def test_a_date_without_offset_is_refused(gql):
    body = await gql(EVENTS, {"filter": {"from": "2022-10-01T00:00:00"}})
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "fuseau" in error["message"]


async def test_an_empty_period_is_refused(gql):
    body = await gql(
        EVENTS, {"filter": {"from": "2022-10-01T00:00:00+02:00", "to": "2022-09-01T00:00:00Z"}}
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "from" in error["message"] and "to" in error["message"]


async def test_a_theme_id_of_another_type_is_refused(gql):
    icpc = await gql.data('{ organization(slug: "icpc") { id } }')
    body = await gql(EVENTS, {"filter": {"themes": [icpc["organization"]["id"]]}})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "filter.themes"


async def test_one_event_by_slug_with_its_relations(gql):
    data = await gql.data(
        """query($s: String!) { event(slug: $s) { title city online allDay format formatLabel
             timezone startsAt endsAt organizers { slug } territories { slug } } }""",
        {"s": RENNES_2022},
    )
    event = data["event"]
    assert event["city"] == "Rennes"
    assert event["online"] is False and event["allDay"] is True
    assert event["format"] == "CONFERENCE" and event["formatLabel"] == "Conférence"
    assert event["timezone"] == "Europe/Paris"
    assert [o["slug"] for o in event["organizers"]] == ["decider-ensemble"]
    starts = dt.datetime.fromisoformat(event["startsAt"])
    assert starts == dt.datetime(2022, 10, 24, 7, 0, tzinfo=dt.UTC)
    assert (await gql.data('{ event(slug: "no-such-event") { id } }'))["event"] is None


async def test_organizers_cost_the_same_statements_for_2_and_18_events(gql):
    query = """query($first: Int) { events(first: $first) { edges { node { slug
        organizers { slug } themes { slug } territories { slug } } } } }"""
    with count_queries() as small:
        data_small = await gql.data(query, {"first": 2})
    with count_queries() as large:
        data_large = await gql.data(query, {"first": 18})
    assert len(data_small["events"]["edges"]) == 2
    assert len(data_large["events"]["edges"]) == 18
    # One with the read compiler; through the ordinary executor: events, organizers,
    # themes, territories.
    assert len(small) == len(large) <= 4, (small, large)


async def test_a_draft_event_is_invisible_anonymously(gql):
    slug = f"brouillon-{unique_tag(12)}"
    starts = dt.datetime(2022, 10, 25, 8, 0, tzinfo=dt.UTC)
    draft = await Event.create(
        slug=slug,
        title="Événement en préparation",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        city="Rennes",
        format=EventFormat.MEETING,
        status=ContentStatus.DRAFT,
    )
    try:
        assert slug not in await _slugs(gql, {"filter": {"cities": ["Rennes"]}})
        assert (await gql.data("query($s: String!) { event(slug: $s) { id } }", {"s": slug}))[
            "event"
        ] is None
        body = await gql(
            "query($id: ID!) { node(id: $id) { id } }", {"id": to_global_id("Event", draft.id)}
        )
        assert body == {"data": {"node": None}}  # as if it did not exist: no error
    finally:
        await draft.delete()
