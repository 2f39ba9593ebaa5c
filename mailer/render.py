"""Rendering: a template's MJML (with Jinja, sandboxed) → responsive HTML with inlined CSS,
and its plain-text version. Pure functions: data in, strings out.

Per-recipient parts (greeting, unsubscribe and preferences links) are rendered as ASCII
tokens (``tec_recipient__greeting__``), so that the expensive render runs once per issue
and each message is a cheap substitution (:class:`Personalizer`).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources as package_files
from typing import Any

import css_inline
import mrml
from jinja2 import Template, TemplateError, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mailer import typography
from services.errors import BadUserInput

logger = logging.getLogger("tec.mailer")
RECIPIENT_FIELDS = ("greeting", "unsubscribe_url", "preferences_url")
# Plain ASCII word characters: Jinja, MRML, the CSS inliner and even ``urlencode`` leave
# them as they are, in attributes and text alike.
_TOKEN = "tec_recipient__{}__"
# Only the known names are recognised, so text that merely looks like a token stays. The
# private-use markers (``\ue000name\ue001``, which MRML spells ``\u{e000}name\u{e001}``
# inside attributes) are read too: renders frozen with them get working links.
_PLACEHOLDER = re.compile(
    r"(?:tec_recipient__|\ue000|\\u\{e000\})"
    f"({'|'.join(RECIPIENT_FIELDS)})"
    r"(?:__|\ue001|\\u\{e001\})"
)


class TemplateInvalid(BadUserInput):
    """The MJML or text template does not render."""


def placeholder(name: str) -> str:
    """The token a template renders for one recipient field (see :class:`Personalizer`)."""
    return _TOKEN.format(name)


RECIPIENT_PLACEHOLDERS = {name: placeholder(name) for name in RECIPIENT_FIELDS}


class _Lenient(Undefined):
    """Missing data renders as nothing (a section whose query found nothing is skipped)."""


@lru_cache(maxsize=2)
def _environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    # Text keeps the newline after a block tag (lines end with {% endif %}); HTML trims it.
    env = ImmutableSandboxedEnvironment(
        autoescape=autoescape, undefined=_Lenient, trim_blocks=autoescape, lstrip_blocks=True
    )
    env.filters.update(typography.FILTERS)
    env.tests.update(typography.TESTS)
    return env


def check_syntax(source: str, *, field: str) -> None:
    """Refuse a template that Jinja cannot parse, before it is stored."""
    try:
        _environment(True).parse(source)
    except TemplateError as error:
        raise TemplateInvalid(f"Gabarit invalide ({field}) : {error}", field=field) from None


@lru_cache(maxsize=64)
def _template(source: str, autoescape: bool) -> Template:
    """``source`` compiled once: an issue's sections, its previews, each test send and
    every archived issue render the same few templates, and compiling one costs far more
    than rendering it. Keyed by the text itself, so an edited template is compiled anew."""
    return _environment(autoescape).from_string(source)


def _render(source: str, context: Mapping[str, Any], *, autoescape: bool, field: str) -> str:
    try:
        return _template(source, autoescape).render(**context)
    except TemplateError as error:
        raise TemplateInvalid(f"Gabarit invalide ({field}) : {error}", field=field) from None


_INLINER = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False)
# MRML hides the preview text (mj-preview) as 1 px white text: spam filters score both
# (SpamAssassin: HTML_FONT_LOW_CONTRAST, FONT_INVIS_*). ``display:none`` hides it in
# every client, ``mso-hide:all`` in Outlook for Windows.
_MRML_PREVIEW = (
    'style="display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0px;'
    'max-width:0px;opacity:0;overflow:hidden;"'
)
_PREVIEW = (
    'style="display:none;mso-hide:all;line-height:1px;max-height:0px;max-width:0px;'
    'opacity:0;overflow:hidden;"'
)


# The serializer of css-inline writes every attribute in double quotes, escaped.
_LINK = re.compile(r'(<a\b[^>]*?)\shref="([^"]*)"')
_WORKING_LINK = re.compile(r"https?://[^\s/?#]+|mailto:[^\s@]+@|tec_recipient__")


def _unlink_non_urls(document: str) -> str:
    """A link must work in a mailbox: absolute http(s), ``mailto:`` or a recipient token.
    Any other ``href`` (text where a URL was expected, ``#``, a relative path) is removed,
    leaving its text, and logged."""

    def check(match: re.Match[str]) -> str:
        if _WORKING_LINK.match(html.unescape(match.group(2)).strip()):
            return match.group(0)
        logger.warning("newsletter link dropped, not a URL: %r", match.group(2)[:200])
        return match.group(1)

    return _LINK.sub(check, document)


def render_html(mjml_source: str, context: Mapping[str, Any]) -> str:
    """MJML template + context → one responsive HTML document, CSS inlined, ``lang`` set;
    links that would not work in a mailbox are left as text."""
    markup = _render(mjml_source, context, autoescape=True, field="mjml")
    try:
        output = mrml.to_html(markup)
    except Exception as error:  # mrml raises its own exception types
        raise TemplateInvalid(f"MJML invalide : {error}", field="mjml") from None
    return _unlink_non_urls(_INLINER.inline(output.content.replace(_MRML_PREVIEW, _PREVIEW, 1)))


def render_text(text_source: str, context: Mapping[str, Any]) -> str:
    """The plain-text alternative (no escaping; blank lines collapsed)."""
    text = _render(text_source, context, autoescape=False, field="text")
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


@dataclass(frozen=True)
class Personalizer:
    """A rendered document cut once at its recipient tokens: ``fill(values)`` joins the
    pieces with one recipient's values (HTML-escaped, quotes included, when ``escape``:
    the same value is safe in an attribute and in text)."""

    pieces: tuple[str, ...]
    names: tuple[str, ...]
    escape: bool

    @classmethod
    def of(cls, rendered: str, *, escape: bool) -> Personalizer:
        parts = _PLACEHOLDER.split(rendered)
        return cls(tuple(parts[0::2]), tuple(parts[1::2]), escape)

    def fill(self, values: Mapping[str, str]) -> str:
        out = [self.pieces[0]]
        for name, piece in zip(self.names, self.pieces[1:], strict=True):
            value = values.get(name, "")
            out.append(html.escape(value) if self.escape else value)
            out.append(piece)
        return "".join(out)


def default_template() -> dict[str, Any]:
    """The built-in template (the seeds' structure): document, MJML, text, sections."""
    import json

    folder = package_files.files("mailer").joinpath("templates")
    return {
        "document": folder.joinpath("default.graphql").read_text("utf-8"),
        "mjml": folder.joinpath("default.mjml").read_text("utf-8"),
        "text": folder.joinpath("default.txt").read_text("utf-8"),
        "sections": json.loads(folder.joinpath("default.sections.json").read_text("utf-8")),
    }


__all__ = [
    "RECIPIENT_PLACEHOLDERS",
    "Personalizer",
    "TemplateInvalid",
    "check_syntax",
    "default_template",
    "render_html",
    "render_text",
]
