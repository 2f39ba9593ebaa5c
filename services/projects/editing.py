"""Shared projects: editors create and run them, local authorities apply to them.

Life cycle: DRAFT (editors only) → OPEN (public, applications) → ENGAGEMENT (started:
3 to 5 confirmed participants) → DIAGNOSTIC → ACTION_PLANS → EVALUATION → COMPLETED.

Seats: a participant's application takes a seat at once (an application and a
confirmed place both count), so that a project never holds more than 5 participants.
Every membership write first locks the project's row (``SELECT … FOR UPDATE``): 20
authorities applying at once for the last seat are served one after the other and
exactly one gets it, whatever the number of app processes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from services.editing import check_exist, note_change, now, replace_links, write_transaction
from services.errors import BadUserInput, Forbidden, NotFound, Problems
from services.fields import Link
from services.organizations.models import Organization
from services.policy import authorize
from services.projects.errors import (
    AlreadyMember,
    NotEnoughParticipants,
    SeatTaken,
    WrongProjectState,
)
from services.projects.models import (
    MAX_PARTICIPANTS,
    MIN_PARTICIPANTS,
    Membership,
    MembershipRole,
    MembershipStatus,
    ProjectNews,
    ProjectProvider,
    ProjectResource,
    ProjectStage,
    ProjectStatus,
    SharedProject,
    StageKind,
)
from services.resources.models import Resource
from services.themes.models import Theme
from services.validation import (
    BODY_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    clean_rich_text,
    clean_text,
    unique_slug,
)
from services.viewer import Viewer

ACTIVE = (MembershipStatus.APPLIED, MembershipStatus.CONFIRMED)
NEXT_STATUS = {
    ProjectStatus.ENGAGEMENT: ProjectStatus.DIAGNOSTIC,
    ProjectStatus.DIAGNOSTIC: ProjectStatus.ACTION_PLANS,
    ProjectStatus.ACTION_PLANS: ProjectStatus.EVALUATION,
    ProjectStatus.EVALUATION: ProjectStatus.COMPLETED,
}
MIN_MONTHS, MAX_MONTHS = 6, 12


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = [
        31,
        29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month - 1]
    return day.replace(year=year, month=month, day=min(day.day, last))


def check_duration(starts_on: dt.date | None, ends_on: dt.date | None) -> None:
    """The accompaniment lasts 6 to 12 months (unchecked while a date is unknown)."""
    if starts_on is None or ends_on is None:
        return
    if not _add_months(starts_on, MIN_MONTHS) <= ends_on <= _add_months(starts_on, MAX_MONTHS):
        raise BadUserInput(
            "Un projet partagé dure de 6 à 12 mois : ajustez la date de fin.", field="endsOn"
        )


async def _locked_project(project_id: int) -> SharedProject:
    found = await SharedProject.filter(id=project_id).select_for_update().first()
    if found is None:
        raise NotFound("Projet partagé introuvable.", field="project")
    return found


@dataclass
class ProjectChanges:
    title: str | None = None
    summary: str | None = None
    theme_id: int | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    provider_ids: Sequence[int] | None = None
    resource_ids: Sequence[int] | None = None


async def _clean(
    changes: ProjectChanges, *, creating: bool, dates: tuple[dt.date | None, dt.date | None]
) -> tuple[dict[str, object], dict[str, list[int]]]:
    """The checked values of ``changes`` (title, summary, theme, dates) and its links
    (providers, resources), every field checked before any is refused. ``dates``: the
    start and end the project will have, for the duration rule."""
    problems = Problems()
    values: dict[str, object] = {}
    if changes.title is not None or creating:
        title = changes.title or ""
        values["title"] = problems.check(
            lambda: clean_text(title, field="title", max_length=TITLE_MAX)
        )
    if changes.summary is not None or creating:
        summary = changes.summary or ""
        values["summary"] = problems.check(
            lambda: clean_text(summary, field="summary", max_length=SUMMARY_MAX, required=False)
        )
    if creating:
        if changes.theme_id is None or not await Theme.filter(id=changes.theme_id).exists():
            problems.add(BadUserInput("Thématique inconnue.", field="theme"))
        values["theme_id"] = changes.theme_id
    problems.check(lambda: check_duration(*dates))
    links: dict[str, list[int]] = {}
    for name, model, ids in (
        ("providers", Organization, changes.provider_ids),
        ("resources", Resource, changes.resource_ids),
    ):
        if ids is not None:
            found = await problems.check_async(partial(check_exist, model, ids, field=name))
            if found is not None:
                links[name] = found
    problems.raise_any()
    return values, links


async def create_shared_project(viewer: Viewer, *, changes: ProjectChanges) -> SharedProject:
    """A draft project on a theme (a closed round creates one for its winner too)."""
    authorize(viewer, "project.create")
    values, links = await _clean(changes, creating=True, dates=(changes.starts_on, changes.ends_on))
    async with write_transaction():
        project = await SharedProject.create(
            slug=await unique_slug(SharedProject, str(values["title"])),
            starts_on=changes.starts_on,
            ends_on=changes.ends_on,
            **values,
        )
        await _links(project, links)
        await note_change(viewer, "project.create", project, {"title": [None, values["title"]]})
    return project


async def _links(project: SharedProject, links: dict[str, list[int]]) -> dict[str, list[object]]:
    """Replace the project's providers and resources given in ``links`` (checked ids)."""
    changed: dict[str, list[object]] = {}
    for name, link in (
        ("providers", Link(ProjectProvider, "project_id", "organization_id")),
        ("resources", Link(ProjectResource, "project_id", "resource_id")),
    ):
        if name in links:
            before = await replace_links(link, project.id, links[name])
            if before is not None:
                changed[name] = [before, sorted(links[name])]
    return changed


