"""E-mail that arrives: the newsletter, a test send and the confirmation e-mail, each built
by the real code paths, pass SpamAssassin's local tests (``spamassassin -L -t``: no
network, no Bayes) with a score of 1.0 at most.

SpamAssassin is Debian's package: installed here when missing and running as root;
otherwise the tests skip and say why.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mailer.sending import send_issue
from mailer.transport import MemoryTransport
from schema import build_schema
from schema.newsletters.executor import build_executor
from schema.relay import to_global_id
from services.newsletters import service
from services.viewer import Role, Viewer
from tests.mailer.support import fresh_theme, make_subscribers
from tests.unique import unique_tag

pytestmark = pytest.mark.heavy

MAX_SCORE = 1.0


@dataclass(frozen=True)
class SpamReport:
    score: float
    rules: dict[str, float]

    def __str__(self) -> str:
        hits = ", ".join(f"{name} {points:+.1f}" for name, points in self.rules.items())
        return f"score {self.score:.1f} ({hits})"


def _install() -> str | None:
    """Install Debian's spamassassin when missing; the reason it is unavailable, or None."""
    if shutil.which("spamassassin"):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "spamassassin is not installed (apt-get install spamassassin, as root)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["apt-get", *args], env=env, capture_output=True, text=True, timeout=900
        )

    done = apt("install", "-y", "spamassassin")
    if done.returncode != 0:  # an outdated package list: refresh it once
        apt("update")
        done = apt("install", "-y", "spamassassin")
    if done.returncode != 0 or not shutil.which("spamassassin"):
        return f"spamassassin could not be installed: {done.stderr.strip()[-300:]}"
    return None


@pytest.fixture(scope="session")
def spamassassin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home of its own for SpamAssassin (user preferences), once it is installed."""
    problem = _install()
    if problem:
        pytest.skip(problem)
    return tmp_path_factory.mktemp("spamassassin")


def spam_report(home: Path, data: bytes) -> SpamReport:
    """``spamassassin -L -t`` on the raw message: its score and the points of each rule."""
    done = subprocess.run(
        ["spamassassin", "-L", "-t", "-p", str(home / "user_prefs"), "--cf=use_bayes 0"],
        input=data,
        capture_output=True,
        timeout=120,
        env={**os.environ, "HOME": str(home)},
        check=False,
    )
    output = done.stdout.decode("utf-8", "replace")
    status = re.search(r"^X-Spam-Status: .*?score=(-?[\d.]+)", output, re.M)
    if status is None:
        pytest.skip(f"spamassassin did not run: {done.stderr.decode()[-300:]}")
    table = output.split("Content analysis details:", 1)[-1]
    rules = {
        name: float(points)
        for points, name in re.findall(r"^\s*(-?\d+\.\d+)\s+([A-Z0-9_]+)\s", table, re.M)
    }
    return SpamReport(float(status.group(1)), rules)


@pytest.fixture(scope="module")
async def messages(news_app, news_settings, outbox, principals) -> dict[str, bytes]:
    """One raw message of each kind, as the platform sends them."""
    editor = principals["EDITOR"]
    theme = await fresh_theme()
    [subscriber] = await make_subscribers(1, theme)
    address = f"spam-{unique_tag(8)}@example.org"
    transport = httpx.ASGITransport(app=news_app, client=("203.0.113.9", 4242))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

        async def gql(query: str, variables: dict, headers: dict | None = None) -> dict:
            body = (
                await client.post(
                    "/graphql", json={"query": query, "variables": variables}, headers=headers
                )
            ).json()
            assert "errors" not in body, body
            refused = [p for p in body["data"].values() if p.get("errors")]
            assert not refused, refused
            return body["data"]

        await gql(
            """mutation($input: SubscribeInput!) { subscribe(input: $input) {
                message errors { code } } }""",
            {"input": {"email": address, "themes": [to_global_id("Theme", theme.id)]}},
        )
        issue = await service.create_issue(
            Viewer(role=Role.EDITOR),
            title="Juin 2021 : la démocratie culturelle",
            month=dt.date(2021, 6, 1),
            changes=service.IssueChanges(
                segment_themes=[theme.id],
                introduction="Bienvenue dans ce numéro consacré à la démocratie culturelle.",
            ),
        )
        await gql(
            """mutation($id: ID!, $to: String!) { sendTestNewsletter(id: $id, to: $to)
                { receipt { messageId } errors { code } } }""",
            {"id": to_global_id("NewsletterIssue", issue.id), "to": f"relecture-{address}"},
            headers=editor,
        )
    sent = MemoryTransport()
    execute = build_executor(build_schema(news_settings), news_settings)
    await send_issue(execute, issue.id, settings=news_settings, transport=sent)
    by_recipient = {m.recipient: m.data for m in outbox.sent}
    return {
        "newsletter": next(m.data for m in sent.sent if m.recipient == subscriber.email),
        "test send": by_recipient[f"relecture-{address}"],
        "confirmation": by_recipient[address],
    }


@pytest.mark.parametrize("kind", ["newsletter", "test send", "confirmation"])
def test_each_message_passes_spamassassin(kind, messages, spamassassin):
    report = spam_report(spamassassin, messages[kind])
    print(f"{kind}: {report}")
    assert report.score <= MAX_SCORE, f"{kind}: {report}"
