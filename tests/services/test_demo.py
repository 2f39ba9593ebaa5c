"""The demo data loads once: a second load finds every row and creates none."""

from __future__ import annotations

from tortoise import Tortoise

from services.demo.loader import demo_order, load_demo, read_demo_data
from services.events.models import Event


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


def test_every_list_of_the_demo_file_is_loaded_by_a_content_type():
    loaded = {content.demo.key for content in demo_order()}
    # The seeds' newsletters and the live layer are loaded by services/demo itself.
    assert set(read_demo_data()) - loaded == {"newsletters", "live"}


def test_each_content_type_loads_after_the_ones_it_refers_to():
    order = [content.name for content in demo_order()]
    for content in demo_order():
        assert all(order.index(name) < order.index(content.name) for name in content.demo.after)


async def test_every_slug_of_the_demo_file_is_in_the_database(database):
    data = read_demo_data()
    for content in demo_order():
        expected = {row["slug"] for row in data[content.demo.key]}
        found = set(
            await content.model.filter(slug__in=list(expected)).values_list("slug", flat=True)
        )
        assert found == expected, (content.name, expected - found)


async def test_links_of_the_demo_file_are_loaded(database):
    data = read_demo_data()
    rennes = next(e for e in data["events"] if e["city"] == "Rennes")
    event = await Event.get(slug=rennes["slug"]).prefetch_related("organizer_links__organization")
    assert {link.organization.slug for link in event.organizer_links} == set(rennes["organizers"])