async def update_shared_project(
    viewer: Viewer, project_id: int, *, changes: ProjectChanges
) -> SharedProject:
    """Change a project's text, dates, providers or linked resources."""
    authorize(viewer, "project.update")
    async with write_transaction():
        project = await _locked_project(project_id)
        starts = changes.starts_on or project.starts_on
        ends = changes.ends_on or project.ends_on
        values, links = await _clean(changes, creating=False, dates=(starts, ends))
        diff: dict[str, list[object]] = {
            name: [getattr(project, name), value] for name, value in values.items()
        }
        project.update_from_dict({**values, "starts_on": starts, "ends_on": ends})
        await project.save()
        diff.update(await _links(project, links))
        await note_change(viewer, "project.update", project, diff)
    return project


async def open_shared_project(viewer: Viewer, project_id: int) -> SharedProject:
    """Make a draft public and open it to applications."""
    authorize(viewer, "project.update")
    async with write_transaction():
        project = await _locked_project(project_id)
        if project.status != ProjectStatus.DRAFT:
            raise WrongProjectState("Seul un brouillon peut être ouvert aux candidatures.")
        project.status = ProjectStatus.OPEN
        await project.save(update_fields=["status", "updated_at"])
        await note_change(viewer, "project.open", project, {"status": ["DRAFT", "OPEN"]})
    return project


def _own_territory(viewer: Viewer, territory_id: int | None) -> int:
    if viewer.territory_id is None:
        raise Forbidden("Seuls les membres d'une collectivité candidatent.")
    if territory_id is not None and territory_id != viewer.territory_id:
        raise Forbidden(
            "Vous ne pouvez agir que pour votre propre collectivité.", field="territory"
        )
    return viewer.territory_id


async def apply_to_project(
    viewer: Viewer, project_id: int, *, role: MembershipRole, territory_id: int | None = None
) -> Membership:
    """The viewer's authority applies as participant (a seat, 5 at most) or observer."""
    authorize(viewer, "project.apply")
    territory = _own_territory(viewer, territory_id)
    role = MembershipRole(role)
    async with write_transaction():
        project = await _locked_project(project_id)
        accepting = (
            {ProjectStatus.OPEN}
            if role == MembershipRole.PARTICIPANT
            else {
                ProjectStatus.OPEN,
                ProjectStatus.ENGAGEMENT,
                ProjectStatus.DIAGNOSTIC,
                ProjectStatus.ACTION_PLANS,
                ProjectStatus.EVALUATION,
            }
        )
        if project.status not in accepting:
            raise WrongProjectState("Ce projet ne reçoit pas de candidature de ce type.")
        existing = await Membership.filter(project_id=project_id, territory_id=territory).first()
        if existing is not None and existing.status in ACTIVE:
            raise AlreadyMember("Votre collectivité est déjà membre de ce projet.")
        if role == MembershipRole.PARTICIPANT:
            taken = await Membership.filter(
                project_id=project_id, role=role, status__in=list(ACTIVE)
            ).count()
            if taken >= MAX_PARTICIPANTS:
                raise SeatTaken(
                    f"Les {MAX_PARTICIPANTS} places de participante sont prises ; vous pouvez "
                    "suivre le projet comme observatrice."
                )
        status = (
            MembershipStatus.CONFIRMED
            if role == MembershipRole.OBSERVER
            else MembershipStatus.APPLIED
        )
        if existing is None:
            membership = await Membership.create(
                project_id=project_id, territory_id=territory, role=role, status=status
            )
        else:
            existing.role, existing.status, existing.confirmed_at = role, status, None
            await existing.save()
            membership = existing
        await note_change(
            viewer,
            "project.apply",
            membership,
            {"role": [None, role.value], "status": [None, status.value]},
        )
    return membership


