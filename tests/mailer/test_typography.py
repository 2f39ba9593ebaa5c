"""French typography and accessibility of newsletters: ranks with ties, singular for 0 and
1, no-break spaces, dates and periods in French (Paris time), headings, section titles
that look like section titles, text contrast (WCAG AA) down to the hidden preheader."""

from __future__ import annotations

import re

import pytest

from mailer.typography import (
    NBSP,
    NNBSP,
    fr_datetime,
    fr_period,
    plural,
    rank_label,
    typeset,
    typeset_html,
)
from tests.mailer.reading import contrast, parse, text_colours
from tests.mailer.seeds import NEWSLETTER_SEEDS


def test_ties_share_a_rank():
    ranking = [{"rank": 1}, {"rank": 1}, {"rank": 3}, {"rank": 4}, {"rank": 4}]
    assert [rank_label(e["rank"], ranking) for e in ranking] == [
        "1 ex æquo",
        "1 ex æquo",
        "3",
        "4 ex æquo",
        "4 ex æquo",
    ]


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "0 vote"), (1, "1 vote"), (2, "2 votes"), (12, "12 votes")]
)
def test_french_takes_the_singular_for_zero_and_one(count, expected):
    assert plural(count, "vote") == expected


def test_no_break_spaces_before_high_punctuation_and_inside_guillemets():
    assert typeset("Thématique du mois : Le récit") == f"Thématique du mois{NBSP}: Le récit"
    assert typeset("C'est ici ! Vraiment ? Oui ; « bien »") == (
        f"C'est ici{NNBSP}! Vraiment{NNBSP}? Oui{NNBSP}; «{NNBSP}bien{NNBSP}»"
    )
    assert typeset("Contact: nous") == f"Contact{NBSP}: nous"  # added where missing
    # Addresses, times and query strings are left alone.
    untouched = "https://tec.example/a?token=x 18:30 mailto:x@y.fr"
    assert typeset(untouched) == untouched


def test_typesetting_html_touches_text_only():
    html = (
        '<style>a:hover{color:#000}</style><a href="https://x/?a=b" title="t">Ici !</a>'
        "<!--[if mso]><b>:</b><![endif]-->&amp; x &#39;ok&#39; ?"
    )
    assert typeset_html(html) == (
        f'<style>a:hover{{color:#000}}</style><a href="https://x/?a=b" title="t">Ici{NNBSP}!</a>'
        f"<!--[if mso]><b>:</b><![endif]-->&amp; x &#39;ok&#39;{NNBSP}?"
    )


def _plain(text: str) -> str:
    return text.replace(NBSP, " ").replace(NNBSP, " ")


@pytest.mark.parametrize(
    ("starts", "ends", "all_day", "expected"),
    [
        ("2022-11-03T09:00:00+01:00", "2022-11-05T18:00:00+01:00", True, "du 3 au 5 novembre 2022"),
        (
            "2022-11-30T09:00:00+01:00",
            "2022-12-02T18:00:00+01:00",
            True,
            "du 30 novembre au 2 décembre 2022",
        ),
        (
            "2022-12-30T09:00:00+01:00",
            "2023-01-02T18:00:00+01:00",
            True,
            "du 30 décembre 2022 au 2 janvier 2023",
        ),
        # UTC in, Paris out (17:30 UTC is 18:30 in Paris in November).
        (
            "2022-11-08T17:30:00+00:00",
            "2022-11-08T19:30:00+00:00",
            False,
            "mardi 8 novembre 2022, de 18 h 30 à 20 h 30",
        ),
        (
            "2021-09-01T09:00:00+02:00",
            "2021-09-01T18:00:00+02:00",
            True,
            "mercredi 1er septembre 2021",
        ),
        # Summer time: 09:30 UTC is 11:30 in Paris in June.
        ("2021-06-15T09:30:00+00:00", None, False, "mardi 15 juin 2021, 11 h 30"),
    ],
)
def test_dates_and_periods_in_french(starts, ends, all_day, expected):
    assert _plain(fr_period(starts, ends, all_day)) == expected


def test_a_moment_in_french_with_no_break_spaces_in_the_time():
    assert fr_datetime("2022-11-08T17:30:00+00:00") == f"mardi 8 novembre 2022, 18{NBSP}h{NBSP}30"


# --- The seed issues as composed -----------------------------------------------------------


def _text_nodes(html: str) -> str:
    body = re.sub(r"(?is)<(style|head)[^>]*>.*?</\1>|<!--.*?-->", "", html)
    return re.sub(r"<[^>]+>", "\n", body)


@pytest.mark.parametrize("seed", NEWSLETTER_SEEDS)
async def test_composed_text_uses_french_spacing(archived, seed):
    text = _text_nodes(archived[seed])
    assert not re.search(r"[ \t][:;!?](\s|$)", text), re.findall(r".{20}[ \t][:;!?].{0,5}", text)
    assert NNBSP in text and NBSP in text


@pytest.mark.parametrize("seed", NEWSLETTER_SEEDS)
async def test_sections_have_real_headings_styled_as_such(archived, seed):
    root = parse(archived[seed])
    headings = {level: [e for e in root.iter() if e.tag == level] for level in ("h1", "h2", "h3")}
    assert len(headings["h1"]) == 1
    assert len(headings["h2"]) >= 6 and headings["h3"]

    def size(element) -> float:
        return float(element.style()["font-size"].removesuffix("px"))

    # Section titles: their own inline style (not the text's), bigger than item titles, blue.
    assert all(size(h) >= 20 and h.style()["color"] == "#000091" for h in headings["h2"])
    assert min(size(h) for h in headings["h2"]) > max(size(h) for h in headings["h3"])
    assert all("section-title" in h.classes() for h in headings["h2"])


@pytest.mark.parametrize("seed", NEWSLETTER_SEEDS)
async def test_text_contrast_meets_wcag_aa_down_to_the_preheader(archived, seed):
    found = list(text_colours(archived[seed]))
    assert found
    weak = [
        (text[:40], round(contrast(fg, bg), 2)) for text, fg, bg in found if contrast(fg, bg) < 4.5
    ]
    assert not weak, weak
    preheader = next(e for e in parse(archived[seed]).iter() if "preheader" in e.classes())
    assert preheader.style()["display"] == "none" and preheader.text().strip()


@pytest.mark.parametrize("seed", NEWSLETTER_SEEDS)
async def test_every_image_has_an_alternative_text(archived, seed):
    images = [e for e in parse(archived[seed]).iter() if e.tag == "img"]
    assert images and all(e.attrs.get("alt", "").strip() for e in images)
