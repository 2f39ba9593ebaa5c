"""An editor signs in from the IDE's own panel, in headless Chromium: the panel shows
their name, queries that need the token (over HTTP, and the WebSocket's
``connection_init``) carry it, signing out forgets and revokes it, and the ready
operations are open as tabs. All under the page's Content-Security-Policy."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from gateway.ide import READY_OPERATIONS
from tests.gateway.test_ide_browser import _JS_EDITOR_VALUE, CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS
from tests.live import live_server

pytestmark = [pytest.mark.browser, pytest.mark.heavy]

EMAIL = "camille@ide.test"
PASSWORD = "un mot de passe assez long"
NAME = "Camille Éditrice"
NEEDS_TOKEN = "query NeedsToken { me { displayName } moderationQueue(first: 3) { nodes { id } } }"
SUBSCRIPTION = (
    'subscription Live { votingRoundUpdated(round: "Vm90aW5nUm91bmQ6OTk5OTk=") '
    "{ ranking { votes } } }"
)
TAB_TITLES = ["Ressources", "CreateResource", "Publish", "ModerationQueue", "DraftNewsletter",
              "OpenVotingRound"]  # fmt: skip


def _set_query(page, value: str, operation: str) -> None:
    """Type ``value`` in the query editor, then wait until GraphiQL has read it: the
    active tab is named after its ``operation`` (else the run would send the previous
    operation's name)."""
    editor = page.locator(".graphiql-query-editor .CodeMirror").first
    editor.wait_for(state="visible")
    page.evaluate(
        "([el, value]) => el.CodeMirror.setValue(value)", [editor.element_handle(), value]
    )
    page.locator(".graphiql-tab-active").filter(has_text=operation).wait_for()


def _run(page, needle: str):
    """Execute the query editor's document; the request it sent."""
    with page.expect_request(
        lambda r: (
            r.method == "POST"
            and urlsplit(r.url).path == "/graphql"
            and needle in (r.post_data or "")
        )
    ) as sent:
        page.locator("button.graphiql-execute-button").click()
    return sent.value


def _result(page, needle: str) -> dict:
    page.wait_for_function(
        """(needle) => {
          const cm = document.querySelector('.graphiql-response .CodeMirror');
          const v = cm && cm.CodeMirror ? cm.CodeMirror.getValue() : '';
          return v.includes(needle);
        }""",
        arg=needle,
    )
    return json.loads(
        page.evaluate(_JS_EDITOR_VALUE, page.locator(".graphiql-response").element_handle())
    )


def test_an_editor_signs_in_works_and_signs_out_in_the_ide(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium) — browser test skipped")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with live_server(tmp_path) as server:
        server.tec("user", "create", "--email", EMAIL, "--role", "editor", "--display-name",
                   NAME, "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
        problems: list[str] = []
        frames: list[str] = []
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
                page.set_default_timeout(UI_TIMEOUT_MS)
                page.on("pageerror", lambda error: problems.append(str(error)))
                page.on(
                    "console",
                    lambda m: problems.append(m.text) if "Content Security" in m.text else None,
                )
                page.on(
                    "websocket",
                    lambda ws: ws.on("framesent", lambda payload: frames.append(str(payload))),
                )
                try:
                    response = page.goto(f"{server.base_url}/graphql", wait_until="load")
                    assert "script-src 'self'" in response.headers["content-security-policy"]

                    # The ready operations are tabs, after the default query's.
                    tabs = page.locator(".graphiql-tab")
                    tabs.nth(len(TAB_TITLES) - 1).wait_for(state="visible")
                    assert [t.strip() for t in tabs.all_inner_texts()] == TAB_TITLES
                    assert len(TAB_TITLES) == len(READY_OPERATIONS) + 1

                    # A wrong password is refused in the panel.
                    page.fill("#tec-sign-in input[name=email]", EMAIL)
                    page.fill("#tec-sign-in input[name=password]", "pas le bon mot de passe")
                    page.click("#tec-sign-in button[type=submit]")
                    page.wait_for_function(
                        "() => document.getElementById('tec-session-message')"
                        ".textContent.includes('incorrect')"
                    )

                    # Signing in shows who is signed in; the token stays in this tab only.
                    page.fill("#tec-sign-in input[name=password]", PASSWORD)
                    page.click("#tec-sign-in button[type=submit]")
                    page.locator("#tec-viewer-name").filter(has_text=NAME).wait_for()
                    assert page.inner_text("#tec-viewer-role") == "édition"
                    assert page.locator("#tec-sign-in").is_hidden()
                    token = page.evaluate("() => sessionStorage.getItem('tec.ide.token')")
                    assert token and token.startswith("tec_u_")
                    assert token not in page.evaluate("() => JSON.stringify(localStorage)")

                    # A query that needs the token: sent with it, answered for the editor.
                    _set_query(page, NEEDS_TOKEN, "NeedsToken")
                    sent = _run(page, "NeedsToken")
                    assert sent.headers.get("authorization") == f"Bearer {token}"
                    answer = _result(page, NAME)
                    assert "errors" not in answer, answer
                    assert answer["data"]["me"]["displayName"] == NAME

                    # A subscription's socket authenticates with it too (connection_init).
                    _set_query(page, SUBSCRIPTION, "Live")
                    page.locator("button.graphiql-execute-button").click()
                    _wait_for(page, lambda: any("connection_init" in f for f in frames))
                    init = json.loads(next(f for f in frames if "connection_init" in f))
                    assert init["payload"]["Authorization"] == f"Bearer {token}"

                    # Still signed in after a reload of the tab.
                    page.reload(wait_until="load")
                    page.locator("#tec-viewer-name").filter(has_text=NAME).wait_for()

                    # Signing out forgets the token here and revokes it on the server.
                    page.click("#tec-sign-out")
                    page.locator("#tec-sign-in").wait_for(state="visible")
                    assert page.evaluate("() => sessionStorage.getItem('tec.ide.token')") is None
                    assert page.inner_text("#tec-viewer-name") == ""
                    _set_query(page, NEEDS_TOKEN, "NeedsToken")
                    sent = _run(page, "NeedsToken")
                    assert "authorization" not in sent.headers
                    anonymous = _result(page, "UNAUTHENTICATED")
                    assert anonymous["data"] is None or anonymous["data"]["me"] is None
                except BaseException:
                    page.screenshot(path=str(tmp_path / "ide-session-failure.png"))
                    raise
            finally:
                browser.close()
        refused = server.graphql("{ me { email } }", token=token)
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert not problems, problems


def _wait_for(page, condition, attempts: int = 300) -> None:
    """Poll ``condition`` between short waits of the page's own clock (no sleep here)."""
    for _ in range(attempts):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("condition not met")
