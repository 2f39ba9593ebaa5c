"""Themes: the theme of the month, the announced next theme, and their content."""

from __future__ import annotations

THEMES = """
query Themes($first: Int, $after: String, $filter: ThemeFilter, $order: ThemeOrder) {
  themes(first: $first, after: $after, filter: $filter, order: $order) {
    edges { node { slug title month isVoteCandidate isNext } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

THEME_RESOURCES = """
query($slug: String!, $first: Int, $after: String) {
  theme(slug: $slug) {
    resources(first: $first, after: $after) {
      edges { cursor node { slug publishedAt } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}
"""

THEME_EVENTS = """
query($slug: String!, $first: Int, $after: String, $order: EventOrder) {
  theme(slug: $slug) {
    events(first: $first, after: $after, order: $order) {
      edges { node { slug startsAt } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}
"""

SANITAIRE = "democratie-sanitaire-et-nouvelles-cooperations-territoriales"
DEMARCHE = "mettre-en-place-une-demarche-participative-les-bonnes-questions-a-se-poser"


async def test_current_theme_is_the_latest_begun_month(gql):
    data = await gql.data("{ currentTheme { slug title month } }")
    assert data["currentTheme"] == {
        "slug": "le-passage-a-l-action",
        "title": "Le passage à l'action",
        "month": "2022-11-01",
    }


async def test_no_next_theme_is_announced_in_the_demo_data(gql):
    assert (await gql.data("{ nextTheme { slug } }"))["nextTheme"] is None


def _demo_slugs() -> set[str]:
    from services.demo.loader import read_demo_data

    return {t["slug"] for t in read_demo_data()["themes"]}


async def test_themes_are_alphabetical_by_default(gql):
    data = await gql.data(THEMES, {"first": 100})
    slugs = [e["node"]["slug"] for e in data["themes"]["edges"]]
    assert slugs == sorted(slugs)
    # Other tests add themes to the shared database: the demo's ten are all there.
    assert _demo_slugs() <= set(slugs)


async def test_month_order_keeps_only_themes_of_the_month(gql):
    data = await gql.data(THEMES, {"first": 100, "order": "MONTH"})
    months = [e["node"]["month"] for e in data["themes"]["edges"]]
    assert months == ["2022-11-01", "2022-09-01", "2021-07-01", "2021-06-01"]


async def test_vote_candidate_filter(gql):
    data = await gql.data(THEMES, {"first": 100, "filter": {"isVoteCandidate": True}})
    demo = _demo_slugs()
    candidates = [e["node"] for e in data["themes"]["edges"] if e["node"]["slug"] in demo]
    assert len(candidates) == 5 and all(t["isVoteCandidate"] for t in candidates)
    data = await gql.data(THEMES, {"first": 100, "filter": {"isVoteCandidate": False}})
    others = [e["node"] for e in data["themes"]["edges"] if e["node"]["slug"] in demo]
    assert len(others) == 5 and not any(t["isVoteCandidate"] for t in others)


async def test_was_theme_of_the_month_filter(gql):
    data = await gql.data(THEMES, {"first": 100, "filter": {"wasThemeOfTheMonth": True}})
    assert {e["node"]["month"] is not None for e in data["themes"]["edges"]} == {True}
    assert len(data["themes"]["edges"]) == 4
    data = await gql.data(THEMES, {"first": 100, "filter": {"wasThemeOfTheMonth": False}})
    assert {e["node"]["month"] for e in data["themes"]["edges"]} == {None}


async def test_theme_pages_cover_every_theme_once(gql):
    expected = [
        e["node"]["slug"] for e in (await gql.data(THEMES, {"first": 100}))["themes"]["edges"]
    ]
    seen, after = [], None
    while True:
        page = (await gql.data(THEMES, {"first": 3, "after": after}))["themes"]
        seen += [e["node"]["slug"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected


async def test_theme_resources_are_paginated_newest_first(gql):
    everything = await gql.data(THEME_RESOURCES, {"slug": SANITAIRE, "first": 100})
    all_slugs = [e["node"]["slug"] for e in everything["theme"]["resources"]["edges"]]
    assert len(all_slugs) == 6
    dates = [e["node"]["publishedAt"] for e in everything["theme"]["resources"]["edges"]]
    assert dates == sorted(dates, reverse=True)
    seen, after = [], None
    while True:
        page = (await gql.data(THEME_RESOURCES, {"slug": SANITAIRE, "first": 4, "after": after}))[
            "theme"
        ]["resources"]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [e["node"]["slug"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == all_slugs
    assert after is not None  # two pages were needed


async def test_theme_events_are_paginated(gql):
    first = (await gql.data(THEME_EVENTS, {"slug": DEMARCHE, "first": 1}))["theme"]["events"]
    assert [e["node"]["slug"] for e in first["edges"]] == [
        "formation-concevoir-votre-demarche-participative-2021-09-01"
    ]
    assert first["pageInfo"]["hasNextPage"] is True
    second = (
        await gql.data(
            THEME_EVENTS, {"slug": DEMARCHE, "first": 1, "after": first["pageInfo"]["endCursor"]}
        )
    )["theme"]["events"]
    assert [e["node"]["slug"] for e in second["edges"]] == [
        "quels-pre-requis-pour-lancer-une-demarche-participative-2022-09-27"
    ]
    assert second["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "endCursor": second["pageInfo"]["endCursor"],
    }
    latest = (
        await gql.data(THEME_EVENTS, {"slug": DEMARCHE, "first": 1, "order": "STARTS_AT_DESC"})
    )["theme"]["events"]
    assert latest["edges"][0]["node"]["slug"] == second["edges"][0]["node"]["slug"]


async def test_a_nested_cursor_is_checked(gql):
    body = await gql(THEME_EVENTS, {"slug": DEMARCHE, "first": 1, "after": "garbage"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unknown_theme_is_null(gql):
    assert (await gql.data('{ theme(slug: "nope") { id } }'))["theme"] is None
