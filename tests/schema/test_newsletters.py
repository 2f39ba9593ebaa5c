"""Newsletters through GraphQL and their web pages, as editors and subscribers live them."""

from __future__ import annotations

import datetime as dt
import re

from mailer.sending import send_issue
from mailer.transport import MemoryTransport
from schema import build_schema
from schema.newsletters.executor import build_executor
from schema.relay import from_global_id, to_global_id
from services.subscribers.models import Subscriber, SubscriberStatus, SubscriptionRequest
from services.subscribers.service import manage_token
from services.subscribers.signing import signing_keys
from tests.conftest import USER_ERRORS, user_error, user_errors
from tests.mailer import support
from tests.mailer.support import fresh_theme, make_subscribers
from tests.unique import unique_tag

# The newsletter fixtures (an app with a signing secret, mail kept in memory).
_remove_segment_themes = support._remove_segment_themes
news_app = support.news_app
news_client = support.news_client
news_gql = support.news_gql
news_settings = support.news_settings
outbox = support.outbox

CREATE = f"""mutation($input: NewsletterIssueCreateInput!) {{
  createNewsletterIssue(input: $input) {{
    issue {{ id slug status version variables }} {USER_ERRORS} }}
}}"""
COMPOSE = """mutation($id: ID!) { composeNewsletter(id: $id) {
  composed { subject html text sections { kind items titles } } } }"""
SUBSCRIBE = f"""mutation($input: SubscribeInput!) {{
  subscribe(input: $input) {{ message {USER_ERRORS} }} }}"""


async def _issue(gql, principals, **extra) -> dict:
    values = {"title": f"Juin 2021 {unique_tag(6)}", "month": "2021-06-01", **extra}
    created = await gql.data(CREATE, {"input": values}, headers=principals["EDITOR"])
    return created["createNewsletterIssue"]["issue"]


def _section(composed: dict, kind: str) -> dict:
    return next(s for s in composed["sections"] if s["kind"] == kind)


async def test_editor_composes_an_issue_and_arranges_its_items(news_gql, principals):
    editor = principals["EDITOR"]
    issue = await _issue(news_gql, principals, introduction="Bienvenue !\n\nBonne lecture.")
    assert issue["status"] == "DRAFT"
    assert issue["variables"]["theme"] == "la-democratie-culturelle"
    composed = (await news_gql.data(COMPOSE, {"id": issue["id"]}, headers=editor))[
        "composeNewsletter"
    ]["composed"]
    kinds = [s["kind"] for s in composed["sections"]]
    assert (
        kinds.index("THEME_OF_THE_MONTH")
        < kinds.index("INSPIRING_PROJECTS")
        < kinds.index("CONCEPT")
        < kinds.index("AGENDA")
    )
    inspiring = _section(composed, "INSPIRING_PROJECTS")["items"]
    assert len(inspiring) >= 2
    assert '<html lang="fr"' in composed["html"] and "Bienvenue\u202f!" in composed["text"]
    # Pin the last one, remove the first, add a resource from elsewhere.
    extra = await news_gql.data('{ resource(slug: "decider-ensemble-recrute") { id } }')
    extra_id = extra["resource"]["id"] if extra["resource"] else None
    mutation = """mutation($id: ID!, $item: ID!) {
      %s(id: $id, section: INSPIRING_PROJECTS, item: $item) {
        issue { version items { item pinned removed } } } }"""
    await news_gql.data(
        mutation % "pinNewsletterItem", {"id": issue["id"], "item": inspiring[-1]}, headers=editor
    )
    await news_gql.data(
        mutation % "removeNewsletterItem", {"id": issue["id"], "item": inspiring[0]}, headers=editor
    )
    if extra_id:
        await news_gql.data(
            mutation % "addNewsletterItem", {"id": issue["id"], "item": extra_id}, headers=editor
        )
    again = (await news_gql.data(COMPOSE, {"id": issue["id"]}, headers=editor))[
        "composeNewsletter"
    ]["composed"]
    arranged = _section(again, "INSPIRING_PROJECTS")["items"]
    assert arranged[0] == inspiring[-1] and inspiring[0] not in arranged
    if extra_id:
        assert extra_id in arranged
    # Reorder: these first, in this order.
    order = list(reversed(arranged))
    await news_gql.data(
        """mutation($id: ID!, $items: [ID!]!) { reorderNewsletterItems(id: $id,
            section: INSPIRING_PROJECTS, items: $items) { issue { id } } }""",
        {"id": issue["id"], "items": order},
        headers=editor,
    )
    # The pinned item stays on top; the others follow the new order.
    final = (await news_gql.data(COMPOSE, {"id": issue["id"]}, headers=editor))[
        "composeNewsletter"
    ]["composed"]
    items = _section(final, "INSPIRING_PROJECTS")["items"]
    assert items[0] == inspiring[-1]
    assert items[1:] == [i for i in order if i != inspiring[-1]]
    text = await news_gql.data(
        "query($id: ID!) { newsletterPreview(id: $id, format: TEXT) }",
        {"id": issue["id"]},
        headers=editor,
    )
    assert "THÉMATIQUE DU MOIS" in text["newsletterPreview"]


