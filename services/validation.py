"""Input rules shared by every write: lengths, URLs, dates, slugs, rich text.

Each check raises :class:`BadUserInput` naming the field at fault, before anything is
written.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from tortoise.models import Model

from services.content import slugify
from services.errors import BadUserInput
from services.fields import Cleaner, Cleaning
from services.richtext import sanitize_html

TITLE_MAX = 300
SUMMARY_MAX = 2_000
BODY_MAX = 100_000
URL_MAX = 1_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def clean_text(value: str, *, field: str, max_length: int, required: bool = True) -> str:
    """Trimmed plain text of at most ``max_length`` characters, without control characters."""
    value = value.strip()
    if required and not value:
        raise BadUserInput(f"« {field} » ne peut pas être vide.", field=field)
    if len(value) > max_length:
        raise BadUserInput(
            f"« {field} » dépasse {max_length} caractères ({len(value)}).", field=field
        )
    if _CONTROL.search(value):
        raise BadUserInput(f"« {field} » contient des caractères de contrôle.", field=field)
    return value


def clean_rich_text(value: str, *, field: str, max_length: int = BODY_MAX) -> str:
    """Sanitised HTML; oversized input is refused rather than truncated."""
    if len(value) > max_length:
        raise BadUserInput(
            f"« {field} » dépasse {max_length} caractères ({len(value)}).", field=field
        )
    return sanitize_html(value)


def clean_url(value: str | None, *, field: str) -> str | None:
    """An absolute http(s) URL, or None; ``javascript:``, ``data:`` and the like are refused."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > URL_MAX or _CONTROL.search(value) or " " in value:
        raise BadUserInput(f"« {field} » n'est pas une adresse web valide.", field=field)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadUserInput(
            f"« {field} » doit être une adresse http:// ou https:// complète.", field=field
        )
    return value


def clean_slug(value: str, *, field: str = "slug") -> str:
    value = value.strip()
    if not _SLUG.fullmatch(value) or len(value) > 120:
        raise BadUserInput(
            "Le slug ne peut contenir que des minuscules sans accents, des chiffres et des "
            "tirets (ex. « democratie-culturelle »).",
            field=field,
        )
    return value


def require_aware(value: dt.datetime, *, field: str) -> dt.datetime:
    if value.tzinfo is None:
        raise BadUserInput(
            f"« {field} » doit préciser son fuseau (ex. 2022-09-27T18:30:00+02:00).", field=field
        )
    return value


def check_period(
    starts: dt.datetime | dt.date | None, ends: dt.datetime | dt.date | None, *, field: str
) -> None:
    if starts is not None and ends is not None and ends < starts:
        raise BadUserInput("La fin doit suivre le début.", field=field)


async def unique_slug(model: type[Model], title: str, *, exclude_id: int | None = None) -> str:
    """A slug for ``title`` that no other row of ``model`` uses (``-2``, ``-3``… appended)."""
    base = slugify(title, max_length=100)
    taken = set(
        await model.filter(slug__startswith=base)
        .exclude(id=exclude_id or 0)
        .values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


async def check_slug_free(model: type[Model], slug: str, *, exclude_id: int | None = None) -> None:
    if await model.filter(slug=slug).exclude(id=exclude_id or 0).exists():
        raise BadUserInput(f"Le slug « {slug} » est déjà utilisé.", field="slug")


# --- Cleaners of declared fields (services.fields): each takes (value, Cleaning) --------


def text(max_length: int, *, required: bool = True) -> Cleaner:
    """Plain text (see :func:`clean_text`)."""

    def cleaner(value: Any, cleaning: Cleaning) -> str:
        return clean_text(value, field=cleaning.field, max_length=max_length, required=required)

    return cleaner


def optional_text(max_length: int) -> Cleaner:
    """Plain text where empty means « none » (stored as null)."""

    def cleaner(value: Any, cleaning: Cleaning) -> str | None:
        found = clean_text(value, field=cleaning.field, max_length=max_length, required=False)
        return found or None

    return cleaner


def rich_text(max_length: int = BODY_MAX) -> Cleaner:
    """Sanitised HTML (see :func:`clean_rich_text`)."""

    def cleaner(value: Any, cleaning: Cleaning) -> str:
        return clean_rich_text(value, field=cleaning.field, max_length=max_length)

    return cleaner


def web_address(value: Any, cleaning: Cleaning) -> str | None:
    """An absolute http(s) URL or nothing (see :func:`clean_url`)."""
    return clean_url(value, field=cleaning.field)


async def free_slug(value: Any, cleaning: Cleaning) -> str:
    """A well-formed slug no other row of the model uses."""
    slug = clean_slug(value, field=cleaning.field)
    await check_slug_free(cleaning.model, slug, exclude_id=cleaning.exclude_id)
    return slug


def existing(model: type[Model]) -> Cleaner:
    """A list of ids of existing ``model`` rows, without duplicates, in the given order."""

    async def cleaner(value: Any, cleaning: Cleaning) -> list[int]:
        wanted = list(dict.fromkeys(value))
        found = set(await model.filter(id__in=wanted).values_list("id", flat=True))
        missing = [i for i in wanted if i not in found]
        if missing:
            raise BadUserInput(
                f"« {cleaning.field} » désigne {len(missing)} objet(s) inexistant(s).",
                field=cleaning.field,
            )
        return wanted

    return cleaner


def first_of_month(value: Any, cleaning: Cleaning) -> dt.date:
    """A month, stored as its first day."""
    return value.replace(day=1)
