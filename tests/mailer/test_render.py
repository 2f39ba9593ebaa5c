"""The default template renders the seeds' structure: sections in order, lang="fr", alt
texts, inlined CSS, a text version; editors' items are arranged as they decided; every
recipient token comes out of the real pipeline and is replaced, escaped, wherever it is."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.compose import arrange_sections
from mailer.render import (
    RECIPIENT_FIELDS,
    RECIPIENT_PLACEHOLDERS,
    Personalizer,
    TemplateInvalid,
    default_template,
    render_html,
    render_text,
)
from services.newsletters.models import SectionKind

DATA = {
    "theme": {
        "id": "VGhlbWU6MQ==",
        "title": "La démocratie culturelle",
        "introduction": "Premier paragraphe.\n\nSecond paragraphe.",
        "introductory": {"nodes": [{"id": "r1", "title": "Dossier d'introduction"}]},
        "resources": {
            "nodes": [
                {"id": "r1", "title": "Dossier d'introduction"},
                {"id": "r2", "title": "Expérience de Séné", "url": "https://example.org/sene"},
                {"id": "r3", "title": "Lecture citoyenne"},
            ]
        },
    },
    "nextTheme": {"id": "t2", "title": "Démocratie sanitaire", "introduction": "En juillet…"},
    "concept": {"id": "c1", "title": "L'échelle d'Arnstein", "summary": "Huit niveaux."},
    "votingRounds": {
        "nodes": [
            {
                "id": "v1",
                "title": "Votez pour les thématiques",
                "description": "C'est vous qui décidez !",
                "isOpen": True,
                "ranking": [{"rank": 1, "votes": 3, "theme": {"title": "Culture"}}],
            }
        ]
    },
    "sharedProjects": {"nodes": [{"id": "p1", "title": "Co-construire", "summary": "…"}]},
    "partnerNews": {"nodes": [{"id": "n1", "title": "Décider Ensemble recrute !"}]},
    "events": {
        "nodes": [
            {
                "id": "e1",
                "title": "Webinaire CNDP",
                "startsAt": "2021-06-15T09:30:00+00:00",
                "formatLabel": "Webinaire",
                "online": True,
            }
        ]
    },
    "items": [{"id": "r9", "title": "Ajout de la rédaction"}],
}


def _context(sections):
    return {
        "issue": {
            "title": "Juin 2021",
            "subject": "Juin 2021",
            "introduction": "Bienvenue !",
            "licence": "CC BY-SA",
            "preview": "x",
        },
        "data": DATA,
        "sections": sections,
        "links": {
            k: f"https://tec.example/{k}"
            for k in ("view_in_browser", "home", "logo", "archive", "contribute", "vote", "contact")
        },
        "recipient": {
            "greeting": "Bonjour,",
            "unsubscribe_url": "https://u",
            "preferences_url": "https://p",
        },
    }


def _decision(section, node_id, *, position=0, pinned=False, removed=False, pk=1):
    return SimpleNamespace(
        section=section, node_id=node_id, position=position, pinned=pinned, removed=removed, id=pk
    )


def test_default_template_follows_the_seeds_order():
    template = default_template()
    sections = arrange_sections(template["sections"], DATA, [])
    html = render_html(template["mjml"], _context(sections))
    assert '<html lang="fr"' in html
    assert 'alt="Territoires en Commun"' in html
    assert 'style="' in html  # CSS inlined
    expected = [
        "Voir cette newsletter dans votre navigateur",
        "Bienvenue !",
        "Thématique du mois : La démocratie culturelle",
        "Projets démocratiques et expériences territoriales",
        "Le concept du mois",
        "Contribuez à la prochaine thématique",
        "Votez pour les thématiques des projets partagés",
        "Aller plus loin : les projets partagés",
        "Actualités de l'écosystème",
        "À vos agendas !",
        "Contactez-nous",
        "Se désabonner",
    ]
    positions = [html.find(marker) for marker in expected]
    assert -1 not in positions, dict(zip(expected, positions, strict=True))
    assert positions == sorted(positions)
    text = render_text(template["text"], _context(sections))
    assert "mardi 15 juin 2021, 11 h 30 — Webinaire CNDP" in text
    assert text.index("THÉMATIQUE DU MOIS") < text.index("À VOS AGENDAS")


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


def test_an_item_appears_once_and_editors_decisions_apply():
    spec = default_template()["sections"]
    sections = arrange_sections(spec, DATA, [])
    assert [i["id"] for i in sections["THEME_OF_THE_MONTH"]] == ["r1"]
    assert [i["id"] for i in sections["INSPIRING_PROJECTS"]] == ["r2", "r3"]
    decisions = [
        _decision(SectionKind.INSPIRING_PROJECTS, "r3", position=1, pk=1),
        _decision(SectionKind.INSPIRING_PROJECTS, "r9", position=2, pinned=True, pk=2),
        _decision(SectionKind.PARTNER_NEWS, "n1", removed=True, pk=3),
    ]
    sections = arrange_sections(spec, DATA, decisions)
    assert [i["id"] for i in sections["INSPIRING_PROJECTS"]] == ["r9", "r3", "r2"]
    assert sections["PARTNER_NEWS"] == []


def test_broken_markup_is_refused():
    with pytest.raises(TemplateInvalid):
        render_html("<mjml>{% if %}</mjml>", {})


# --- Recipient tokens through the real pipeline (Jinja → mrml → css-inline) ---------------

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
