"""Shared projects: applying, confirming, starting, stages, action plans, news."""

from __future__ import annotations

import datetime as dt

import pytest

from services.errors import BadUserInput, Forbidden
from services.projects import editing
from services.projects.errors import (
    AlreadyMember,
    NotEnoughParticipants,
    SeatTaken,
    WrongProjectState,
)
from services.projects.models import (
    Membership,
    MembershipRole,
    MembershipStatus,
    ProjectStage,
    ProjectStatus,
    StageKind,
)
from services.territories.models import Territory
from services.themes.models import Theme
from services.viewer import Role, Viewer
from tests.unique import unique_tag

pytestmark = pytest.mark.usefixtures("database")
EDITOR = Viewer(role=Role.EDITOR)


async def _territories(n: int) -> list[Territory]:
    tag = unique_tag(8)
    return [
        await Territory.create(slug=f"p-{tag}-{i}", name=f"P {tag} {i}", level="COMMUNE")
        for i in range(n)
    ]


def _member(territory: Territory) -> Viewer:
    return Viewer(role=Role.LOCAL_AUTHORITY, territory_id=territory.id)


async def _open_project():
    theme = await Theme.create(slug=f"pt-{unique_tag(8)}", title="Culture")
    project = await editing.create_shared_project(
        EDITOR,
        changes=editing.ProjectChanges(
            title="Co-construire la politique culturelle", theme_id=theme.id
        ),
    )
    assert project.status == ProjectStatus.DRAFT
    return await editing.open_shared_project(EDITOR, project.id)


async def test_from_applications_to_a_started_project_with_dated_stages():
    project = await _open_project()
    territories = await _territories(4)
    memberships = [
        await editing.apply_to_project(_member(t), project.id, role=MembershipRole.PARTICIPANT)
        for t in territories[:3]
    ]
    observer = await editing.apply_to_project(
        _member(territories[3]), project.id, role=MembershipRole.OBSERVER
    )
    assert observer.status == MembershipStatus.CONFIRMED
    with pytest.raises(NotEnoughParticipants):
        await editing.start_shared_project(EDITOR, project.id)
    for m in memberships:
        await editing.decide_membership(EDITOR, m.id, confirm=True)
    start = dt.date(2027, 1, 4)
    started = await editing.start_shared_project(
        EDITOR, project.id, starts_on=start, ends_on=dt.date(2027, 10, 4)
    )
    assert started.status == ProjectStatus.ENGAGEMENT
    stages = await ProjectStage.filter(project_id=project.id).order_by("position")
    assert [s.kind for s in stages] == [
        StageKind.ENGAGEMENT,
        *[StageKind.DIAGNOSTIC] * 3,
        StageKind.ACTION_PLANS,
        StageKind.EVALUATION,
    ]
    assert {s.territory_id for s in stages if s.kind == StageKind.DIAGNOSTIC} == {
        t.id for t in territories[:3]
    }
    assert stages[0].starts_on == start and stages[-1].ends_on == dt.date(2027, 10, 4)
    for expected in (
        ProjectStatus.DIAGNOSTIC,
        ProjectStatus.ACTION_PLANS,
        ProjectStatus.EVALUATION,
        ProjectStatus.COMPLETED,
    ):
        assert (await editing.advance_shared_project(EDITOR, project.id)).status == expected
    with pytest.raises(WrongProjectState):
        await editing.advance_shared_project(EDITOR, project.id)


async def test_six_to_twelve_months():
    project = await _open_project()
    with pytest.raises(BadUserInput) as caught:
        await editing.update_shared_project(
            EDITOR,
            project.id,
            changes=editing.ProjectChanges(
                starts_on=dt.date(2027, 1, 1), ends_on=dt.date(2027, 3, 1)
            ),
        )
    assert caught.value.field == "endsOn"
    with pytest.raises(BadUserInput):
        editing.check_duration(dt.date(2027, 1, 1), dt.date(2028, 2, 1))
    editing.check_duration(dt.date(2027, 1, 31), dt.date(2027, 7, 31))


async def test_never_more_than_five_participants_and_observers_unlimited():
    project = await _open_project()
    territories = await _territories(8)
    for t in territories[:5]:
        await editing.apply_to_project(_member(t), project.id, role=MembershipRole.PARTICIPANT)
    with pytest.raises(SeatTaken):
        await editing.apply_to_project(
            _member(territories[5]), project.id, role=MembershipRole.PARTICIPANT
        )
    for t in territories[5:]:
        await editing.apply_to_project(_member(t), project.id, role=MembershipRole.OBSERVER)
    with pytest.raises(AlreadyMember):
        await editing.apply_to_project(
            _member(territories[0]), project.id, role=MembershipRole.OBSERVER
        )
    # Declining an application frees its seat.
    first = await Membership.get(project_id=project.id, territory_id=territories[0].id)
    await editing.decide_membership(EDITOR, first.id, confirm=False)
    newcomer = (await _territories(1))[0]
    await editing.apply_to_project(_member(newcomer), project.id, role=MembershipRole.PARTICIPANT)


async def test_only_its_own_authority_or_editors_write_an_action_plan():
    project = await _open_project()
    mine, other = await _territories(2)
    membership = await editing.apply_to_project(
        _member(mine), project.id, role=MembershipRole.PARTICIPANT
    )
    updated = await editing.update_membership(
        _member(mine),
        membership.id,
        action_plan="<p>Plan <script>x</script></p>",
        diagnostic_notes="<p>Notes</p>",
    )
    assert updated.action_plan == "<p>Plan </p>"
    with pytest.raises(Forbidden):
        await editing.update_membership(_member(other), membership.id, action_plan="<p>Non</p>")
    assert editing.can_read_notes(_member(mine), mine.id)
    assert not editing.can_read_notes(_member(other), mine.id)
    assert editing.can_read_notes(EDITOR, mine.id)


async def test_news_items():
    project = await _open_project()
    news = await editing.publish_project_news(
        EDITOR, project.id, title="Lancement", body="<p>Première rencontre à Niort</p>"
    )
    assert news.published_at is not None
    with pytest.raises(Forbidden):
        await editing.publish_project_news(
            _member((await _territories(1))[0]), project.id, title="Non", body=""
        )
