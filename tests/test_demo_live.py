"""`tec demo`'s live layer, dated from the day it runs: a round open now over the seeds'
candidate themes, a next theme, upcoming events on themes, so the agenda and the themes'
calendar feeds have something coming; `tec rounds close-due` then closes a past month's
round with a sentence an operator reads."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.live import live_server

pytestmark = pytest.mark.heavy

PARIS = ZoneInfo("Europe/Paris")


def _upcoming(server, path: str) -> list[str]:
    response = server.http.get(path)
    assert response.status_code == 200, (path, response.text)
    today = dt.datetime.now(PARIS).date()
    titles = []
    for event in Calendar.from_ical(response.content).walk("VEVENT"):
        starts = event.decoded("DTSTART")
        day = starts.astimezone(PARIS).date() if isinstance(starts, dt.datetime) else starts
        if day >= today:
            titles.append(str(event["SUMMARY"]))
    return titles


def test_the_demo_is_alive_today(tmp_path):
    with live_server(tmp_path) as server:
        data = server.graphql(
            """{ votingRounds(first: 10) { nodes { title isOpen ranking { votes } } }
                 nextTheme { slug title } currentTheme { slug } }"""
        )["data"]
        open_rounds = [r for r in data["votingRounds"]["nodes"] if r["isOpen"]]
        assert len(open_rounds) == 1
        assert (
            len(open_rounds[0]["ranking"]) == 5
            and sum(e["votes"] for e in open_rounds[0]["ranking"]) > 0
        )

        agenda = _upcoming(server, "/events.ics")
        assert len(agenda) >= 3, agenda
        for slug in (data["nextTheme"]["slug"], data["currentTheme"]["slug"]):
            assert _upcoming(server, f"/themes/{slug}/events.ics"), slug

        # Loading again the same day creates nothing.
        assert "New rows: none" in server.tec("demo")

        # A layer dated two months back holds a round closed since: the scheduler's command
        # closes it and names its winner in English.
        past = dt.datetime.now(PARIS).date() - dt.timedelta(days=62)
        server.tec("demo", "--today", past.isoformat())
        said = server.tec("rounds", "close-due")
    assert said.startswith('Closed "Votez pour les thématiques'), said
    assert 'won by "' in said and "now a draft shared project" in said
    assert "None" not in said and "«" not in said
