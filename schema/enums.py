"""GraphQL enums built from the domain's enums, each value described by its French label."""

from __future__ import annotations

import enum
from typing import Any

import strawberry

from schema.strawberry_compat import describe_enum_values
from services.content import Audience, ContentStatus
from services.events.models import EventFormat
from services.labels import label
from services.organizations.models import OrganizationKind, OrganizationRole
from services.projects.models import MembershipRole, MembershipStatus, ProjectStatus, StageKind
from services.resources.models import ResourceKind
from services.territories.models import TerritoryLevel
from services.viewer import Role


def _mirror(source: type[enum.Enum], description: str) -> Any:
    """Expose a domain enum to GraphQL, each value described by its French label.

    The domain enum itself is registered (values pass between layers unchanged);
    only documentation is attached here, so ``services`` stays free of GraphQL."""
    wrapped = strawberry.enum(source, description=description)
    describe_enum_values(wrapped, lambda name: label(source[name]))
    return wrapped


ContentStatusEnum = _mirror(ContentStatus, "Publication state of a piece of content.")
AudienceEnum = _mirror(Audience, "Who a resource is written for.")
ResourceKindEnum = _mirror(ResourceKind, "Kind of resource (guide, experience report…).")
EventFormatEnum = _mirror(EventFormat, "Format of an event.")
OrganizationKindEnum = _mirror(OrganizationKind, "Legal or institutional kind of organisation.")
OrganizationRoleEnum = _mirror(OrganizationRole, "Role an organisation plays on the platform.")
TerritoryLevelEnum = _mirror(TerritoryLevel, "Level of a local authority.")
ProjectStatusEnum = _mirror(ProjectStatus, "Stage a shared project has reached.")
StageKindEnum = _mirror(StageKind, "Kind of stage of a shared project.")
MembershipRoleEnum = _mirror(MembershipRole, "How a local authority takes part in a project.")
MembershipStatusEnum = _mirror(MembershipStatus, "State of a local authority's membership.")
RoleEnum = _mirror(Role, "Role of an account (ANONYMOUS: nobody signed in).")
