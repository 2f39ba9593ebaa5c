"""Recipient parts of an e-mail: tokens sent through the real pipeline (Jinja → mrml →
css-inline) come out where they were, in attributes and text, and are replaced by each
recipient's values, escaped; links that cannot work in a mailbox are left as text; the
preview text is hidden without invisible text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.render import RECIPIENT_FIELDS, RECIPIENT_PLACEHOLDERS, Personalizer, render_html


def test_the_preview_text_is_hidden_without_invisible_text():
    html = render_html(
        "<mjml><mj-head><mj-preview>Au sommaire</mj-preview></mj-head><mj-body><mj-section>"
        "<mj-column><mj-text>Bonjour</mj-text></mj-column></mj-section></mj-body></mjml>",
        {},
    )
    hidden = re.search(r'<div style="([^"]*)">Au sommaire', html)
    assert hidden, "mrml's preview markup changed: see mailer.render._MRML_PREVIEW"
    assert "display:none" in hidden.group(1) and "mso-hide:all" in hidden.group(1)
    assert "font-size:1px" not in hidden.group(1) and "#ffffff" not in hidden.group(1)


TOKENS_EVERYWHERE = """<mjml><mj-head><mj-title>{{ r.greeting }}</mj-title>
<mj-preview>{{ r.greeting }}</mj-preview></mj-head><mj-body><mj-section><mj-column>
<mj-image src="{{ r.preferences_url }}" alt="{{ r.greeting }}" href="{{ r.unsubscribe_url }}"
  width="220px" height="60px" />
<mj-text>{{ r.greeting }} <a href="{{ r.preferences_url }}" title="{{ r.greeting }}">
  {{ r.preferences_url }}</a> · <a href="{{ r.unsubscribe_url }}?from=mail">x</a></mj-text>
<mj-button href="{{ r.unsubscribe_url }}">{{ r.greeting }}</mj-button>
</mj-column></mj-section></mj-body></mjml>"""


class _Attributes(HTMLParser):
    """Every (tag, attribute, value) and every text run of a document, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attributes: list[tuple[str, str, str]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.attributes += [(tag, name, value or "") for name, value in attrs]

    def handle_data(self, data):
        self.texts.append(data)


def _parsed(document: str) -> _Attributes:
    parser = _Attributes()
    parser.feed(document)
    parser.close()
    return parser


def _render_and_fill(values: dict[str, str]) -> str:
    rendered = render_html(TOKENS_EVERYWHERE, {"r": RECIPIENT_PLACEHOLDERS})
    return Personalizer.of(rendered, escape=True).fill(values)


def test_every_recipient_token_is_replaced_in_attributes_and_text():
    values = {
        "greeting": "Bonjour Élise & « Zoé » <b>,",
        "unsubscribe_url": "https://tec.example/newsletters/unsubscribe?token=a.b&x=1",
        "preferences_url": 'https://tec.example/newsletters/preferences?token=c"d',
    }
    filled = _render_and_fill(values)
    assert "tec_recipient__" not in filled and "e000" not in filled and "\ue000" not in filled
    found = _parsed(filled)
    by_place = {(tag, name): value for tag, name, value in found.attributes}
    assert by_place[("img", "src")] == values["preferences_url"]
    assert by_place[("img", "alt")] == values["greeting"]
    hrefs = [v for tag, name, v in found.attributes if tag == "a" and name == "href"]
    assert values["unsubscribe_url"] in hrefs  # the image's link and the button
    assert values["preferences_url"] in hrefs
    assert values["unsubscribe_url"] + "?from=mail" in hrefs
    assert [v for t, n, v in found.attributes if (t, n) == ("a", "title")] == [values["greeting"]]
    text = "".join(found.texts)
    assert text.count(values["greeting"]) >= 3  # title, text, button (and the preview)
    assert values["preferences_url"] in text
    assert "<b>" not in filled  # escaped, in text and attributes alike


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(
    values=st.fixed_dictionaries(
        {
            name: st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]))
            for name in RECIPIENT_FIELDS
        }
    )
)
def test_any_value_comes_out_exactly_as_given(values):
    found = _parsed(_render_and_fill(values))
    by_place = {(tag, name): value for tag, name, value in found.attributes}
    assert by_place[("img", "src")] == values["preferences_url"]
    assert by_place[("img", "alt")] == values["greeting"]


def test_renders_frozen_with_private_use_markers_are_filled_too():
    # The markers as text, and as mrml writes them inside attributes.
    frozen = '<a href="\\u{e000}unsubscribe_url\\u{e001}">\ue000greeting\ue001</a>'
    filled = Personalizer.of(frozen, escape=True).fill(
        {"greeting": "Bonjour,", "unsubscribe_url": "https://tec.example/u?token=t"}
    )
    assert filled == '<a href="https://tec.example/u?token=t">Bonjour,</a>'


def test_text_that_only_looks_like_a_token_is_left_alone():
    rendered = "tec_recipient__name__ tec_recipient__greeting__"
    filled = Personalizer.of(rendered, escape=False).fill({"greeting": "Bonjour,"})
    assert filled == "tec_recipient__name__ Bonjour,"


def test_links_that_would_not_work_in_a_mailbox_are_left_as_text(caplog):
    kept = ["https://tec.example/a?b=1&c=2", "mailto:contact@tec.example"]
    dropped = ["Pour aller plus loin", "#", "/newsletters", "javascript:alert(1)", "www.x.org", ""]
    links = "".join(
        f'<a href="{{{{ links[{i}] }}}}">lien {i}</a> ' for i in range(len(kept + dropped))
    )
    mjml = (
        "<mjml><mj-body><mj-section><mj-column><mj-text>"
        f'{links}<a href="{{{{ r.unsubscribe_url }}}}">désabonnement</a>'
        "</mj-text></mj-column></mj-section></mj-body></mjml>"
    )
    rendered = render_html(mjml, {"links": kept + dropped, "r": RECIPIENT_PLACEHOLDERS})
    found = _parsed(rendered)
    hrefs = [v for tag, name, v in found.attributes if tag == "a" and name == "href"]
    assert hrefs == [*kept, RECIPIENT_PLACEHOLDERS["unsubscribe_url"]]
    text = "".join(found.texts)
    assert all(f"lien {i}" in text for i in range(len(kept + dropped)))
    assert "not a URL" in caplog.text