async def _locked_membership(membership_id: int) -> tuple[SharedProject, Membership]:
    membership = await Membership.filter(id=membership_id).first()
    if membership is None:
        raise NotFound("Adhésion introuvable.", field="membership")
    project = await _locked_project(membership.project_id)  # type: ignore[attr-defined]
    await membership.refresh_from_db()
    return project, membership


async def withdraw_from_project(viewer: Viewer, project_id: int) -> Membership:
    """The viewer's authority leaves a project (its seat is freed)."""
    authorize(viewer, "project.withdraw")
    territory = _own_territory(viewer, None)
    async with write_transaction():
        await _locked_project(project_id)
        membership = await Membership.filter(
            project_id=project_id, territory_id=territory, status__in=list(ACTIVE)
        ).first()
        if membership is None:
            raise NotFound("Votre collectivité n'est pas membre de ce projet.")
        before = membership.status.value
        membership.status = MembershipStatus.WITHDRAWN
        await membership.save(update_fields=["status", "updated_at"])
        await note_change(viewer, "project.withdraw", membership, {"status": [before, "WITHDRAWN"]})
    return membership


async def decide_membership(viewer: Viewer, membership_id: int, *, confirm: bool) -> Membership:
    """Editors confirm (or decline, freeing the seat) an application."""
    authorize(viewer, "project.decide")
    async with write_transaction():
        _, membership = await _locked_membership(membership_id)
        if membership.status != MembershipStatus.APPLIED:
            raise WrongProjectState("Seule une candidature en attente se confirme ou se décline.")
        membership.status = MembershipStatus.CONFIRMED if confirm else MembershipStatus.DECLINED
        membership.confirmed_at = now() if confirm else None
        await membership.save()
        await note_change(
            viewer,
            "project.confirm" if confirm else "project.decline",
            membership,
            {"status": ["APPLIED", membership.status.value]},
        )
    return membership


