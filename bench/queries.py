"""The GraphQL documents the benchmark sends, as partner portals would."""

from __future__ import annotations

from bench.dataset import EVENTS_FROM

PORTAL = """query Portal($from: DateTime!) {
  resources(first: 20) {
    edges { node { id slug title kind publishedAt organizations { name } themes { title } } }
  }
  events(first: 10, filter: {from: $from}) {
    edges { node { id slug title startsAt endsAt city online } }
  }
}"""
PORTAL_VARIABLES = {"from": EVENTS_FROM}
PORTAL_100 = PORTAL.replace("resources(first: 20)", "resources(first: 100)")
"""The portal with a page of 100 resources (the growth benchmark compares it with 20)."""

RESOURCE_PAGE = """query ResourcePage($slug: String!) {
  resource(slug: $slug) {
    id title summary body kind kindLabel url publishedAt
    themes { id slug title }
    organizations { id slug name }
    territories { id slug name }
    related(first: 5) { id slug title }
  }
}"""
RESOURCE_PAGE_VARIABLES = {"slug": "ressource-1234"}

SEARCH = """query Search($q: String!) {
  search(query: $q, first: 10) { total hits { __typename } }
}"""
SEARCH_VARIABLES = {"q": "budget participatif"}

MUTATION = """mutation Touch($id: ID!, $description: String!) {
  updateOrganization(id: $id, input: {description: $description}) {
    organization { id description } errors { field code message }
  }
}"""
