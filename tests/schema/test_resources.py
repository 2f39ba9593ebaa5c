"""The resources API as partner sites use it: lists, filters, pages, relations."""

from __future__ import annotations

from tests.sqlcount import count_queries

PAGE = """
query Page($first: Int, $after: String, $filter: ResourceFilter, $order: ResourceOrder) {
  resources(first: $first, after: $after, filter: $filter, order: $order) {
    edges { cursor node { id slug title kind publishedAt
      themes { slug } territories { slug } organizations { slug } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def test_seed_resources_are_listed_newest_first(gql):
    data = await gql.data(PAGE, {"first": 100})
    nodes = [e["node"] for e in data["resources"]["edges"]]
    titles = {n["title"] for n in nodes}
    assert "La commune de Séné, précurseur de la démocratie culturelle" in titles
    assert "Kit de la participation des personnes en situation de fragilités" in titles
    assert len(nodes) >= 30
    dates = [n["publishedAt"] for n in nodes]
    assert dates == sorted(dates, reverse=True)


async def test_a_resource_carries_its_themes_territories_and_organisations(gql):
    data = await gql.data(
        """{ resource(slug: "la-commune-de-sene-precurseur-de-la-democratie-culturelle") {
              title kindLabel themes { title } territories { name level inseeCode } } }"""
    )
    resource = data["resource"]
    assert resource["kindLabel"] == "Retour d'expérience"
    assert resource["themes"] == [{"title": "La démocratie culturelle"}]
    assert resource["territories"] == [{"name": "Séné", "level": "COMMUNE", "inseeCode": "56243"}]


async def test_keyset_pages_cover_every_resource_once(gql):
    everything = await gql.data(PAGE, {"first": 100})
    expected = [e["node"]["id"] for e in everything["resources"]["edges"]]
    seen, after = [], None
    while True:
        page = (await gql.data(PAGE, {"first": 7, "after": after}))["resources"]
        seen += [e["node"]["id"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected


async def test_title_order_ignores_accents(gql):
    data = await gql.data(PAGE, {"first": 100, "order": "TITLE"})
    slugs = [e["node"]["slug"] for e in data["resources"]["edges"]]
    assert slugs == sorted(slugs)


async def test_filters_by_kind_theme_territory_and_year(gql):
    theme = await gql.data('{ theme(slug: "la-democratie-culturelle") { id } }')
    theme_id = theme["theme"]["id"]
    data = await gql.data(PAGE, {"first": 100, "filter": {"themes": [theme_id]}})
    nodes = [e["node"] for e in data["resources"]["edges"]]
    assert nodes and all(
        "la-democratie-culturelle" in [t["slug"] for t in n["themes"]] for n in nodes
    )
    data = await gql.data(PAGE, {"first": 100, "filter": {"kinds": ["NEWS"], "years": [2022]}})
    nodes = [e["node"] for e in data["resources"]["edges"]]
    assert nodes and all(n["kind"] == "NEWS" and n["publishedAt"].startswith("2022") for n in nodes)
    grenoble = await gql.data('{ territory(slug: "grenoble") { id } }')
    data = await gql.data(
        PAGE, {"first": 100, "filter": {"territories": [grenoble["territory"]["id"]]}}
    )
    nodes = [e["node"] for e in data["resources"]["edges"]]
    assert nodes and all("grenoble" in [t["slug"] for t in n["territories"]] for n in nodes)


async def test_page_of_100_costs_the_same_statements_as_page_of_5(gql):
    with count_queries() as small:
        await gql.data(PAGE, {"first": 5})
    with count_queries() as large:
        await gql.data(PAGE, {"first": 100})
    # One with the read compiler; four through the ordinary executor (page and links).
    assert len(small) == len(large) <= 4, (small, large)


async def test_reverse_relations_are_batched(ordinary_gql):
    query = """{ themes(first: 100) { edges { node { title
        resources(first: 3) { edges { node { title organizations { name } } } }
        events(first: 2) { edges { node { title } } } } } } }"""
    with count_queries() as statements:
        data = await ordinary_gql.data(query)
    assert len(data["themes"]["edges"]) >= 8
    # themes, resources of all themes, their organisations, events of all themes
    assert len(statements) == 4, statements


async def test_related_resources_share_themes(gql):
    data = await gql.data(
        """{ resource(slug: "quand-les-chantiers-participatifs-redessinent-l-espace-public") {
              themes { slug } related(first: 3) { slug themes { slug } } } }"""
    )
    own = {t["slug"] for t in data["resource"]["themes"]}
    assert data["resource"]["related"]
    for other in data["resource"]["related"]:
        assert own & {t["slug"] for t in other["themes"]}
