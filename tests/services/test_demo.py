"""The demo data loads once: a second load finds every row and creates none."""

from __future__ import annotations

from tortoise import Tortoise

from services.concepts.models import Concept
from services.demo.loader import load_demo, read_demo_data
from services.events.models import Event
from services.organizations.models import Organization
from services.projects.models import SharedProject
from services.resources.models import Resource
from services.territories.models import Territory
from services.themes.models import Theme
from services.votes.models import VotingRound


async def _row_counts() -> dict[str, int]:
    models = Tortoise.apps["models"].values()
    return {model.__name__: await model.all().count() for model in models}


async def test_loading_again_creates_nothing(database):
    before = await _row_counts()
    assert before["Resource"] >= 30 and before["EventOrganizer"] > 0
    counts = await load_demo()
    assert await _row_counts() == before
    assert not {k: v for k, v in counts.items() if k.endswith("+")}
    assert counts["Resource"] == len(read_demo_data()["resources"])


async def test_every_slug_of_the_demo_file_is_in_the_database(database):
    data = read_demo_data()
    for key, model in [
        ("organizations", Organization),
        ("territories", Territory),
        ("themes", Theme),
        ("concepts", Concept),
        ("resources", Resource),
        ("events", Event),
        ("voting_rounds", VotingRound),
        ("shared_projects", SharedProject),
    ]:
        expected = {row["slug"] for row in data[key]}
        found = set(await model.filter(slug__in=list(expected)).values_list("slug", flat=True))
        assert found == expected, (key, expected - found)


async def test_links_of_the_demo_file_are_loaded(database):
    data = read_demo_data()
    rennes = next(e for e in data["events"] if e["city"] == "Rennes")
    event = await Event.get(slug=rennes["slug"]).prefetch_related("organizer_links__organization")
    assert {link.organization.slug for link in event.organizer_links} == set(rennes["organizers"])
