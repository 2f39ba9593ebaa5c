"""Links of newsletters: content to the partner portal (one setting per kind of page), the
issue's pages and the signed links to the gateway."""

from __future__ import annotations

import pytest

from mailer.links import issue_links, item_link, preferences_url, unsubscribe_url
from services.settings import Settings

PORTAL = Settings(
    portal_url="https://portail.example/",
    portal_resource_path="/fiches/{slug}",
    public_url="https://api.example",
)


def test_an_item_links_to_its_own_address_else_to_its_portal_page():
    own = {"__typename": "Resource", "slug": "guide", "url": "https://ailleurs.example/guide"}
    assert item_link(PORTAL, own) == "https://ailleurs.example/guide"
    assert item_link(PORTAL, {"__typename": "Resource", "slug": "guide"}) == (
        "https://portail.example/fiches/guide"
    )
    event = {"__typename": "Event", "slug": "salon", "registrationUrl": None}
    assert item_link(PORTAL, event) == "https://portail.example/agenda/salon"
    assert item_link(PORTAL, {"__typename": "SharedProject", "slug": "p"}) == (
        "https://portail.example/projets-partages/p"
    )
    assert item_link(PORTAL, {"__typename": "VotingRound", "slug": "r"}) == (
        "https://portail.example/votes/r"
    )
    assert item_link(PORTAL, {"__typename": "Resource", "slug": "a b/c"}) == (
        "https://portail.example/fiches/a%20b%2Fc"
    )
    assert item_link(PORTAL, {"__typename": "Territory", "slug": "niort"}) is None


def test_the_issues_pages_and_signed_links_stay_on_the_gateway():
    links = issue_links(PORTAL, "2022-11")
    assert links["view_in_browser"] == "https://api.example/newsletters/2022-11"
    assert links["archive"] == "https://api.example/newsletters"
    assert links["contribute"] == "https://portail.example/ressources/proposer"
    assert links["home"] == "https://portail.example/"
    assert links["contact"] == "mailto:editorialisation@territoires-en-commun.fr"
    assert unsubscribe_url(PORTAL, "t") == "https://api.example/newsletters/unsubscribe?token=t"
    assert preferences_url(PORTAL, "t") == "https://api.example/newsletters/preferences?token=t"
    moved = PORTAL.replace(**{"portal_preferences_path": "/abonnement?jeton={token}"})
    assert preferences_url(moved, "a.b") == "https://portail.example/abonnement?jeton=a.b"


@pytest.mark.parametrize(
    "values",
    [
        {"portal_url": "portail.example"},
        {"portal_resource_path": "/ressources"},
        {"portal_event_path": "agenda/{slug}"},
        {"portal_contribution_path": "proposer"},
        {"portal_preferences_path": "/preferences"},
    ],
)
def test_portal_settings_are_checked(values):
    with pytest.raises(ValueError, match="TEC_PORTAL"):
        Settings(**values)
