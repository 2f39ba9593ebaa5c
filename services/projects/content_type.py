"""Shared projects and their memberships as content types. Their writes are their own
(``services/projects/editing.py``: applications, seats, stages), not the shared ones."""

from __future__ import annotations

from services.policy import EDITORS, Principal
from services.projects.demo import load_demo_shared_project
from services.projects.models import Membership, ProjectNews, SharedProject
from services.registry import ContentType, Demo, PolicyRow, register

LOCAL_AUTHORITY = frozenset({Principal.LOCAL_AUTHORITY})

SHARED_PROJECT = register(
    ContentType(
        name="SharedProject",
        model=SharedProject,
        label="Projet partagé",
        definite="le projet partagé",
        entity="project",
        demo=Demo(
            "shared_projects",
            load_demo_shared_project,
            after=("Theme", "Organization", "Territory"),
        ),
        # A project's news are audited on their own; its writes (a start, a seat) and those
        # of its memberships read and change each other.
        cache_parts=(ProjectNews,),
        cache_touches=("Membership",),
        policy=(
            PolicyRow("project.create", EDITORS, "createSharedProject"),
            PolicyRow(
                "project.update",
                EDITORS,
                "updateSharedProject (summary, providers, dates, stages, resources)",
            ),
            PolicyRow(
                "project.apply",
                LOCAL_AUTHORITY,
                "applyToProject as participant or observer, for one's own authority",
            ),
            PolicyRow(
                "project.withdraw", LOCAL_AUTHORITY, "withdrawFromProject, for one's own authority"
            ),
            PolicyRow("project.decide", EDITORS, "confirmMembership, declineMembership"),
            PolicyRow("project.start", EDITORS, "startSharedProject, advanceSharedProject"),
            PolicyRow("project.publish_news", EDITORS, "publishProjectNews"),
        ),
    )
)

MEMBERSHIP = register(
    ContentType(
        name="Membership",
        model=Membership,
        label="Participation",
        definite="la participation",
        entity="membership",
        cache_touches=("SharedProject",),
        policy=(
            PolicyRow(
                "membership.update",
                EDITORS | LOCAL_AUTHORITY,
                "updateMembership (action plan, diagnostic notes; members: own only)",
            ),
        ),
    )
)
