"""French typography of newsletters: spaces that do not break, dates and periods, plurals,
ranks. Pure functions; the Jinja environment exposes them as filters.

Spaces: a no-break space (U+00A0) before « : », a narrow no-break space (U+202F) before
« ; ! ? » and inside « guillemets » (the Imprimerie nationale's rule), applied to the
rendered text, never to markup, URLs or entities. Times and dates are Europe/Paris.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from services.labels import DAYS, MONTHS

PARIS = ZoneInfo("Europe/Paris")
NBSP = "\u00a0"
NNBSP = "\u202f"
_SPACES = "[ \t\u00a0\u202f]"
_LETTER = r"[^\W\d_]"

_BEFORE_COLON = re.compile(f"{_SPACES}+:|(?<={_LETTER}):(?= )")
_BEFORE_HIGH = re.compile(f"{_SPACES}+([;!?])|(?<={_LETTER}|[»)])([;!?])(?=[\\s<]|$)")
_OPENING = re.compile(f"«{_SPACES}*")
_CLOSING = re.compile(f"{_SPACES}*»")
# Markup left alone: comments (Outlook's conditional ones included), style and script
# blocks, tags, entities.
_MARKUP = re.compile(
    r"(<!--.*?-->|<style\b.*?</style>|<script\b.*?</script>|<[^>]*>|&#?\w+;)",
    re.DOTALL | re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def typeset(text: str) -> str:
    """French spacing of plain text: « Thématique du mois : … », « ici ! », « « x » »."""
    text = _BEFORE_COLON.sub(f"{NBSP}:", text)
    text = _BEFORE_HIGH.sub(lambda m: NNBSP + (m.group(1) or m.group(2)), text)
    text = _OPENING.sub(f"«{NNBSP}", text)
    return _CLOSING.sub(f"{NNBSP}»", text)


def typeset_html(html: str) -> str:
    """:func:`typeset` applied to the text of an HTML document only."""
    parts = _MARKUP.split(html)
    return "".join(part if index % 2 else typeset(part) for index, part in enumerate(parts))


def _moment(value: str | dt.datetime) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(PARIS)


def _day(day: dt.date) -> str:
    return "1er" if day.day == 1 else str(day.day)


def fr_date(value: str | dt.date | dt.datetime | None, *, weekday: bool = True) -> str:
    """« mardi 8 novembre 2022 », « jeudi 1er septembre 2021 » (Paris)."""
    if not value:
        return ""
    if isinstance(value, (str, dt.datetime)):
        value = _moment(value).date()
    day = f"{_day(value)} {MONTHS[value.month - 1]} {value.year}"
    return f"{DAYS[value.weekday()]} {day}" if weekday else day


def fr_time(moment: dt.datetime) -> str:
    """« 18 h 30 », « 9 h »."""
    local = moment.astimezone(PARIS)
    minutes = f"{NBSP}{local.minute:02d}" if local.minute else ""
    return f"{local.hour}{NBSP}h{minutes}"


def fr_datetime(value: str | dt.datetime | None) -> str:
    """« mardi 8 novembre 2022, 18 h 30 » (Paris); midnight shows the day only."""
    if not value:
        return ""
    local = _moment(value)
    time = f", {fr_time(local)}" if (local.hour, local.minute) != (0, 0) else ""
    return f"{fr_date(local)}{time}"


def fr_period(
    starts: str | dt.datetime | None,
    ends: str | dt.datetime | None = None,
    all_day: bool = False,
) -> str:
    """An event's dates in French, Paris time: « mardi 8 novembre 2022, de 18 h 30 à
    20 h 30 », « jeudi 1er septembre 2021 » (a whole day), « du 3 au 5 novembre 2022 »,
    « du 30 novembre au 2 décembre 2022 », « du 30 décembre 2022 au 2 janvier 2023 »."""
    if not starts:
        return ""
    first = _moment(starts)
    last = _moment(ends) if ends else first
    if last.date() <= first.date():
        if all_day:
            return fr_date(first)
        if last > first:
            return f"{fr_date(first)}, de {fr_time(first)} à {fr_time(last)}"
        return fr_datetime(first)
    begin, end = first.date(), last.date()
    if begin.year != end.year:
        return f"du {fr_date(begin, weekday=False)} au {fr_date(end, weekday=False)}"
    if begin.month != end.month:
        return f"du {_day(begin)} {MONTHS[begin.month - 1]} au {fr_date(end, weekday=False)}"
    return f"du {_day(begin)} au {fr_date(end, weekday=False)}"


def plural(count: int, singular: str, several: str | None = None) -> str:
    """« 0 vote », « 1 vote », « 2 votes »: French takes the singular for 0 and 1."""
    word = singular if abs(count) < 2 else (several or f"{singular}s")
    return f"{count} {word}"


def rank_label(rank: int, ranking: Iterable[Mapping[str, Any]]) -> str:
    """« 1 », or « 1 ex æquo » when another entry of ``ranking`` shares the rank."""
    shared = sum(1 for entry in ranking if entry.get("rank") == rank)
    return f"{rank} ex æquo" if shared > 1 else str(rank)


def paragraphs(text: str | None) -> list[str]:
    """Paragraphs of a text (separated by blank lines), trimmed; single line breaks kept."""
    return [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def html_paragraphs(value: str | None) -> list[str]:
    """The paragraphs of a sanitised HTML body (a resource's), as plain text: block ends
    and line breaks kept, tags dropped, entities decoded."""
    text = re.sub(r"(?i)<br\s*/?>", "\n", value or "")
    text = re.sub(r"(?i)</(p|li|h[1-6]|blockquote|pre)>", "\n\n", text)
    return paragraphs(html.unescape(re.sub(r"<[^>]+>", "", text)))


def blocks(text: str | None) -> list[dict[str, Any]]:
    """Paragraphs, those that read as subheadings marked ``heading``: one short line (at
    most 80 characters) that does not end a sentence (no final . : ; , ! or …)."""
    found = []
    for paragraph in paragraphs(text):
        heading = (
            "\n" not in paragraph
            and len(paragraph) <= 80
            and not paragraph.rstrip('"»').endswith((".", ":", ";", ",", "!", "…"))
        )
        found.append({"heading": heading, "text": paragraph})
    return found


def link_addresses(text: str | None) -> Markup:
    """Text, escaped, with its e-mail addresses as mailto links and its line breaks kept."""
    escaped = str(escape(text or ""))
    linked = _EMAIL.sub(lambda m: f'<a href="mailto:{m.group(0)}">{m.group(0)}</a>', escaped)
    return Markup(linked.replace("\n", "<br />"))


def within(needle: str | None, haystack: str | None) -> bool:
    """Whether ``needle`` is in ``haystack``, case, quotes and spacing aside (a section
    titled « Le concept du mois : le récit » already names the concept « Le récit »)."""
    return bool(needle) and _folded(needle or "") in _folded(haystack or "")


def _folded(text: str) -> str:
    text = re.sub(r"[\"«»“”'’]", "", text.casefold())
    return re.sub(r"\s+", " ", text).strip()


def capitalize_first(text: str | None) -> str:
    """« du 3 au 5 » → « Du 3 au 5 » (the rest untouched, unlike ``capitalize``)."""
    return (text or "")[:1].upper() + (text or "")[1:]


def first_paragraph(text: str | None) -> str:
    found = paragraphs(text)
    return found[0] if found else ""


def other_paragraphs(text: str | None) -> Sequence[str]:
    return paragraphs(text)[1:]


FILTERS = {
    "paragraphs": paragraphs,
    "html_paragraphs": html_paragraphs,
    "blocks": blocks,
    "fr_date": fr_date,
    "fr_datetime": fr_datetime,
    "fr_period": fr_period,
    "plural": plural,
    "rank_label": rank_label,
    "link_addresses": link_addresses,
    "capitalize_first": capitalize_first,
    "first_paragraph": first_paragraph,
    "other_paragraphs": other_paragraphs,
}
TESTS = {"within": within}
