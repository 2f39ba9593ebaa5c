"""Messages: headers refused on injection, MIME that parses, list headers, a dated Date,
stable Message-IDs."""

from __future__ import annotations

import datetime as dt
import email.utils
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest

from mailer.message import HeaderInjection, MessageFactory, check_header, message_id
from mailer.render import Personalizer, placeholder
from services.errors import BadUserInput

SENDER = "Territoires en Commun <newsletter@tec.example>"


def _factory(subject: str = "Juin : la démocratie culturelle") -> MessageFactory:
    return MessageFactory(sender=SENDER, subject=subject, domain_key="42")


@pytest.mark.parametrize("bad", ["Bonjour\r\nBcc: x@evil.example", "a\nb", "nul\x00"])
def test_header_injection_is_refused(bad):
    with pytest.raises(HeaderInjection):
        check_header(bad, field="subject")
    with pytest.raises(HeaderInjection):
        _factory(subject=bad)
    with pytest.raises(HeaderInjection):
        _factory().build(
            to_name=bad, to_address="a@example.org", subscriber_key=1, html="", text=""
        )


@pytest.mark.parametrize(
    "address", ["pas-une-adresse", "a@b", "a@example.org\r\nBcc: x@evil.example", ""]
)
def test_invalid_addresses_are_refused(address):
    with pytest.raises(BadUserInput):
        _factory().build(
            to_name="", to_address=address, subscriber_key=1, html="<p>x</p>", text="x"
        )


def test_message_parses_with_both_parts_and_unsubscribe_headers():
    envelope = _factory().build(
        to_name="Élise Dupont",
        to_address="elise@example.org",
        subscriber_key=7,
        html="<p>Bonjour Élise</p>",
        text="Bonjour Élise",
        unsubscribe_url="https://tec.example/newsletters/unsubscribe?token=abc",
    )
    message = message_from_bytes(envelope.data)
    assert str(make_header(decode_header(message["Subject"]))) == "Juin : la démocratie culturelle"
    assert "Élise Dupont" in str(make_header(decode_header(message["To"])))
    assert message["Message-ID"] == "<newsletter-42.7@tec.example>" == envelope.message_id
    assert message["List-Unsubscribe"] == "<https://tec.example/newsletters/unsubscribe?token=abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "Territoires en Commun <newsletter.tec.example>"
    parts = [p for p in message.walk() if not p.is_multipart()]
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert parts[0].get_payload(decode=True).decode() == "Bonjour Élise"
    assert b"\r\n" in envelope.data and b"\n\n" not in envelope.data.replace(b"\r\n", b"")


def test_date_carries_a_known_time_zone():
    envelope = _factory().build(
        to_name="", to_address="a@example.org", subscriber_key=1, html="", text=""
    )
    date = message_from_bytes(envelope.data)["Date"]
    assert date.endswith(" +0000"), date  # -0000 would say « time zone unknown »
    sent = email.utils.parsedate_to_datetime(date)
    assert sent.tzinfo is not None
    assert abs((sent - dt.datetime.now(dt.UTC)).total_seconds()) < 60


def test_message_id_is_stable_per_issue_and_subscriber():
    assert message_id(3, 9, "tec.example") == message_id(3, 9, "tec.example")
    assert message_id(3, 9, "tec.example") != message_id(3, 10, "tec.example")
    first = _factory().build(
        to_name="", to_address="a@example.org", subscriber_key=9, html="", text=""
    )
    again = _factory().build(
        to_name="", to_address="a@example.org", subscriber_key=9, html="", text=""
    )
    assert first.message_id == again.message_id


def test_personalizer_escapes_html_values_only():
    rendered = f'<p>{placeholder("greeting")}</p><a href="{placeholder("unsubscribe_url")}">x</a>'
    html = Personalizer.of(rendered, escape=True)
    filled = html.fill({"greeting": "Bonjour <b>Ana</b>,", "unsubscribe_url": "https://x/?a=1&b=2"})
    assert filled == '<p>Bonjour &lt;b&gt;Ana&lt;/b&gt;,</p><a href="https://x/?a=1&amp;b=2">x</a>'
    text = Personalizer.of(f"{placeholder('greeting')}\n", escape=False)
    assert text.fill({"greeting": "Bonjour <Ana>,"}) == "Bonjour <Ana>,\n"