async def test_newsletters_are_for_editors_and_addresses_never_reach_partner_keys(
    news_gql, principals
):
    issue = await _issue(news_gql, principals)
    for who in ("ANONYMOUS", "PARTNER_KEY_READ", "PARTNER_KEY_CONTRIBUTE", "LOCAL_AUTHORITY"):
        body = await news_gql(COMPOSE, {"id": issue["id"]}, headers=principals[who])
        assert body["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")
        listed = await news_gql("{ subscribers { nodes { email } } }", headers=principals[who])
        assert listed["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")
    theme = await fresh_theme()
    [person] = await make_subscribers(1, theme)
    node = to_global_id("Subscriber", person.id)
    query = "query($id: ID!) { subscriber(id: $id) { email } }"
    body = await news_gql(query, {"id": node}, headers=principals["PARTNER_KEY_READ"])
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and not body.get("data")
    seen = await news_gql.data(query, {"id": node}, headers=principals["EDITOR"])
    assert seen["subscriber"]["email"] == person.email


async def test_recipient_preview_counts_per_audience_before_sending(news_gql, principals):
    theme = await fresh_theme()
    people = await make_subscribers(3, theme)
    await make_subscribers(2, theme, status=SubscriberStatus.PENDING)
    await Subscriber.filter(id=people[0].id).update(audience="LOCAL_AUTHORITY")
    issue = await _issue(news_gql, principals, themes=[to_global_id("Theme", theme.id)])
    preview = await news_gql.data(
        """query($id: ID!) { newsletterRecipients(id: $id, first: 10) {
            total byAudience { audience count } sample { email } } }""",
        {"id": issue["id"]},
        headers=principals["EDITOR"],
    )
    found = preview["newsletterRecipients"]
    assert found["total"] == 3
    assert {a["audience"]: a["count"] for a in found["byAudience"]} == {
        "LOCAL_AUTHORITY": 1,
        "PARTNER": 0,
        "CITIZEN": 2,
    }
    assert sorted(s["email"] for s in found["sample"]) == sorted(p.email for p in people)


def _mails(outbox: MemoryTransport, address: str) -> list[tuple[str, str]]:
    """(headers, text part) of every message sent to ``address``."""
    from email import message_from_bytes

    found = []
    for message in [m for m in outbox.sent if m.recipient == address]:
        text = next(
            p.get_payload(decode=True).decode()
            for p in message_from_bytes(message.data).walk()
            if p.get_content_type() == "text/plain"
        )
        found.append((message.data.split(b"\r\n\r\n", 1)[0].decode(), text))
    return found


def _token(outbox: MemoryTransport, address: str, path: str) -> str:
    headers, text = _mails(outbox, address)[-1]
    return re.search(rf"{path}\?token=([A-Za-z0-9_.%-]+)", headers + text).group(1)


def _manage_token(settings, row: Subscriber) -> str:
    """The token of the unsubscribe and preferences links of the issues sent to ``row``."""
    return manage_token(signing_keys(settings), row.id, row.link_generation)