async def start_shared_project(
    viewer: Viewer,
    project_id: int,
    *,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> SharedProject:
    """Start the accompaniment: 3 to 5 confirmed participants, 6 to 12 months; dated
    stages are laid out (engagement, a diagnostic in each territory, action plans,
    evaluation)."""
    authorize(viewer, "project.start")
    async with write_transaction():
        project = await _locked_project(project_id)
        if project.status != ProjectStatus.OPEN:
            raise WrongProjectState("Seul un projet ouvert aux candidatures peut démarrer.")
        participants = await Membership.filter(
            project_id=project_id,
            role=MembershipRole.PARTICIPANT,
            status=MembershipStatus.CONFIRMED,
        ).order_by("id")
        if not MIN_PARTICIPANTS <= len(participants) <= MAX_PARTICIPANTS:
            raise NotEnoughParticipants(
                f"Il faut de {MIN_PARTICIPANTS} à {MAX_PARTICIPANTS} collectivités participantes "
                f"confirmées pour démarrer ({len(participants)} actuellement)."
            )
        start = starts_on or project.starts_on or now().date()
        end = ends_on or project.ends_on or _add_months(start, MAX_MONTHS)
        check_duration(start, end)
        await ProjectStage.filter(project_id=project_id).delete()
        await ProjectStage.bulk_create(
            _stages(project_id, start, end, [m.territory_id for m in participants])
        )  # type: ignore[attr-defined]
        project.status, project.starts_on, project.ends_on = ProjectStatus.ENGAGEMENT, start, end
        await project.save()
        await note_change(
            viewer,
            "project.start",
            project,
            {
                "status": ["OPEN", "ENGAGEMENT"],
                "starts_on": [None, start.isoformat()],
                "ends_on": [None, end.isoformat()],
            },
        )
    return project


def _stages(
    project_id: int, start: dt.date, end: dt.date, territory_ids: Sequence[int]
) -> list[ProjectStage]:
    span = (end - start).days
    cut = [start + dt.timedelta(days=round(span * f)) for f in (0, 0.15, 0.45, 0.85, 1)]
    stages = [
        ProjectStage(
            project_id=project_id,
            kind=StageKind.ENGAGEMENT,
            position=1,
            title="L'engagement dans le projet partagé",
            starts_on=cut[0],
            ends_on=cut[1],
        )
    ]
    for territory_id in territory_ids:
        stages.append(
            ProjectStage(
                project_id=project_id,
                kind=StageKind.DIAGNOSTIC,
                position=len(stages) + 1,
                territory_id=territory_id,
                title="Diagnostic des enjeux d'engagement",
                starts_on=cut[1],
                ends_on=cut[2],
            )
        )
    stages.append(
        ProjectStage(
            project_id=project_id,
            kind=StageKind.ACTION_PLANS,
            position=len(stages) + 1,
            title="Conception des plans d'action territoriaux",
            starts_on=cut[2],
            ends_on=cut[3],
        )
    )
    stages.append(
        ProjectStage(
            project_id=project_id,
            kind=StageKind.EVALUATION,
            position=len(stages) + 1,
            title="Évaluation de la démarche",
            starts_on=cut[3],
            ends_on=cut[4],
        )
    )
    return stages


async def advance_shared_project(viewer: Viewer, project_id: int) -> SharedProject:
    """Move a started project to its next stage (… → EVALUATION → COMPLETED)."""
    authorize(viewer, "project.start")
    async with write_transaction():
        project = await _locked_project(project_id)
        following = NEXT_STATUS.get(project.status)
        if following is None:
            raise WrongProjectState("Ce projet n'a pas d'étape suivante.")
        before, project.status = project.status.value, following
        await project.save(update_fields=["status", "updated_at"])
        await note_change(viewer, "project.advance", project, {"status": [before, following.value]})
    return project


async def update_membership(
    viewer: Viewer,
    membership_id: int,
    *,
    action_plan: str | None = None,
    diagnostic_notes: str | None = None,
) -> Membership:
    """A participant's action plan and diagnostic notes: its own members, or editors."""
    authorize(viewer, "membership.update")
    async with write_transaction():
        _, membership = await _locked_membership(membership_id)
        if not viewer.is_editor and viewer.territory_id != membership.territory_id:  # type: ignore[attr-defined]
            raise Forbidden(
                "Seuls les membres de cette collectivité (ou les éditeurs) "
                "modifient son plan d'action."
            )
        problems = Problems()
        given = {
            ("action_plan", "actionPlan"): action_plan,
            ("diagnostic_notes", "diagnosticNotes"): diagnostic_notes,
        }
        values = {
            name: problems.check(partial(clean_rich_text, value, field=field, max_length=BODY_MAX))
            for (name, field), value in given.items()
            if value is not None
        }
        problems.raise_any()
        diff: dict[str, list[object]] = {
            name: [getattr(membership, name), value] for name, value in values.items()
        }
        membership.update_from_dict(values)
        await membership.save()
        await note_change(viewer, "membership.update", membership, diff)
    return membership


async def publish_project_news(
    viewer: Viewer, project_id: int, *, title: str, body: str
) -> ProjectNews:
    """A news item on a project's page."""
    authorize(viewer, "project.publish_news")
    problems = Problems()
    cleaned_title = problems.check(partial(clean_text, title, field="title", max_length=TITLE_MAX))
    cleaned_body = problems.check(partial(clean_rich_text, body, field="body"))
    problems.raise_any()
    title, body = str(cleaned_title), str(cleaned_body)
    async with write_transaction():
        project = await _locked_project(project_id)
        news = await ProjectNews.create(
            project_id=project.id, title=title, body=body, published_at=now()
        )
        await note_change(viewer, "project.news", news, {"title": [None, title]})
    return news


def can_read_notes(viewer: Viewer, territory_id: int) -> bool:
    """Diagnostic notes are for editors and the territory's own members."""
    return viewer.is_editor or viewer.territory_id == territory_id
