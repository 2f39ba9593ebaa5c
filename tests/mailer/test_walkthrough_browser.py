"""The README's newsletter walk-through, in headless Chromium against a real ``tec serve``
with mail written to a directory: subscribe, click to confirm, compose, preview, test
send, ``tec newsletter send``, read the .eml, open the issue's pages (the logo loads: the
Content-Security-Policy allows it) and click to unsubscribe."""

from __future__ import annotations

import json
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.gateway.test_ide_browser import CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS
from tests.live import live_server

pytestmark = [pytest.mark.browser, pytest.mark.heavy]
PASSWORD = "un mot de passe assez long"


def _mail_to(directory: Path, address: str) -> list[EmailMessage]:
    found = []
    for path in sorted(directory.glob("*.eml"), key=lambda p: p.stat().st_mtime):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if address in str(message["To"]):
            found.append(message)
    return found


def _text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def _link(message: EmailMessage, part: str) -> str:
    """The one URL of the text part holding ``part`` (a path, a query)."""
    found = {u for u in re.findall(r"https?://[^\s<>]+", _text(message)) if part in u}
    assert len(found) == 1, f"{part!r}: {found} in:\n{_text(message)}"
    return found.pop()


def test_the_readme_newsletter_walk_through(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium) — browser test skipped")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    mail = tmp_path / "mail"
    # `tec` commands run elsewhere than the server: one secret, so that they sign alike.
    with live_server(
        tmp_path, TEC_MAIL_DIRECTORY=str(mail), TEC_SIGNING_SECRET="walk-through-" + "s" * 32
    ) as server:
        # 1. Subscribe (no account).
        answer = server.graphql(
            """mutation { subscribe(input: {email: "dominique@example.org",
                name: "Dominique"}) { message errors { field code message } } }"""
        )
        assert "errors" not in answer, answer
        assert answer["data"]["subscribe"]["errors"] == [], answer
        [confirmation] = _mail_to(mail, "dominique@example.org")
        confirm = _link(confirmation, "/newsletters/confirm?token=")

        # 3. An editor (3–5 run before the clicks, so that one browser does them all).
        server.tec(
            "user", "create", "--email", "editrice@example.org", "--role", "editor",
            "--password-stdin", stdin=PASSWORD + "\n",
        )  # fmt: skip
        token = server.tec("token", "create", "--email", "editrice@example.org")
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.set_default_timeout(UI_TIMEOUT_MS)
                refused: list[str] = []
                page.on(
                    "console",
                    lambda m: "Content Security Policy" in m.text and refused.append(m.text),
                )
                # 2. Confirm: the link shows a button, the click confirms.
                page.goto(confirm)
                page.get_by_role("button", name="Confirmer mon abonnement").click()
                page.wait_for_load_state()
                assert page.title() == "Abonnement confirmé"

                issue = server.graphql(
                    """mutation { createNewsletterIssue(input: {
                        title: "Juin 2021 : la démocratie culturelle", month: "2021-06-01",
                        introduction: "Bienvenue dans ce numéro."}) {
                        issue { id slug } errors { field code message } } }""",
                    token=token,
                )["data"]["createNewsletterIssue"]["issue"]
                # 4. Preview and test send: the sample recipient, no token.
                preview = server.graphql(
                    "query($id: ID!) { newsletterPreview(id: $id, format: TEXT) }",
                    {"id": issue["id"]},
                    token=token,
                )["data"]["newsletterPreview"]
                assert "Bonjour Camille," in preview and "tec_recipient" not in preview
                sent = server.graphql(
                    """mutation($id: ID!) { sendTestNewsletter(id: $id,
                        to: "editrice@example.org") {
                        receipt { messageId } errors { field code message } } }""",
                    {"id": issue["id"]},
                    token=token,
                )
                assert "errors" not in sent, sent
                assert sent["data"]["sendTestNewsletter"]["errors"] == [], sent
                # 5. Send, and read what Dominique received.
                server.tec("newsletter", "send", issue["id"])
                [_, received] = _mail_to(mail, "dominique@example.org")
                assert "Bonjour Dominique," in _text(received)
                html = received.get_body(("html",)).get_content()  # type: ignore[union-attr]
                (tmp_path / "issue.html").write_text(html, "utf-8")
                for url in (
                    f"file://{tmp_path / 'issue.html'}",
                    _link(received, f"/newsletters/{issue['slug']}"),
                ):
                    page.goto(url, wait_until="networkidle")
                    logo = page.locator('img[alt="Territoires en Commun"]')
                    assert logo.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [440, 120]
                    assert logo.evaluate("i => [i.width, i.height]") == [220, 60]
                    page.screenshot(path=str(tmp_path / "issue.png"), full_page=True)
                assert not refused, refused
                preferences = page.request.get(_link(received, "/newsletters/preferences?token="))
                assert preferences.status == 200 and "Dominique" in preferences.text()
                # 6. Unsubscribe: a button, then done.
                page.goto(_link(received, "/newsletters/unsubscribe?token="))
                page.get_by_role("button", name="Me désabonner").click()
                page.wait_for_load_state()
                assert page.title() == "Désabonnement enregistré"
            finally:
                browser.close()
        listed = server.http.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            json={"query": "{ subscribers { nodes { email status } } }"},
        ).json()
        assert {"email": "dominique@example.org", "status": "UNSUBSCRIBED"} in listed["data"][
            "subscribers"
        ]["nodes"], json.dumps(listed)
