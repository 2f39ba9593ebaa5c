"""Voting rounds: the rules local authorities and editors meet."""

from __future__ import annotations

import datetime as dt

import pytest

from services.errors import BadUserInput, Forbidden, NotFound
from services.moments import parse_moment
from services.projects.models import ProjectStatus, SharedProject
from services.territories.models import Territory
from services.themes.models import Theme
from services.viewer import Role, Viewer
from services.votes import voting
from services.votes.errors import (
    AlreadyVoted,
    NotACandidate,
    RoundClosed,
    RoundNotOpen,
    VoteLimitReached,
)
from services.votes.models import Vote, VotingRound
from tests.unique import unique_tag

pytestmark = pytest.mark.usefixtures("database")

EDITOR = Viewer(role=Role.EDITOR, account_id=None)
NOW = dt.datetime.now(dt.UTC)


async def _themes(n: int) -> list[Theme]:
    tag = unique_tag(8)
    return [
        await Theme.create(slug=f"candidate-{tag}-{i}", title=f"Candidate {tag} {i}")
        for i in range(n)
    ]


async def _territory() -> Territory:
    tag = unique_tag(8)
    return await Territory.create(slug=f"commune-{tag}", name=f"Commune {tag}", level="COMMUNE")


def _member(territory: Territory) -> Viewer:
    return Viewer(role=Role.LOCAL_AUTHORITY, territory_id=territory.id)


async def _round(
    themes: list[Theme],
    *,
    opens: dt.timedelta = dt.timedelta(hours=-1),
    closes: dt.timedelta = dt.timedelta(days=7),
    per_territory: int = 3,
    opened_at: dt.datetime | None = None,
) -> VotingRound:
    return await voting.open_voting_round(
        EDITOR,
        at=opened_at,
        draft=voting.RoundDraft(
            title=f"Tour {unique_tag(6)}",
            opens_at=NOW + opens,
            closes_at=NOW + closes,
            candidate_theme_ids=[t.id for t in themes],
            votes_per_territory=per_territory,
        ),
    )


async def _count(voting_round: VotingRound) -> int:
    return await Vote.filter(round_id=voting_round.id).count()


async def test_a_member_casts_and_withdraws_its_authoritys_votes():
    themes = await _themes(4)
    voting_round, territory = await _round(themes), await _territory()
    member = _member(territory)
    await voting.cast_vote(member, voting_round.id, theme_id=themes[0].id)
    await voting.cast_vote(member, voting_round.id, theme_id=themes[1].id)
    assert await _count(voting_round) == 2
    await voting.withdraw_vote(member, voting_round.id, theme_id=themes[0].id)
    assert await Vote.filter(round_id=voting_round.id).values_list("theme_id", flat=True) == [
        themes[1].id
    ]


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("closed", RoundClosed),
        ("not_open", RoundNotOpen),
        ("not_candidate", NotACandidate),
        ("other_authority", Forbidden),
        ("twice", AlreadyVoted),
        ("limit", VoteLimitReached),
    ],
)
async def test_bad_votes_are_refused_with_a_code_and_change_nothing(case, error):
    themes = await _themes(4)
    territory = await _territory()
    member = _member(territory)
    if case == "closed":
        voting_round = await _round(
            themes,
            opens=dt.timedelta(days=-3),
            closes=dt.timedelta(days=-1),
            opened_at=NOW - dt.timedelta(days=3),
        )
    elif case == "not_open":
        voting_round = await _round(themes, opens=dt.timedelta(days=1))
    else:
        voting_round = await _round(themes, per_territory=2)
    theme_id, territory_id = themes[0].id, None
    if case == "not_candidate":
        theme_id = (await _themes(1))[0].id
    if case == "other_authority":
        territory_id = (await _territory()).id
    if case == "twice":
        await voting.cast_vote(member, voting_round.id, theme_id=themes[0].id)
    if case == "limit":
        await voting.cast_vote(member, voting_round.id, theme_id=themes[1].id)
        await voting.cast_vote(member, voting_round.id, theme_id=themes[2].id)
    before = await _count(voting_round)
    with pytest.raises(error) as caught:
        await voting.cast_vote(
            member, voting_round.id, theme_id=theme_id, territory_id=territory_id
        )
    assert caught.value.code == error.code
    assert await _count(voting_round) == before