async def test_double_opt_in_preferences_one_click_unsubscribe_export_and_erasure(
    news_gql, news_client, news_settings, outbox, principals
):
    address = f"camille-{unique_tag(8)}@example.org"
    theme = (await news_gql.data('{ theme(slug: "la-democratie-culturelle") { id } }'))["theme"]
    answer = await news_gql.data(
        SUBSCRIBE,
        {
            "input": {
                "email": address,
                "name": "Camille",
                "audience": "LOCAL_AUTHORITY",
                "themes": [theme["id"]],
                "source": "formulaire du site",
                "consentWordingVersion": "2026-11",
            }
        },
    )
    assert "confirmation" in answer["subscribe"]["message"]
    row = await Subscriber.get(email=address)
    assert row.status is SubscriberStatus.PENDING
    assert (row.consent_ip, row.consent_source, row.consent_wording_version) == (
        "203.0.113.7",
        "formulaire du site",
        "2026-11",
    )
    token = _token(outbox, address, "/newsletters/confirm")
    # A GET (a mail scanner following the link) shows a button and confirms nothing.
    page = await news_client.get(f"/newsletters/confirm?token={token}")
    assert page.status_code == 200 and "Confirmer mon abonnement</button>" in page.text
    assert f'<form method="post" action="?token={token}">' in page.text
    await row.refresh_from_db()
    assert row.status is SubscriberStatus.PENDING and row.confirmed_at is None
    page = await news_client.post(f"/newsletters/confirm?token={token}")
    assert page.status_code == 200 and "confirmé" in page.text
    await row.refresh_from_db()
    assert row.status is SubscriberStatus.CONFIRMED and row.confirmed_at
    again = await news_client.post(f"/newsletters/confirm?token={token}")
    assert again.status_code == 200 and "confirmé" in again.text
    # The same address again: nothing changes, nothing is sent, and the answer does not tell.
    sent = len(_mails(outbox, address))
    again = await news_gql.data(SUBSCRIBE, {"input": {"email": address}})
    assert again == answer and len(_mails(outbox, address)) == sent
    manage = _manage_token(news_settings, row)
    changed = await news_gql.data(
        """mutation($t: String!) { updateSubscriptionPreferences(token: $t,
            input: {audience: PARTNER, themes: []}) {
              subscription { audience themes status } } }""",
        {"t": manage},
    )
    assert changed["updateSubscriptionPreferences"]["subscription"] == {
        "audience": "PARTNER",
        "themes": [],
        "status": "CONFIRMED",
    }
    exported = await news_gql.data(
        "mutation($t: String!) { exportMySubscriptionData(token: $t) { data } }", {"t": manage}
    )
    data = exported["exportMySubscriptionData"]["data"]
    assert data["email"] == address and data["consent"]["ip"] == "203.0.113.7"
    # RFC 8058 one-click: a POST with List-Unsubscribe=One-Click, no page in between.
    scanner = await news_client.get(f"/newsletters/unsubscribe?token={manage}")
    assert scanner.status_code == 200
    await row.refresh_from_db()
    assert row.status is SubscriberStatus.CONFIRMED  # a GET never unsubscribes
    for _ in range(2):  # a second click is answered the same
        click = await news_client.post(
            f"/newsletters/unsubscribe?token={manage}",
            content="List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert click.status_code == 200 and "Désabonnement enregistré" in click.text
    await row.refresh_from_db()
    assert row.status is SubscriberStatus.UNSUBSCRIBED and row.unsubscribed_at
    # Unsubscribed, the links sent before manage nothing any more; the current one erases.
    erase = (
        f"mutation($t: String!) {{ eraseMySubscriptionData(token: $t) {{ erased {USER_ERRORS} }} }}"
    )
    body = await news_gql(erase, {"t": manage})
    assert user_error(body, "eraseMySubscriptionData") == ("BAD_USER_INPUT", "token")
    erased = await news_gql.data(erase, {"t": _manage_token(news_settings, row)})
    assert erased["eraseMySubscriptionData"] == {"erased": True, "errors": []}
    assert not await Subscriber.filter(email=address).exists()


async def test_a_request_for_a_known_address_waits_for_its_own_link_and_greets_no_one(
    news_gql, news_client, outbox
):
    address = f"dominique-{unique_tag(8)}@example.org"
    stranger = f"inconnu-{unique_tag(8)}@example.org"
    owner = await news_gql.data(SUBSCRIBE, {"input": {"email": address, "name": "Dominique"}})
    [(_, mail)] = _mails(outbox, address)
    assert mail.startswith("Bonjour,\n") and "Dominique" not in mail
    owner_link = _token(outbox, address, "/newsletters/confirm")
    row = await Subscriber.get(email=address)
    stored = (row.name, row.audience, row.consent_ip, row.consent_source, row.link_generation)
    hijack = {
        "email": address,
        "name": "Cliquez ici http://evil.example",
        "audience": "PARTNER",
        "source": "ailleurs",
    }
    # Within the throttle's interval: the same answer, and nothing is sent.
    throttled = await news_gql.data(SUBSCRIBE, {"input": hijack})
    assert len(_mails(outbox, address)) == 1
    # Later: the same answer again, a mail that greets no one, and still nothing stored.
    await SubscriptionRequest.filter(subscriber_id=row.id).update(
        consent_at=row.consent_at - dt.timedelta(hours=1)
    )
    later = await news_gql.data(SUBSCRIBE, {"input": hijack})
    fresh = await news_gql.data(SUBSCRIBE, {"input": {"email": stranger}})
    assert owner == throttled == later == fresh
    headers, mail = _mails(outbox, address)[-1]
    assert len(_mails(outbox, address)) == 2
    assert mail.startswith("Bonjour,\n") and "evil" not in mail + headers
    hijack_link = _token(outbox, address, "/newsletters/confirm")
    await news_client.get(f"/newsletters/confirm?token={hijack_link}")
    await row.refresh_from_db()
    assert (row.name, row.audience, row.consent_ip, row.consent_source) == stored[:4]
    assert row.status is SubscriberStatus.PENDING and row.link_generation == stored[4]
    # The owner confirms their own request: the other one's link is dead.
    await news_client.post(f"/newsletters/confirm?token={owner_link}")
    await row.refresh_from_db()
    assert row.status is SubscriberStatus.CONFIRMED and row.name == "Dominique"
    refused = await news_client.post(f"/newsletters/confirm?token={hijack_link}")
    assert refused.status_code == 400
    confirmed = await news_gql(
        f"""mutation($t: String!) {{ confirmSubscription(token: $t) {{
          subscription {{ status }} {USER_ERRORS} }} }}""",
        {"t": hijack_link},
    )
    assert user_error(confirmed, "confirmSubscription") == ("BAD_USER_INPUT", "token")
    await row.refresh_from_db()
    assert row.name == "Dominique" and row.audience.value == "CITIZEN"


async def test_bad_input_is_refused(news_gql, news_client, principals):
    for values, field in (
        ({"email": "pas-une-adresse"}, "email"),
        ({"email": "a@example.org\r\nBcc: x@evil.example"}, "email"),
        ({"email": "ok@example.org", "name": "Camille\r\nBcc: x@evil.example"}, "name"),
    ):
        body = await news_gql(SUBSCRIBE, {"input": values})
        assert user_error(body, "subscribe") == ("BAD_USER_INPUT", field), values
    body = await news_gql(
        CREATE,
        {"input": {"title": "Numéro", "subject": "Sujet\r\nBcc: x@evil.example"}},
        headers=principals["EDITOR"],
    )
    assert user_error(body, "createNewsletterIssue") == ("BAD_USER_INPUT", "subject")
    for method in ("GET", "POST"):
        forged = await news_client.request(
            method, "/newsletters/confirm?token=Y29uZmlybToxOjE6MA.AAAA"
        )
        assert forged.status_code == 400
    body = await news_gql(
        f"""mutation {{ unsubscribe(token: "n'importe quoi") {{
          subscription {{ status }} {USER_ERRORS} }} }}"""
    )
    assert user_error(body, "unsubscribe") == ("BAD_USER_INPUT", "token")


async def test_a_broken_template_is_refused_with_the_graphql_errors(news_gql, principals):
    editor = principals["EDITOR"]
    broken = await news_gql(
        """mutation { createNewsletterTemplate(input: {name: "Cassé",
            document: "{ themes { nodes { nope } } }", mjml: "<mjml></mjml>"}) {
              template { id } errors { field code message } } }""",
        headers=editor,
    )
    [error] = user_errors(broken, "createNewsletterTemplate")
    assert error["code"] == "COMPOSITION_FAILED" and "nope" in error["message"]
    # A template stored before its document broke: scheduling refuses, nothing changes.
    from services.newsletters.models import NewsletterTemplate

    template = await NewsletterTemplate.create(
        slug=f"casse-{unique_tag(6)}",
        name="Cassé",
        document="{ nope }",
        mjml="<mjml><mj-body></mj-body></mjml>",
    )
    issue = await _issue(
        news_gql, principals, template=to_global_id("NewsletterTemplate", template.id)
    )
    refused = await news_gql(
        """mutation($id: ID!) { scheduleNewsletter(id: $id, at: "2099-01-01T09:00:00+01:00")
            { issue { status } errors { field code message } } }""",
        {"id": issue["id"]},
        headers=editor,
    )
    [error] = user_errors(refused, "scheduleNewsletter")
    assert error["code"] == "COMPOSITION_FAILED" and "nope" in error["message"]
    state = await news_gql.data(
        "query($id: ID!) { newsletterIssue(id: $id) { status scheduledAt } }",
        {"id": issue["id"]},
        headers=editor,
    )
    assert state["newsletterIssue"] == {"status": "DRAFT", "scheduledAt": None}


async def test_schedule_cancel_and_test_send(news_gql, outbox, principals):
    editor = principals["EDITOR"]
    issue = await _issue(news_gql, principals)
    scheduled = await news_gql.data(
        """mutation($id: ID!) { scheduleNewsletter(id: $id, at: "2099-01-01T09:00:00+01:00")
            { issue { status scheduledAt } } }""",
        {"id": issue["id"]},
        headers=editor,
    )
    assert scheduled["scheduleNewsletter"]["issue"]["status"] == "SCHEDULED"
    cancelled = await news_gql.data(
        "mutation($id: ID!) { cancelNewsletter(id: $id) { issue { status scheduledAt } } }",
        {"id": issue["id"]},
        headers=editor,
    )
    assert cancelled["cancelNewsletter"]["issue"] == {"status": "DRAFT", "scheduledAt": None}
    receipt = await news_gql.data(
        """mutation($id: ID!) { sendTestNewsletter(id: $id, to: "relecture@example.org")
            { receipt { to messageId } } }""",
        {"id": issue["id"]},
        headers=editor,
    )
    assert receipt["sendTestNewsletter"]["receipt"]["to"] == "relecture@example.org"
    sent = [m for m in outbox.sent if m.recipient == "relecture@example.org"][-1]
    assert b"[TEST]" in sent.data


async def test_the_web_archive_shows_exactly_what_was_sent(
    news_gql, news_client, news_settings, principals
):
    editor = principals["EDITOR"]
    theme = await fresh_theme()
    await make_subscribers(2, theme)
    issue = await _issue(news_gql, principals, themes=[to_global_id("Theme", theme.id)])
    composed = (await news_gql.data(COMPOSE, {"id": issue["id"]}, headers=editor))[
        "composeNewsletter"
    ]["composed"]
    first = _section(composed, "INSPIRING_PROJECTS")
    resource_id, old_title = first["items"][0], first["titles"][0]
    execute = build_executor(build_schema(news_settings), news_settings)
    counts = await send_issue(
        execute,
        from_global_id(issue["id"])[1],
        settings=news_settings,
        transport=MemoryTransport(),
    )
    assert counts["SENT"] == 2
    version = await news_gql.data(
        "query($id: ID!) { node(id: $id) { ... on Resource { version } } }",
        {"id": resource_id},
        headers=editor,
    )
    await news_gql.data(
        """mutation($id: ID!, $v: Int!) { updateResource(id: $id, version: $v,
            input: {title: "Titre changé après l'envoi"}) { resource { id } } }""",
        {"id": resource_id, "v": version["node"]["version"]},
        headers=editor,
    )
    page = await news_client.get(f"/newsletters/{issue['slug']}")
    assert page.status_code == 200
    import html as html_module

    assert html_module.escape(old_title, quote=False) in page.text or old_title in page.text
    assert "Titre changé après l'envoi" not in page.text
    assert "token=" not in page.text  # nobody's links on the public page
    archive = await news_client.get("/newsletters")
    assert issue["slug"] in archive.text
    listed = await news_gql.data("{ newsletterArchive(first: 100) { nodes { slug webUrl } } }")
    assert issue["slug"] in [n["slug"] for n in listed["newsletterArchive"]["nodes"]]
    # Sent issues are no longer editable.
    refused = await news_gql(
        """mutation($id: ID!) { updateNewsletterIssue(id: $id, version: 1,
            input: {introduction: "trop tard"}) { issue { id } errors { field code message } } }""",
        {"id": issue["id"]},
        headers=editor,
    )
    assert user_error(refused, "updateNewsletterIssue")[0] == "CONFLICT"


async def test_previews_greet_a_sample_recipient_and_show_no_token(news_gql, principals):
    editor = principals["EDITOR"]
    issue = await _issue(news_gql, principals)
    composed = (await news_gql.data(COMPOSE, {"id": issue["id"]}, headers=editor))[
        "composeNewsletter"
    ]["composed"]
    previews = await news_gql.data(
        """query($id: ID!) { html: newsletterPreview(id: $id, format: HTML)
            text: newsletterPreview(id: $id, format: TEXT) }""",
        {"id": issue["id"]},
        headers=editor,
    )
    for shown in (composed["html"], composed["text"], previews["html"], previews["text"]):
        assert "Bonjour Camille," in shown
        assert "tec_recipient__" not in shown and "\ue000" not in shown
        assert "https://tec.example/newsletters/unsubscribe" in shown
        assert "token=" not in shown  # nobody's links


SECTIONS = """mutation($id: ID!, $v: Int!, $sections: [NewsletterSectionInput!]!) {
  setNewsletterSections(id: $id, version: $v, sections: $sections) {
    issue { version sections { kind title callToAction curated } }
    errors { field code message } } }"""


async def test_editors_reorder_sections_and_leave_some_out(news_gql, principals):
    editor = principals["EDITOR"]
    issue = await _issue(news_gql, principals)
    template = await news_gql.data(
        "query($id: ID!) { newsletterIssue(id: $id) { sections { kind title } } }",
        {"id": issue["id"]},
        headers=editor,
    )
    kinds = [s["kind"] for s in template["newsletterIssue"]["sections"]]
    assert kinds.index("VOTE") < kinds.index("CONCEPT") and kinds[-1] == "FOOTER"
    chosen = [
        {"kind": "VIEW_IN_BROWSER"},
        {"kind": "CONCEPT"},
        {"kind": "THEME_OF_THE_MONTH", "title": "Notre thématique", "callToAction": ""},
        {"kind": "FOOTER"},
    ]
    changed = await news_gql.data(
        SECTIONS, {"id": issue["id"], "v": issue["version"], "sections": chosen}, headers=editor
    )
    sections = changed["setNewsletterSections"]["issue"]["sections"]
    assert [s["kind"] for s in sections] == [
        "VIEW_IN_BROWSER",
        "CONCEPT",
        "THEME_OF_THE_MONTH",
        "FOOTER",
    ]
    assert sections[1]["title"] == "Le concept du mois"  # the template's wording where not given
    assert (sections[2]["title"], sections[2]["callToAction"]) == ("Notre thématique", None)
    composed = (await news_gql.data(COMPOSE, {"id": issue["id"]}, headers=editor))[
        "composeNewsletter"
    ]["composed"]
    assert [s["kind"] for s in composed["sections"]] == [s["kind"] for s in sections]
    html = composed["html"]
    assert html.index("Le concept du mois") < html.index("Notre thématique")
    assert "Votez pour une thématique" not in html and "C'est ici" not in html
    refused = await news_gql(
        SECTIONS,
        {
            "id": issue["id"],
            "v": changed["setNewsletterSections"]["issue"]["version"],
            "sections": [{"kind": "VOTE"}],
        },
        headers=editor,
    )
    [error] = user_errors(refused, "setNewsletterSections")
    assert error["code"] == "BAD_USER_INPUT" and "FOOTER" in error["message"]


async def test_a_draft_for_the_month_is_pre_filled_and_editors_only_review_it(news_gql, principals):
    editor = principals["EDITOR"]
    drafted = await news_gql.data(
        'mutation { draftNewsletter(month: "2022-11") { issue { id title month status } } }',
        headers=editor,
    )
    issue = drafted["draftNewsletter"]["issue"]
    assert issue["title"] == "Territoires en Commun — novembre 2022 : Le passage à l'action"
    assert (issue["month"], issue["status"]) == ("2022-11-01", "DRAFT")
    composed = (await news_gql.data(COMPOSE, {"id": issue["id"]}, headers=editor))[
        "composeNewsletter"
    ]["composed"]
    titles = {s["kind"]: s["titles"] for s in composed["sections"]}
    assert titles["THEME_OF_THE_MONTH"] == ["Le passage à l'action"]
    assert len(titles["INSPIRING_PROJECTS"]) == 4
    assert titles["CONCEPT"] == ["La coopération"]
    bad = await news_gql(
        f'mutation {{ draftNewsletter(month: "novembre") {{ issue {{ id }} {USER_ERRORS} }} }}',
        headers=editor,
    )
    assert user_error(bad, "draftNewsletter") == ("BAD_USER_INPUT", "month")
    denied = await news_gql(
        'mutation { draftNewsletter(month: "2022-11") { issue { id } } }',
        headers=principals["PARTNER"],
    )
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_fields_that_depend_on_now_answer_as_of_the_readers_date(news_settings):
    """What a newsletter of June 2021 reads: the vote open, the theme announced for July,
    the shared project at its first stage; today: the vote closed, no next theme, no stage
    (the project ended in 2022)."""
    import datetime as dt

    from services.viewer import Viewer

    execute = build_executor(build_schema(news_settings), news_settings)
    document = """{ nextTheme { slug }
      votingRounds(first: 10) { nodes { slug isOpen } }
      sharedProjects(first: 10) { nodes { slug currentStage { kind } statusLabel } } }"""
    then = await execute(document, {}, Viewer(as_of=dt.datetime(2021, 6, 15, 10, tzinfo=dt.UTC)))
    assert not then.errors, then.errors
    assert then.data["nextTheme"]["slug"] == (
        "democratie-sanitaire-et-nouvelles-cooperations-territoriales"
    )
    seed_round = "votez-pour-les-thematiques-des-projets-partages"
    assert {"slug": seed_round, "isOpen": True} in then.data["votingRounds"]["nodes"]
    project = next(
        p
        for p in then.data["sharedProjects"]["nodes"]
        if p["slug"] == "co-construire-la-politique-culturelle-avec-ses-habitants"
    )
    assert project["currentStage"] == {"kind": "ENGAGEMENT"}
    # Content published after that day does not exist for that reader.
    later = await execute(
        '{ resource(slug: "decider-ensemble-recrute") { id } }',
        {},
        Viewer(as_of=dt.datetime(2021, 6, 15, 10, tzinfo=dt.UTC)),
    )
    assert later.data["resource"] is None
    now = await execute(document, {}, Viewer())
    assert now.data["nextTheme"] is None
    assert {"slug": seed_round, "isOpen": False} in now.data["votingRounds"]["nodes"]
    project = next(
        p
        for p in now.data["sharedProjects"]["nodes"]
        if p["slug"] == "co-construire-la-politique-culturelle-avec-ses-habitants"
    )
    assert project == {**project, "currentStage": None, "statusLabel": "Terminé"}
