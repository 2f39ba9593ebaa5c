"""From opening a voting round to a started shared project, through GraphQL."""

from __future__ import annotations

import datetime as dt

import pytest
from tortoise.expressions import Subquery

from services.accounts import service as accounts
from tests.conftest import USER_ERRORS, user_error, user_errors
from tests.unique import unique_tag


@pytest.fixture(scope="module", autouse=True)
async def _leave_no_public_rows_behind(database):
    """Rounds, projects and themes made here are public: remove them afterwards so that
    the list tests still see the demo data only."""
    yield
    from services.accounts.models import Account
    from services.projects.models import SharedProject
    from services.territories.models import Territory
    from services.themes.models import Theme
    from services.votes.models import VotingRound

    themes = Theme.filter(slug__startswith="theme-candidat-")
    await SharedProject.filter(theme_id__in=Subquery(themes.values("id"))).delete()
    await VotingRound.filter(candidates__theme__slug__startswith="theme-candidat-").delete()
    await themes.delete()
    await Account.filter(email__endswith="@villes.test").delete()
    await Territory.filter(slug__startswith="ville-").delete()


ROUND = """mutation($input: VotingRoundInput!) { openVotingRound(input: $input) {
    votingRound { id isOpen ranking { theme { slug } votes rank } } errors { code field } } }"""
VOTE = f"""mutation($r: ID!, $t: ID!) {{ castVote(round: $r, theme: $t) {{
    votingRound {{ ranking {{ theme {{ id }} votes rank }}
      votes {{ territory {{ slug }} theme {{ slug }} }} }}
    {USER_ERRORS} }} }}"""


async def _member_headers(slug_suffix: str) -> tuple[str, dict[str, str]]:
    from services.territories.models import Territory

    tag = unique_tag(8)
    territory = await Territory.create(
        slug=f"ville-{tag}-{slug_suffix}", name=f"Ville {tag}", level="COMMUNE"
    )
    account = await accounts.create_account(
        f"{tag}@villes.test",
        password="x" * 12,
        role="LOCAL_AUTHORITY",
        territory_slug=territory.slug,
    )
    token = await accounts.issue_token(account)
    return territory.slug, {"Authorization": f"Bearer {token}"}


async def _themes(gql, editor) -> list[dict]:
    ids = []
    for i in range(3):
        created = await gql.data(
            """mutation($t: String!) { createTheme(input: {title: $t}) {
                theme { id slug version } } }""",
            {"t": f"Thème candidat {unique_tag(6)} {i}"},
            headers=editor,
        )
        theme = created["createTheme"]["theme"]
        await gql.data(
            "mutation($id: ID!, $v: Int!) { publish(id: $id, version: $v) { node { id } } }",
            {"id": theme["id"], "v": theme["version"]},
            headers=editor,
        )
        ids.append(theme)
    return ids


