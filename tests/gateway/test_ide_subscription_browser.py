"""A live subscription from the bundled IDE, in headless Chromium: the ranking of a voting
round updates in the result pane when a local authority votes over HTTP."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from tests.gateway.test_ide_browser import _JS_EDITOR_VALUE, CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS
from tests.live import live_server

pytestmark = [pytest.mark.browser, pytest.mark.heavy]

SUBSCRIPTION = """subscription Classement($round: ID!) {
  votingRoundUpdated(round: $round) { ranking { theme { slug } votes } }
}"""
PASSWORD = "un mot de passe assez long"


def _set_editor(page, selector: str, value: str) -> None:
    editor = page.locator(f"{selector} .CodeMirror").first
    editor.wait_for(state="visible")
    page.evaluate(
        "([el, value]) => el.CodeMirror.setValue(value)", [editor.element_handle(), value]
    )


def test_a_vote_arrives_live_in_the_ide(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium) — browser test skipped")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with live_server(tmp_path) as server:
        for email, role in (("e@ide.test", "editor"), ("m@ide.test", "local-authority")):
            extra = ["--territory", "niort"] if role == "local-authority" else []
            server.tec(
                "user",
                "create",
                "--email",
                email,
                "--role",
                role,
                *extra,
                "--password-stdin",
                stdin=PASSWORD + "\n",
            )
        editor = server.tec("token", "create", "--email", "e@ide.test")
        member = server.tec("token", "create", "--email", "m@ide.test")
        themes = server.graphql("{ themes(first: 3) { nodes { id slug } } }")["data"]["themes"]
        now = dt.datetime.now(dt.UTC)
        opened = server.graphql(
            """mutation($input: VotingRoundInput!) { openVotingRound(input: $input) {
                votingRound { id } } }""",
            {
                "input": {
                    "title": "Tour suivi dans l'IDE",
                    "opensAt": (now - dt.timedelta(hours=1)).isoformat(),
                    "closesAt": (now + dt.timedelta(days=1)).isoformat(),
                    "candidates": [t["id"] for t in themes["nodes"]],
                }
            },
            token=editor,
        )
        round_id = opened["data"]["openVotingRound"]["votingRound"]["id"]
        chosen = themes["nodes"][1]

        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.set_default_timeout(UI_TIMEOUT_MS)
                errors: list[str] = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                frames: list[str] = []
                page.on(
                    "websocket",
                    lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))),
                )
                page.goto(f"{server.base_url}/graphql", wait_until="load")
                _set_editor(page, ".graphiql-query-editor", SUBSCRIPTION)
                page.locator('.graphiql-editor-tools button[data-name="variables"]').click()
                _set_editor(
                    page,
                    'section.graphiql-editor-tool[aria-label="Variables"] '
                    ".graphiql-editor:not(.hidden)",
                    json.dumps({"round": round_id}),
                )
                page.locator("button.graphiql-execute-button").click()

                def pane() -> str:
                    response = page.locator(".graphiql-response").element_handle()
                    return page.evaluate(_JS_EDITOR_VALUE, response) or ""

                def wait_for_pane(text: str) -> None:
                    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
                    while text not in pane():
                        assert time.monotonic() < deadline, f"{text!r} never shown: {pane()}"
                        page.wait_for_timeout(100)

                wait_for_pane("votingRoundUpdated")
                assert '"votes": 1' not in pane()
                voted = server.graphql(
                    "mutation($r: ID!, $t: ID!) "
                    "{ castVote(round: $r, theme: $t) { votingRound { ranking { votes } } "
                    "errors { code } } }",
                    {"r": round_id, "t": chosen["id"]},
                    token=member,
                )
                assert "errors" not in voted, voted
                assert voted["data"]["castVote"]["errors"] == [], voted
                wait_for_pane('"votes": 1')
                ranking = json.loads(pane())["data"]["votingRoundUpdated"]["ranking"]
                assert {"theme": {"slug": chosen["slug"]}, "votes": 1} in ranking
            except BaseException:
                page.screenshot(path=str(tmp_path / "ide-subscription-failure.png"))
                raise
            finally:
                browser.close()
    assert not errors, errors
    assert frames and all(not frame.startswith("b'") for frame in frames), frames[:3]
