"""Races that several app processes could run into, played for real on PostgreSQL.

Each test fires many concurrent transactions through the connection pool; the rules
hold because of row locks and constraints in the database, not in-process locks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os

import pytest

from services.errors import DomainError
from services.projects import editing
from services.projects.errors import SeatTaken
from services.projects.models import (
    Membership,
    MembershipRole,
    MembershipStatus,
    ProjectStatus,
    SharedProject,
)
from services.territories.models import Territory
from services.themes.models import Theme
from services.viewer import Role, Viewer
from services.votes import voting
from services.votes.errors import RoundClosed
from services.votes.models import Vote
from tests.unique import unique_tag

pytestmark = [
    pytest.mark.usefixtures("database"),
    pytest.mark.skipif(
        not os.environ.get("TEC_TEST_DATABASE_URL"),
        reason="race tests need PostgreSQL (set TEC_TEST_DATABASE_URL); SQLite has one writer",
    ),
]
EDITOR = Viewer(role=Role.EDITOR)


async def _territories(n: int) -> list[Territory]:
    tag = unique_tag(8)
    return [
        await Territory.create(slug=f"race-{tag}-{i}", name=f"Race {tag} {i}", level="COMMUNE")
        for i in range(n)
    ]


async def _themes(n: int) -> list[Theme]:
    tag = unique_tag(8)
    return [await Theme.create(slug=f"race-{tag}-{i}", title=f"Race {tag} {i}") for i in range(n)]


async def _open_round(themes: list[Theme]):
    now = dt.datetime.now(dt.UTC)
    return await voting.open_voting_round(
        EDITOR,
        draft=voting.RoundDraft(
            title=f"Course {unique_tag(6)}",
            opens_at=now - dt.timedelta(hours=1),
            closes_at=now + dt.timedelta(days=1),
            candidate_theme_ids=[t.id for t in themes],
        ),
    )


async def _attempt(coroutine) -> str:
    try:
        await coroutine
    except DomainError as error:
        return error.code
    return "OK"


async def test_fifty_concurrent_votes_of_one_authority_never_exceed_its_allowance():
    themes = await _themes(10)
    voting_round = await _open_round(themes)
    [territory] = await _territories(1)
    member = Viewer(role=Role.LOCAL_AUTHORITY, territory_id=territory.id)
    outcomes = await asyncio.gather(
        *(
            _attempt(voting.cast_vote(member, voting_round.id, theme_id=themes[i % 10].id))
            for i in range(50)
        )
    )
    votes = await Vote.filter(round_id=voting_round.id, territory_id=territory.id).count()
    assert votes == 3 == outcomes.count("OK"), outcomes
    assert set(outcomes) <= {"OK", "ALREADY_VOTED", "VOTE_LIMIT_REACHED"}


async def test_twenty_authorities_race_for_the_last_seat_and_exactly_one_gets_it():
    [theme] = await _themes(1)
    project = await SharedProject.create(
        slug=f"race-{unique_tag(8)}",
        title="Course",
        theme_id=theme.id,
        status=ProjectStatus.OPEN,
    )
    holders = await _territories(4)
    for territory in holders:
        await Membership.create(
            project_id=project.id,
            territory_id=territory.id,
            role=MembershipRole.PARTICIPANT,
            status=MembershipStatus.CONFIRMED,
        )
    applicants = await _territories(20)
    outcomes = await asyncio.gather(
        *(
            _attempt(
                editing.apply_to_project(
                    Viewer(role=Role.LOCAL_AUTHORITY, territory_id=t.id),
                    project.id,
                    role=MembershipRole.PARTICIPANT,
                )
            )
            for t in applicants
        )
    )
    assert outcomes.count("OK") == 1, outcomes
    assert outcomes.count(SeatTaken.code) == 19
    seats = await Membership.filter(
        project_id=project.id, role=MembershipRole.PARTICIPANT, status__in=["APPLIED", "CONFIRMED"]
    ).count()
    assert seats == 5


async def test_a_close_racing_with_votes_never_loses_a_vote_silently():
    themes = await _themes(5)
    voting_round = await _open_round(themes)
    territories = await _territories(30)
    votes = [
        _attempt(
            voting.cast_vote(
                Viewer(role=Role.LOCAL_AUTHORITY, territory_id=t.id),
                voting_round.id,
                theme_id=themes[i % 5].id,
            )
        )
        for i, t in enumerate(territories)
    ]
    # The close is thrown in the middle of the votes.
    outcomes = await asyncio.gather(
        *votes[:15], _attempt(voting.close_voting_round(EDITOR, voting_round.id)), *votes[15:]
    )
    close_outcome = outcomes.pop(15)
    assert close_outcome == "OK"
    counted = await Vote.filter(round_id=voting_round.id).count()
    # Every vote was either counted or refused as ROUND_CLOSED — nothing in between.
    assert outcomes.count("OK") == counted
    assert outcomes.count("OK") + outcomes.count(RoundClosed.code) == 30, outcomes
    closed = await voting.close_voting_round(EDITOR, voting_round.id)
    assert closed.winner_id == await voting.winner_of(voting_round.id)


async def test_a_territory_deleted_while_it_votes_never_loses_the_vote_silently():
    # Votes go with their territory (ON DELETE CASCADE): deleting one that votes at that
    # very moment must either refuse (the vote counted) or make the vote fail.
    from services.editing import delete_content
    from services.territories.content_type import TERRITORY

    themes = await _themes(2)
    voting_round = await _open_round(themes)
    outcomes = []
    for territory in await _territories(20):
        member = Viewer(role=Role.LOCAL_AUTHORITY, territory_id=territory.id)
        voted, deleted = await asyncio.gather(
            _attempt(voting.cast_vote(member, voting_round.id, theme_id=themes[0].id)),
            _attempt(delete_content(EDITOR, TERRITORY, territory.id, version=None)),
        )
        outcomes.append((voted, deleted))
        kept = await Territory.exists(id=territory.id)
        votes = await Vote.filter(round_id=voting_round.id, territory_id=territory.id).count()
        assert (voted, deleted, kept, votes) in {
            ("OK", "CONFLICT", True, 1),
            ("CONFLICT", "OK", False, 0),
        }, outcomes