async def test_round_to_started_project(gql, principals):
    editor = principals["EDITOR"]
    themes = await _themes(gql, editor)
    now = dt.datetime.now(dt.UTC)
    opened = (
        await gql.data(
            ROUND,
            {
                "input": {
                    "title": "Quelles priorités pour 2027 ?",
                    "opensAt": (now - dt.timedelta(minutes=5)).isoformat(),
                    "closesAt": (now + dt.timedelta(days=30)).isoformat(),
                    "candidates": [t["id"] for t in themes],
                }
            },
            headers=editor,
        )
    )["openVotingRound"]["votingRound"]
    assert opened["isOpen"] is True
    members = [await _member_headers(str(i)) for i in range(4)]
    # Three authorities vote for theme 0, one for theme 1.
    for i, (_, headers) in enumerate(members):
        theme = themes[0] if i < 3 else themes[1]
        voted = await gql.data(VOTE, {"r": opened["id"], "t": theme["id"]}, headers=headers)
        # Each member sees its own authority's vote only.
        assert [v["theme"]["slug"] for v in voted["castVote"]["votingRound"]["votes"]] == [
            theme["slug"]
        ]
    ranking = (
        await gql.data(
            """query($id: ID!) { node(id: $id) { ... on VotingRound {
            ranking { theme { slug } votes rank } votes { theme { slug } } } } }""",
            {"id": opened["id"]},
        )
    )["node"]
    assert ranking["ranking"][0] == {"theme": {"slug": themes[0]["slug"]}, "votes": 3, "rank": 1}
    assert ranking["votes"] == []  # anonymous: nobody's votes
    closed = (
        await gql.data(
            """mutation($r: ID!) { closeVotingRound(round: $r) {
                votingRound { isOpen winner { slug } } } }""",
            {"r": opened["id"]},
            headers=editor,
        )
    )["closeVotingRound"]["votingRound"]
    assert closed == {"isOpen": False, "winner": {"slug": themes[0]["slug"]}}
    project = (
        await gql.data(
            """query($t: [ID!]) { sharedProjects(filter: {themes: $t, statuses: [DRAFT]}) {
            nodes { id status title } } }""",
            {"t": [themes[0]["id"]]},
            headers=editor,
        )
    )["sharedProjects"]["nodes"][0]
    assert project["status"] == "DRAFT"
    await gql.data(
        "mutation($id: ID!) { openSharedProject(id: $id) { sharedProject { status } } }",
        {"id": project["id"]},
        headers=editor,
    )
    memberships = []
    for _, headers in members[:3]:
        applied = await gql.data(
            """mutation($p: ID!) {
                applyToProject(project: $p, role: PARTICIPANT) { membership { id status } } }""",
            {"p": project["id"]},
            headers=headers,
        )
        memberships.append(applied["applyToProject"]["membership"]["id"])
    observer = await gql.data(
        """mutation($p: ID!) { applyToProject(project: $p, role: OBSERVER) {
            membership { status } } }""",
        {"p": project["id"]},
        headers=members[3][1],
    )
    assert observer["applyToProject"]["membership"]["status"] == "CONFIRMED"
    too_early = await gql(
        f"""mutation($id: ID!) {{ startSharedProject(id: $id) {{
            sharedProject {{ status }} {USER_ERRORS} }} }}""",
        {"id": project["id"]},
        headers=editor,
    )
    assert user_error(too_early, "startSharedProject")[0] == "NOT_ENOUGH_PARTICIPANTS"
    for membership in memberships:
        await gql.data(
            "mutation($id: ID!) { confirmMembership(id: $id) { membership { status } } }",
            {"id": membership},
            headers=editor,
        )
    started = (
        await gql.data(
            """mutation($id: ID!) { startSharedProject(id: $id, startsOn: "2027-01-04",
            endsOn: "2027-10-04") { sharedProject { status startsOn endsOn
            participants { territory { slug } } observers { territory { slug } }
            stages { kind startsOn endsOn territory { slug } } } } }""",
            {"id": project["id"]},
            headers=editor,
        )
    )["startSharedProject"]["sharedProject"]
    assert started["status"] == "ENGAGEMENT"
    assert len(started["participants"]) == 3 and len(started["observers"]) == 1
    assert [s["kind"] for s in started["stages"]] == [
        "ENGAGEMENT",
        "DIAGNOSTIC",
        "DIAGNOSTIC",
        "DIAGNOSTIC",
        "ACTION_PLANS",
        "EVALUATION",
    ]