async def test_only_members_of_a_local_authority_vote():
    themes = await _themes(2)
    voting_round = await _round(themes)
    with pytest.raises(Forbidden):
        await voting.cast_vote(EDITOR, voting_round.id, theme_id=themes[0].id)


async def test_round_validation():
    themes = await _themes(2)
    with pytest.raises(BadUserInput) as caught:
        await _round(themes, opens=dt.timedelta(days=2), closes=dt.timedelta(days=1))
    assert caught.value.field == "closesAt"
    with pytest.raises(BadUserInput):
        await _round(themes[:1])


async def test_a_round_opens_now_for_a_duration_counted_from_when_it_is_opened():
    themes = await _themes(2)
    opened = await voting.open_voting_round(
        EDITOR,
        at=NOW,
        draft=voting.RoundDraft(
            title=f"Tour {unique_tag(6)}",
            opens_at=parse_moment("now", field="opensAt"),
            closes_at=parse_moment("P7D", field="closesAt"),
            candidate_theme_ids=[t.id for t in themes],
        ),
    )
    assert (opened.opens_at, opened.closes_at) == (NOW, NOW + dt.timedelta(days=7))
    assert voting.is_open(opened, NOW)


@pytest.mark.parametrize(
    ("opens", "closes", "code"),
    [
        ("now", "2020-01-01T00:00:00+01:00", "CLOSES_IN_PAST"),
        ("P1D", "now", "CLOSES_IN_PAST"),
        ("P7D", "P2D", "CLOSES_BEFORE_OPENING"),
        ("P2D", "P2D", "CLOSES_BEFORE_OPENING"),
    ],
)
async def test_a_round_that_could_take_no_vote_is_refused_with_a_code(opens, closes, code):
    themes = await _themes(2)
    before = await VotingRound.all().count()
    with pytest.raises(BadUserInput) as caught:
        await voting.open_voting_round(
            EDITOR,
            at=NOW,
            draft=voting.RoundDraft(
                title="Impossible",
                opens_at=parse_moment(opens, field="opensAt"),
                closes_at=parse_moment(closes, field="closesAt"),
                candidate_theme_ids=[t.id for t in themes],
            ),
        )
    assert (caught.value.code, caught.value.field) == (code, "closesAt")
    assert await VotingRound.all().count() == before


@pytest.mark.parametrize(
    ("text", "later"),
    [
        ("now", dt.timedelta(0)),
        ("P7D", dt.timedelta(days=7)),
        ("PT12H", dt.timedelta(hours=12)),
        ("P1DT6H30M", dt.timedelta(days=1, hours=6, minutes=30)),
        ("P2W", dt.timedelta(weeks=2)),
    ],
)
def test_relative_moments_count_from_now(text, later):
    assert parse_moment(text, field="closesAt").resolve(NOW) == NOW + later


@pytest.mark.parametrize("text", ["P", "PT", "P1M", "P1Y", "7d", "-P1D", "P1DT", "demain", ""])
def test_unreadable_moments_are_refused_on_their_field(text):
    with pytest.raises(BadUserInput) as caught:
        parse_moment(text, field="closesAt")
    assert caught.value.field == "closesAt"


def test_an_absolute_moment_needs_its_offset():
    at = parse_moment("2027-01-04T09:00:00+01:00", field="opensAt").resolve(NOW)
    assert at == dt.datetime(2027, 1, 4, 8, tzinfo=dt.UTC)
    with pytest.raises(BadUserInput):
        parse_moment("2027-01-04T09:00:00", field="opensAt")


async def test_closing_picks_the_winner_creates_a_draft_project_and_is_idempotent():
    themes = await _themes(3)
    voting_round = await _round(themes)
    for theme, voters in ((themes[0], 1), (themes[1], 2)):
        for _ in range(voters):
            await voting.cast_vote(_member(await _territory()), voting_round.id, theme_id=theme.id)
    closed = await voting.close_voting_round(EDITOR, voting_round.id)
    assert closed.winner_id == themes[1].id
    projects = await SharedProject.filter(voting_round_id=voting_round.id)
    assert len(projects) == 1 and projects[0].status == ProjectStatus.DRAFT
    assert projects[0].theme_id == themes[1].id
    again = await voting.close_voting_round(EDITOR, voting_round.id)
    assert again.closed_at == closed.closed_at
    assert await SharedProject.filter(voting_round_id=voting_round.id).count() == 1
    with pytest.raises(RoundClosed):
        await voting.cast_vote(_member(await _territory()), voting_round.id, theme_id=themes[2].id)


