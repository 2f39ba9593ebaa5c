"""Who is asking: the viewer every read and write is decided for."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from tortoise.expressions import Q

from services.content import ContentStatus


class Role(str, enum.Enum):
    ADMIN = "ADMIN"
    EDITOR = "EDITOR"
    LOCAL_AUTHORITY = "LOCAL_AUTHORITY"
    PARTNER = "PARTNER"
    ANONYMOUS = "ANONYMOUS"


@dataclass(frozen=True)
class Viewer:
    """The person or partner key behind a request; anonymous by default."""

    role: Role = Role.ANONYMOUS
    account_id: int | None = None
    territory_id: int | None = None
    organization_id: int | None = None
    scopes: frozenset[str] = frozenset()
    """What a partner API key may do (``READ``, ``CONTRIBUTE``); empty for people."""
    api_key_id: int | None = None
    """The API key behind the request, when it is one (``role`` is then ``PARTNER``)."""
    as_of: dt.datetime | None = None
    """The moment this viewer reads the platform at; None is now. A newsletter is composed
    as an anonymous reader on the issue's date: content published later does not exist."""
    operator: str | None = None
    """Who ran the operators' command ``tec`` that acts, as the audit log names them
    (``tec (alice@host)``); None for the API."""

    @property
    def is_editor(self) -> bool:
        return self.role in (Role.ADMIN, Role.EDITOR)

    @property
    def sees_unpublished(self) -> bool:
        return self.is_editor


ANONYMOUS = Viewer()


def visible(viewer: Viewer, prefix: str = "", now: dt.datetime | None = None) -> Q:
    """Condition restricting content (or content reached through ``prefix``) to what
    ``viewer`` may see: everything for editors; otherwise published content whose
    publication time has come (content published « at a date » appears by itself). The
    time is ``now``, else the viewer's ``as_of``, else the present."""
    if viewer.sees_unpublished:
        return Q()
    now = now or viewer.as_of or dt.datetime.now(dt.UTC)
    return Q(**{f"{prefix}status": ContentStatus.PUBLISHED}) & (
        Q(**{f"{prefix}published_at__isnull": True}) | Q(**{f"{prefix}published_at__lte": now})
    )


def visible_values(viewer: Viewer, now: dt.datetime) -> list[object]:
    """The values :func:`visible` binds in its SQL, in order (``services.statements``)."""
    return [] if viewer.sees_unpublished else [ContentStatus.PUBLISHED.value, now]