async def test_vote_errors_through_graphql(gql, principals):
    editor = principals["EDITOR"]
    themes = await _themes(gql, editor)
    now = dt.datetime.now(dt.UTC)
    opened = (
        await gql.data(
            ROUND,
            {
                "input": {
                    "title": "Tour fermé",
                    "opensAt": (now + dt.timedelta(days=1)).isoformat(),
                    "closesAt": (now + dt.timedelta(days=2)).isoformat(),
                    "candidates": [t["id"] for t in themes[:2]],
                }
            },
            headers=editor,
        )
    )["openVotingRound"]["votingRound"]
    _, member = await _member_headers("x")
    body = await gql(VOTE, {"r": opened["id"], "t": themes[0]["id"]}, headers=member)
    assert user_error(body, "castVote") == ("ROUND_NOT_OPEN", "round")
    body = await gql(VOTE, {"r": opened["id"], "t": themes[0]["id"]}, headers=principals["PARTNER"])
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await gql(VOTE, {"r": opened["id"], "t": themes[0]["id"]})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_round_opens_now_for_a_week_in_relative_terms(gql, principals):
    editor = principals["EDITOR"]
    themes = await _themes(gql, editor)
    before = dt.datetime.now(dt.UTC)
    opened = (
        await gql.data(
            """mutation($c: [ID!]!) { openVotingRound(input: {title: "Tour relatif",
              opensAt: "now", closesAt: "P7D", candidates: $c}) {
                votingRound { isOpen opensAt closesAt } errors { code } } }""",
            {"c": [t["id"] for t in themes[:2]]},
            headers=editor,
        )
    )["openVotingRound"]["votingRound"]
    opens = dt.datetime.fromisoformat(opened["opensAt"])
    assert opened["isOpen"] is True
    assert before <= opens <= dt.datetime.now(dt.UTC)
    assert dt.datetime.fromisoformat(opened["closesAt"]) - opens == dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("opens_at", "closes_at", "code"),
    [
        ("now", "2021-06-30T18:00:00+02:00", "CLOSES_IN_PAST"),
        ("P7D", "P1D", "CLOSES_BEFORE_OPENING"),
        ("now", "7 jours", "BAD_USER_INPUT"),
        ("demain", "P7D", "BAD_USER_INPUT"),
    ],
)
async def test_a_round_that_could_take_no_vote_is_refused_with_a_code(
    gql, principals, opens_at, closes_at, code
):
    editor = principals["EDITOR"]
    themes = await _themes(gql, editor)
    title = f"Impossible {unique_tag(6)}"
    body = await gql(
        ROUND,
        {
            "input": {
                "title": title,
                "opensAt": opens_at,
                "closesAt": closes_at,
                "candidates": [t["id"] for t in themes[:2]],
            }
        },
        headers=editor,
    )
    if code == "BAD_USER_INPUT":  # a moment that cannot be read: refused with the variables
        assert body["errors"][0]["extensions"]["code"] == code, body
    else:  # a round that could take no vote: refused as data
        assert user_error(body, "openVotingRound")[0] == code, body
    rounds = await gql.data("{ votingRounds(first: 100) { nodes { title } } }", headers=editor)
    assert title not in [r["title"] for r in rounds["votingRounds"]["nodes"]]


async def test_every_bad_field_of_a_round_is_reported_at_once(gql, principals):
    editor = principals["EDITOR"]
    themes = await _themes(gql, editor)
    title = f"Tout faux {unique_tag(6)}"
    body = await gql(
        """mutation($input: VotingRoundInput!) { openVotingRound(input: $input) {
            votingRound { id } errors { field code } } }""",
        {
            "input": {
                "title": title,
                "opensAt": "now",
                "closesAt": "2021-06-30T18:00:00+02:00",
                "votesPerTerritory": 50,
                "candidates": [themes[0]["id"]],
            }
        },
        headers=editor,
    )
    errors = user_errors(body, "openVotingRound")
    assert [(e["field"][-1], e["code"]) for e in errors] == [
        ("closesAt", "CLOSES_IN_PAST"),
        ("votesPerTerritory", "BAD_USER_INPUT"),
        ("candidates", "BAD_USER_INPUT"),
    ]
    rounds = await gql.data("{ votingRounds(first: 100) { nodes { title } } }", headers=editor)
    assert title not in [r["title"] for r in rounds["votingRounds"]["nodes"]]
