"""Rich text: every HTML body is sanitised with an allow-list before it is stored."""

from __future__ import annotations

import html

import nh3

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "s",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
    "h2",
    "h3",
    "h4",
    "code",
    "pre",
    "hr",
    "sub",
    "sup",
    "abbr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "hreflang"}, "abbr": {"title"}}
URL_SCHEMES = {"http", "https", "mailto"}


def sanitize_html(value: str) -> str:
    """Keep only allowed tags and attributes; links get ``rel="noopener noreferrer"``;
    ``javascript:`` and other schemes are dropped."""
    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def paragraphs_to_html(text: str) -> str:
    """Plain text with blank-line-separated paragraphs → safe HTML paragraphs."""
    blocks = [b.strip() for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    return "".join(f"<p>{html.escape(b).replace(chr(10), '<br>')}</p>" for b in blocks)
