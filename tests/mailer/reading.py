"""Reading a composed newsletter back: its sections (headings, items, calls to action, text)
from the HTML, and the colours its text is drawn in (for contrast). Standard library only:
the HTML is the mailer's own, so ``html.parser`` and the inline styles are enough."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None
    children: list[Element | str] = field(default_factory=list)

    def style(self) -> dict[str, str]:
        found = {}
        for declaration in self.attrs.get("style", "").split(";"):
            name, _, value = declaration.partition(":")
            if value.strip():
                found[name.strip().lower()] = value.strip().lower()
        return found

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Element:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def clean(text: str) -> str:
    """Spaces (no-break ones included) collapsed, trimmed."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


@dataclass
class ComposedSection:
    """A section of the composed HTML: its kind (from its ``tec-section-KIND`` class), its
    h2, its h3 (items and subheadings), its calls to action and its whole text."""

    kind: str
    headings: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    ctas: list[str] = field(default_factory=list)
    text: str = ""


def sections(html: str) -> list[ComposedSection]:
    """The page's sections in order (the header, with the h1, included as HEADER)."""
    found: list[ComposedSection] = []
    for element in parse(html).iter():
        kinds = [
            c.removeprefix("tec-section-")
            for c in element.classes()
            if c.startswith("tec-section-")
        ]
        if element.tag != "div" or not kinds:
            continue
        section = ComposedSection(kind=kinds[0], text=clean(element.text()))
        for node in element.iter():
            if node.tag == "h2":
                section.headings.append(clean(node.text()))
            elif node.tag == "h3":
                section.items.append(clean(node.text()))
            elif node.tag == "a" and (
                "cta" in node.classes() or any("cta" in a.classes() for a in node.ancestors())
            ):
                section.ctas.append(clean(node.text()))
        found.append(section)
    return found


# --- Contrast (WCAG 2.x) --------------------------------------------------------------

_HEX = re.compile(r"#([0-9a-f]{6}|[0-9a-f]{3})\b")


def _colour(value: str) -> tuple[float, float, float] | None:
    match = _HEX.search(value)
    if not match:
        if "white" in value:
            return (1.0, 1.0, 1.0)
        if "black" in value:
            return (0.0, 0.0, 0.0)
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return tuple(int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(
    foreground: tuple[float, float, float], background: tuple[float, float, float]
) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_colours(html: str):
    """For every piece of text of the body (hidden ones included): (text, colour,
    background), each the nearest one set inline (``color``; ``background``,
    ``background-color`` or ``bgcolor``), black on white when none is."""
    root = parse(html)
    body = next((e for e in root.iter() if e.tag == "body"), root)
    for element in body.iter():
        if element.tag in ("style", "script", "title"):
            continue
        for child in element.children:
            if not isinstance(child, str) or not child.strip():
                continue
            chain = [element, *element.ancestors()]
            colour = next(
                (c for e in chain if (c := _colour(e.style().get("color", "")))), (0.0, 0.0, 0.0)
            )
            background = next(
                (
                    c
                    for e in chain
                    if (
                        c := _colour(
                            e.style().get("background-color", "")
                            or e.style().get("background", "")
                            or e.attrs.get("bgcolor", "")
                        )
                    )
                ),
                (1.0, 1.0, 1.0),
            )
            yield clean(child), colour, background
