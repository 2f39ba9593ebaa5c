"""The GraphiQL IDE at /graphql works in a real browser, from local assets only.

Starts the real application (``tec demo`` then ``tec serve``) on a free port,
opens /graphql in headless Debian Chromium through Playwright, runs the default
query from the IDE and reads the result pane. Every request the page makes must
go to the gateway itself: no CDN, no outside host.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.live import copy_demo_database

pytestmark = [pytest.mark.browser, pytest.mark.heavy]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IDE_TITLE = "Territoires en Commun — GraphQL"
STARTUP_TIMEOUT_S = 30.0
UI_TIMEOUT_MS = 30_000
TOKEN = "Bearer ide-browser-test-token"

# Read the text of a CodeMirror 5 editor (GraphiQL 3) inside `root`; CodeMirror
# only renders the visible lines, so ask the editor instance for its value.
_JS_EDITOR_VALUE = """(root) => {
  const cm = root && root.querySelector('.CodeMirror');
  if (!cm) return null;
  return cm.CodeMirror ? cm.CodeMirror.getValue() : cm.innerText;
}"""


def _tec_executable() -> Path:
    return Path(sys.executable).parent / "tec"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server we started (its own process group, created by us)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def tec_server(tmp_path: Path) -> Iterator[str]:
    """Base URL of a real `tec serve` on a free port, over a fresh demo database."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium) — browser test skipped")
    pytest.importorskip("playwright.sync_api", reason="playwright (python) not installed")
    tec = _tec_executable()
    if not tec.exists():
        pytest.fail(f"`tec` command not found next to {sys.executable} (pip install -e .)")

    port = _free_port()
    env = os.environ.copy()
    env.update(
        TEC_DATABASE_URL=f"sqlite://{tmp_path}/tec.sqlite3",
        TEC_HOST="127.0.0.1",
        TEC_PORT=str(port),
    )

    copy_demo_database(tmp_path / "tec.sqlite3")  # as `tec demo` leaves it

    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(tec), "serve"],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stopped as a whole below
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(f"{base}/healthz"):
            if proc.poll() is not None:
                pytest.fail(
                    f"`tec serve` exited with {proc.returncode}:\n"
                    + log_path.read_text(errors="replace")
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"`tec serve` not healthy at {base}/healthz after {STARTUP_TIMEOUT_S:.0f}s:\n"
                    + log_path.read_text(errors="replace")
                )
            time.sleep(0.2)
        yield base
    finally:
        _stop(proc)


def exercise_ide(base: str, artifacts: Path) -> None:
    """Drive the IDE served at ``base``/graphql; raise AssertionError on any problem."""
    from playwright.sync_api import sync_playwright

    origin = urlsplit(base).netloc
    requested: list[str] = []
    foreign: list[str] = []
    page_errors: list[str] = []
    bad_static: list[str] = []

    def is_local(url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return True
        return parts.scheme in ("http", "https", "ws", "wss") and parts.netloc == origin

    def on_request(request) -> None:
        requested.append(f"{request.method} {request.url}")
        if not is_local(request.url):
            foreign.append(request.url)

    def on_websocket(ws) -> None:
        requested.append(f"WS {ws.url}")
        if not is_local(ws.url):
            foreign.append(ws.url)

    def on_response(response) -> None:
        if "/static/" in response.url and response.status != 200:
            bad_static.append(f"{response.status} {response.url}")

    def block_foreign(route) -> None:
        # Belt and braces: nothing may leave the machine even if the page tried.
        if is_local(route.request.url):
            route.continue_()
        else:
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.route("**/*", block_foreign)
            page = context.new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)
            page.on("request", on_request)
            page.on("response", on_response)
            page.on("websocket", on_websocket)
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))

            try:
                page.goto(f"{base}/graphql", wait_until="load")
                assert page.title() == IDE_TITLE
                assert page.get_attribute("html", "lang") == "fr"

                query_editor = page.locator(".graphiql-query-editor .CodeMirror").first
                query_editor.wait_for(state="visible")
                execute = page.locator("button.graphiql-execute-button")
                execute.wait_for(state="visible")
                query_text = page.evaluate(
                    _JS_EDITOR_VALUE, page.locator(".graphiql-query-editor").element_handle()
                )
                assert query_text and "resources(first: 5)" in query_text, query_text

                # 1. Run the default query with the execute button.
                with page.expect_response(
                    lambda r: (
                        r.request.method == "POST"
                        and urlsplit(r.url).path == "/graphql"
                        and "resources" in (r.request.post_data or "")
                    )
                ) as resp_info:
                    execute.click()
                assert resp_info.value.status == 200, resp_info.value.text()

                response_pane = page.locator(".graphiql-response")
                # Polled from here: a predicate evaluated inside the page would need
                # eval, which the page's Content-Security-Policy refuses.
                deadline = time.monotonic() + 15
                result_text = ""
                while '"edges"' not in (result_text or ""):
                    assert time.monotonic() < deadline, "the response never showed edges"
                    page.wait_for_timeout(100)
                    result_text = page.evaluate(_JS_EDITOR_VALUE, response_pane.element_handle())
                assert '"resources"' in result_text and '"edges"' in result_text, result_text
                result = json.loads(result_text)
                assert not result.get("errors"), result_text
                edges = result["data"]["resources"]["edges"]
                assert 0 < len(edges) <= 5, result_text
                title = edges[0]["node"]["title"]
                assert isinstance(title, str) and title.strip(), result_text
                assert json.dumps(title, ensure_ascii=False)[1:-1] in result_text

                # 2. The headers editor exists, is editable, and its headers are sent.
                page.locator('.graphiql-editor-tools button[data-name="headers"]').click()
                headers_section = page.locator('section.graphiql-editor-tool[aria-label="Headers"]')
                headers_section.wait_for(state="visible")
                headers_editor = headers_section.locator(
                    ".graphiql-editor:not(.hidden) .CodeMirror"
                ).first
                headers_editor.wait_for(state="visible")
                headers_editor.click()
                page.evaluate(
                    """([el, value]) => el.CodeMirror.setValue(value)""",
                    [headers_editor.element_handle(), json.dumps({"Authorization": TOKEN})],
                )
                query_editor.click()
                with page.expect_request(
                    lambda r: (
                        r.method == "POST"
                        and urlsplit(r.url).path == "/graphql"
                        and "resources" in (r.post_data or "")
                    )
                ) as req_info:
                    page.keyboard.press("Control+Enter")
                assert req_info.value.headers.get("authorization") == TOKEN
            except BaseException:
                page.screenshot(path=str(artifacts / "ide-failure.png"))
                raise
        finally:
            browser.close()

    assert not foreign, f"the IDE page requested outside hosts: {foreign}"
    assert not page_errors, f"JavaScript errors on the IDE page: {page_errors}"
    assert not bad_static, f"static assets not served: {bad_static}"
    assert any("/static/graphiql/graphiql.min.js" in r for r in requested), requested


def test_graphiql_ide_runs_default_query_from_local_assets(tec_server: str, tmp_path: Path) -> None:
    exercise_ide(tec_server, tmp_path)