async def test_tie_break_goes_to_the_theme_that_reached_its_score_first():
    themes = await _themes(2)
    voting_round = await _round(themes)
    # themes[1] gets its vote first, then themes[0]: a 1–1 tie won by themes[1].
    await voting.cast_vote(_member(await _territory()), voting_round.id, theme_id=themes[1].id)
    await voting.cast_vote(_member(await _territory()), voting_round.id, theme_id=themes[0].id)
    assert await voting.winner_of(voting_round.id) == themes[1].id


async def test_close_due_rounds_closes_only_rounds_past_their_date():
    themes = await _themes(2)
    due = await _round(
        themes,
        opens=dt.timedelta(days=-3),
        closes=dt.timedelta(seconds=-1),
        opened_at=NOW - dt.timedelta(days=3),
    )
    later = await _round(themes)
    tick = dt.datetime.now(dt.UTC)
    closed = await voting.close_due_rounds(at=tick)
    assert due.id in [r.id for r in closed] and later.id not in [r.id for r in closed]
    assert (await VotingRound.get(id=later.id)).closed_at is None
    settled = await VotingRound.get(id=due.id)
    # The same tick again closes nothing: every round due then is already closed, and the
    # closed one keeps its closing time and winner.
    assert await voting.close_due_rounds(at=tick) == []
    again = await VotingRound.get(id=due.id)
    assert (again.closed_at, again.winner_id) == (settled.closed_at, settled.winner_id)


async def test_round_without_votes_closes_without_winner():
    voting_round = await _round(await _themes(2))
    closed = await voting.close_voting_round(EDITOR, voting_round.id)
    assert closed.winner_id is None
    assert not await SharedProject.filter(voting_round_id=voting_round.id).exists()


async def test_who_voted_for_what_is_private():
    themes = await _themes(2)
    voting_round = await _round(themes)
    mine, theirs = await _territory(), await _territory()
    await voting.cast_vote(_member(mine), voting_round.id, theme_id=themes[0].id)
    await voting.cast_vote(_member(theirs), voting_round.id, theme_id=themes[1].id)
    seen = await voting.list_votes(_member(mine), [voting_round.id])
    assert [v.territory_id for v in seen[voting_round.id]] == [mine.id]
    assert len((await voting.list_votes(EDITOR, [voting_round.id]))[voting_round.id]) == 2
    partner_key = Viewer(
        role=Role.PARTNER, organization_id=1, api_key_id=1, scopes=frozenset({"READ"})
    )
    assert await voting.list_votes(partner_key, [voting_round.id]) == {}


async def test_withdrawing_a_vote_that_does_not_exist():
    themes = await _themes(2)
    voting_round = await _round(themes)
    with pytest.raises(NotFound):
        await voting.withdraw_vote(
            _member(await _territory()), voting_round.id, theme_id=themes[0].id
        )


async def test_the_ranking_as_it_stood_at_a_date(database):
    """A newsletter reads the ranking of its date: votes cast later do not count."""
    from services.votes.service import get_rankings_by_round_ids

    themes = await _themes(3)
    voting_round = await _round(themes)
    first, second = await _territory(), await _territory()
    await voting.cast_vote(_member(first), voting_round.id, theme_id=themes[0].id)
    await voting.cast_vote(_member(second), voting_round.id, theme_id=themes[1].id)
    later = NOW + dt.timedelta(hours=3)
    await Vote.filter(round_id=voting_round.id, territory_id=second.id).update(created_at=later)
    now = (await get_rankings_by_round_ids([voting_round.id]))[voting_round.id]
    assert [(e.rank, e.votes) for e in now] == [(1, 1), (1, 1), (3, 0)]
    before = (await get_rankings_by_round_ids([voting_round.id], at=NOW + dt.timedelta(hours=1)))[
        voting_round.id
    ]
    assert (before[0].theme.id, before[0].rank, before[0].votes) == (themes[0].id, 1, 1)
    assert [(e.rank, e.votes) for e in before[1:]] == [(2, 0), (2, 0)]
