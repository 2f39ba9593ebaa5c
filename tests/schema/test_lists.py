"""The other lists: organisations, territories, concepts, shared projects, voting rounds."""

from __future__ import annotations

import pytest

from tests.sqlcount import count_queries


async def _walk(gql, query, field, variables=None, size=4):
    """Every node of a list, fetched page by page."""
    seen, after = [], None
    while True:
        page = (await gql.data(query, {**(variables or {}), "first": size, "after": after}))[field]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


ORGANIZATIONS = """
query($first: Int, $after: String, $filter: OrganizationFilter) {
  organizations(first: $first, after: $after, filter: $filter) {
    edges { node { slug name acronym kind kindLabel roles } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


async def test_organizations_alphabetical_and_paginated(gql):
    data = await gql.data(ORGANIZATIONS, {"first": 100})
    everything = [e["node"] for e in data["organizations"]["edges"]]
    assert len(everything) == 27
    slugs = [o["slug"] for o in everything]
    assert slugs == sorted(slugs)
    assert await _walk(gql, ORGANIZATIONS, "organizations") == everything
    anct = next(o for o in everything if o["slug"] == "anct")
    assert anct["acronym"] == "ANCT"


async def test_organization_filters(gql):
    data = await gql.data(ORGANIZATIONS, {"first": 100, "filter": {"kinds": ["ASSOCIATION"]}})
    nodes = [e["node"] for e in data["organizations"]["edges"]]
    assert len(nodes) == 9 and {o["kind"] for o in nodes} == {"ASSOCIATION"}
    assert {o["kindLabel"] for o in nodes} == {"Association"}
    data = await gql.data(ORGANIZATIONS, {"first": 100, "filter": {"roles": ["CO_ANIMATOR"]}})
    nodes = [e["node"] for e in data["organizations"]["edges"]]
    assert len(nodes) == 5 and all("CO_ANIMATOR" in o["roles"] for o in nodes)
    data = await gql.data(
        ORGANIZATIONS,
        {"first": 100, "filter": {"roles": ["PROVIDER"], "kinds": ["PUBLIC_BANK", "MEDIA"]}},
    )
    nodes = [e["node"] for e in data["organizations"]["edges"]]
    assert all(o["kind"] in ("PUBLIC_BANK", "MEDIA") and "PROVIDER" in o["roles"] for o in nodes)


async def test_organization_resources_and_events(gql):
    data = await gql.data(
        """{ organization(slug: "icpc") { name
              events(first: 2) { nodes { slug organizers { slug } } pageInfo { hasNextPage } }
              resources(first: 100) { nodes { slug organizations { slug } } } } }"""
    )
    org = data["organization"]
    assert len(org["events"]["nodes"]) == 2 and org["events"]["pageInfo"]["hasNextPage"]
    for node in org["events"]["nodes"] + org["resources"]["nodes"]:
        key = "organizers" if "organizers" in node else "organizations"
        assert "icpc" in [o["slug"] for o in node[key]]
    assert (await gql.data('{ organization(slug: "nope") { id } }'))["organization"] is None


async def test_organization_lists_are_batched(gql):
    query = """query($first: Int) { organizations(first: $first) { nodes { slug roles
        resources(first: 2) { nodes { slug } } events(first: 2) { nodes { slug } } } } }"""
    with count_queries() as small:
        await gql.data(query, {"first": 2})
    with count_queries() as large:
        await gql.data(query, {"first": 27})
    assert len(small) == len(large), (small, large)


TERRITORIES = """
query($first: Int, $after: String, $filter: TerritoryFilter) {
  territories(first: $first, after: $after, filter: $filter) {
    edges { node { slug name level levelLabel inseeCode } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


async def test_territories_alphabetical_filtered_by_level(gql):
    data = await gql.data(TERRITORIES, {"first": 100})
    everything = [e["node"] for e in data["territories"]["edges"]]
    assert len(everything) == 24
    assert [t["slug"] for t in everything] == sorted(t["slug"] for t in everything)
    assert await _walk(gql, TERRITORIES, "territories", size=5) == everything
    data = await gql.data(TERRITORIES, {"first": 100, "filter": {"levels": ["DEPARTEMENT"]}})
    nodes = [e["node"] for e in data["territories"]["edges"]]
    assert len(nodes) == 3 and {t["level"] for t in nodes} == {"DEPARTEMENT"}
    data = await gql.data(TERRITORIES, {"first": 100, "filter": {"levels": ["EPCI"]}})
    assert data["territories"]["edges"] == []


async def test_a_territory_has_its_resources_and_memberships(gql):
    data = await gql.data(
        """{ territory(slug: "niort") { name level
              memberships { role status project { slug } }
              resources(first: 100) { nodes { territories { slug } } } } }"""
    )
    territory = data["territory"]
    assert territory["memberships"] == [
        {
            "role": "PARTICIPANT",
            "status": "CONFIRMED",
            "project": {"slug": "co-construire-la-politique-culturelle-avec-ses-habitants"},
        }
    ]
    for node in territory["resources"]["nodes"]:
        assert "niort" in [t["slug"] for t in node["territories"]]


CONCEPTS = """
query($first: Int, $after: String, $order: ConceptOrder) {
  concepts(first: $first, after: $after, order: $order) {
    edges { node { slug title month summary body organizations { slug } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


async def test_concepts_most_recent_first(gql):
    data = await gql.data(CONCEPTS, {"first": 100})
    nodes = [e["node"] for e in data["concepts"]["edges"]]
    assert [c["month"] for c in nodes] == ["2022-11-01", "2022-09-01", "2021-07-01", "2021-06-01"]
    assert nodes[-1]["slug"] == "l-echelle-de-participation-d-arnstein"
    assert all(c["title"] and c["summary"] for c in nodes)
    assert await _walk(gql, CONCEPTS, "concepts", size=3) == nodes


async def test_concepts_by_title(gql):
    data = await gql.data(CONCEPTS, {"first": 100, "order": "TITLE"})
    slugs = [e["node"]["slug"] for e in data["concepts"]["edges"]]
    assert slugs == sorted(slugs) and len(slugs) == 4
    assert await _walk(gql, CONCEPTS, "concepts", {"order": "TITLE"}, size=3) == [
        e["node"] for e in data["concepts"]["edges"]
    ]
    found = await gql.data('{ concept(slug: "le-recit") { month } }')
    assert found["concept"] == {"month": "2022-09-01"}


PROJECTS = """
query($filter: SharedProjectFilter, $order: SharedProjectOrder) {
  sharedProjects(first: 100, filter: $filter, order: $order) {
    nodes { slug title status statusLabel startsOn endsOn theme { slug }
      participants { role territory { slug } } observers { role }
      stages { kind position title } providers { slug } }
  }
}
"""
CULTURE = "co-construire-la-politique-culturelle-avec-ses-habitants"


async def test_the_shared_project_of_the_demo(gql):
    data = await gql.data(PROJECTS)
    [project] = data["sharedProjects"]["nodes"]
    assert project["slug"] == CULTURE
    assert project["status"] == "COMPLETED"
    assert project["theme"] == {"slug": CULTURE}
    assert project["startsOn"] == "2021-06-01"
    assert {p["territory"]["slug"] for p in project["participants"]} == {
        "mantes-la-jolie",
        "bourges",
        "niort",
        "guichen",
    }
    assert {p["role"] for p in project["participants"]} == {"PARTICIPANT"}
    assert project["observers"] == []
    assert [s["position"] for s in project["stages"]] == [1, 2, 3, 4]
    assert [s["kind"] for s in project["stages"]] == [
        "ENGAGEMENT",
        "DIAGNOSTIC",
        "ACTION_PLANS",
        "EVALUATION",
    ]


@pytest.mark.parametrize(
    ("flt", "count"),
    [
        ({"statuses": ["COMPLETED"]}, 1),
        ({"statuses": ["OPEN", "DIAGNOSTIC"]}, 0),
    ],
)
async def test_shared_project_status_filter(gql, flt, count):
    data = await gql.data(PROJECTS, {"filter": flt})
    assert len(data["sharedProjects"]["nodes"]) == count


async def test_shared_project_theme_and_territory_filters(gql):
    ids = await gql.data(
        f"""{{ theme(slug: "{CULTURE}") {{ id }} other: theme(slug: "le-recit") {{ id }}
              niort: territory(slug: "niort") {{ id }}
              grenoble: territory(slug: "grenoble") {{ id }} }}"""
    )

    async def count(flt):
        return len((await gql.data(PROJECTS, {"filter": flt}))["sharedProjects"]["nodes"])

    assert await count({"themes": [ids["theme"]["id"]]}) == 1
    assert await count({"territories": [ids["niort"]["id"]]}) == 1
    assert await count({"territories": [ids["grenoble"]["id"]]}) == 0
    assert (await gql.data(PROJECTS, {"order": "TITLE"}))["sharedProjects"]["nodes"]


async def test_voting_round_and_its_public_ranking(gql):
    data = await gql.data(
        """{ votingRounds(first: 10) { nodes { slug title opensAt closesAt votesPerTerritory
              isOpen closedAt ranking { rank votes theme { slug isVoteCandidate } } } } }"""
    )
    [voting_round] = data["votingRounds"]["nodes"]
    assert voting_round["slug"] == "votez-pour-les-thematiques-des-projets-partages"
    assert voting_round["votesPerTerritory"] == 3
    assert voting_round["isOpen"] is False  # closed at the end of 2022
    ranking = voting_round["ranking"]
    assert len(ranking) == 5
    assert all(e["theme"]["isVoteCandidate"] for e in ranking)
    # No votes in the demo data: every candidate ties at the first rank.
    assert {(e["rank"], e["votes"]) for e in ranking} == {(1, 0)}
    found = await gql.data(
        '{ votingRound(slug: "votez-pour-les-thematiques-des-projets-partages") { title } }'
    )
    assert found["votingRound"]["title"] == voting_round["title"]
