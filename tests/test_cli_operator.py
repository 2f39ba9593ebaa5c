"""What operators change with ``tec`` is in the audit log under who ran the command: the
system user and host (``tec (operatrice@host)``), and the operator's own administrator
account when they name it with ``--as`` or ``TEC_OPERATOR``.

The commands run on the test session's database (in this process, as ``tec`` would run
them: tests/live.py); the audit log is read back through GraphQL, as editors read it.
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from schema.relay import to_global_id
from services.accounts import service as accounts
from services.accounts.models import Account, ApiKey
from services.newsletters import service as newsletters
from services.settings import Settings
from services.viewer import Role, Viewer
from services.webhooks.models import WebhookEndpoint
from tests.conftest import PASSWORD
from tests.live import copy_demo_database, environment_with, tec_in_process, tec_process
from tests.mailer import support
from tests.unique import unique_tag

pytestmark = pytest.mark.heavy

_remove_segment_themes = support._remove_segment_themes

TEC = Path(sys.executable).parent / "tec"
SYSTEM_USER = "operatrice"
OPERATOR = f"tec ({SYSTEM_USER}@{socket.gethostname()})"

AUDIT = """query($object: ID!) { auditLog(filter: {object: $object}, first: 20) {
  nodes { action actorRole operator actorName actor { displayName } changes } } }"""


def _tec(
    *args: str, database_url: str, cwd: Path, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``tec`` as the system user ``operatrice`` (not under sudo)."""
    environment: dict[str, str | None] = {"SUDO_USER": None, "TEC_OPERATOR": None}
    environment.update(TEC_DATABASE_URL=database_url, LOGNAME=SYSTEM_USER, USER=SYSTEM_USER, **env)
    if args[:2] == ("newsletter", "send"):
        # It stops on SIGTERM, and only a process's main thread may handle signals.
        return tec_process(*args, env=environment_with(environment), cwd=cwd, stdin=stdin)
    return tec_in_process(*args, env=environment, cwd=cwd, stdin=stdin)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


async def _history(gql, principals, type_name: str, pk: int) -> list[dict]:
    """The audit entries of one object, newest first, as an editor reads them."""
    found = await gql.data(
        AUDIT, {"object": to_global_id(type_name, pk)}, headers=principals["EDITOR"]
    )
    return found["auditLog"]["nodes"]


def _by_operator(entry: dict, action: str) -> None:
    assert entry["action"] == action
    assert entry["actorRole"] == "ADMIN"
    assert entry["operator"] == OPERATOR
    assert entry["actorName"] == OPERATOR
    assert entry["actor"] is None  # no account was named


async def test_account_and_key_commands_are_audited_under_the_system_user_who_ran_them(
    gql, principals, settings: Settings, tmp_path
):
    url = settings.database.database_url
    email = f"op-{unique_tag(8)}@example.org"
    _ok(
        _tec(
            "user", "create", "--email", email, "--role", "editor", "--password-stdin",
            database_url=url, cwd=tmp_path, stdin="un mot de passe solide\n",
        )
    )  # fmt: skip
    _ok(_tec("token", "create", "--email", email, database_url=url, cwd=tmp_path))
    _ok(_tec("token", "revoke", "--email", email, database_url=url, cwd=tmp_path))
    _ok(
        _tec(
            "user", "set-password", "--email", email, "--password-stdin",
            database_url=url, cwd=tmp_path, stdin="un autre mot de passe\n",
        )
    )  # fmt: skip
    _ok(_tec("user", "deactivate", "--email", email, database_url=url, cwd=tmp_path))
    _ok(_tec("user", "reactivate", "--email", email, database_url=url, cwd=tmp_path))
    account = await Account.get(email=email)
    entries = await _history(gql, principals, "Account", account.id)
    assert [e["action"] for e in entries] == [
        "account.reactivate",
        "account.deactivate",
        "account.set_password",
        "account.revoke_tokens",
        "account.issue_token",
        "account.create",
    ]
    for entry in entries:
        _by_operator(entry, entry["action"])
    assert entries[-1]["changes"] == {"email": [None, email], "role": [None, "EDITOR"]}

    secret = _ok(
        _tec("apikey", "create", "--organization", "icpc", database_url=url, cwd=tmp_path)
    ).strip()
    prefix = accounts.api_key_prefix(secret)
    _ok(_tec("apikey", "revoke", prefix, database_url=url, cwd=tmp_path))
    key = await ApiKey.get(prefix=prefix)
    created, revoked = reversed(await _history(gql, principals, "ApiKey", key.id))
    _by_operator(created, "apikey.create")
    assert created["changes"]["prefix"] == [None, prefix]
    _by_operator(revoked, "apikey.revoke")


async def test_webhook_and_newsletter_commands_are_audited_under_the_system_user(
    gql, principals, settings: Settings, tmp_path
):
    url = settings.database.database_url
    hook = f"https://{unique_tag(8)}.example.org/hooks/tec"
    _ok(
        _tec("webhook", "add", "--url", hook, "--events", "resource.published",
             database_url=url, cwd=tmp_path)
    )  # fmt: skip
    endpoint = await WebhookEndpoint.get(url=hook)
    _ok(_tec("webhook", "remove", str(endpoint.id), database_url=url, cwd=tmp_path))
    removed, added = await _history(gql, principals, "WebhookEndpoint", endpoint.id)
    _by_operator(added, "webhook.create")
    _by_operator(removed, "webhook.delete")

    # An issue for the followers of a theme nobody follows: sent to no one.
    theme = await support.fresh_theme()
    issue = await newsletters.create_issue(
        Viewer(role=Role.EDITOR),
        title=f"Numéro sans destinataire {unique_tag(6)}",
        changes=newsletters.IssueChanges(segment_themes=[theme.id]),
    )
    sent = _ok(_tec("newsletter", "send", str(issue.id), database_url=url, cwd=tmp_path))
    assert "0 sent" in sent
    started, created = await _history(gql, principals, "NewsletterIssue", issue.id)
    assert created["action"] == "newsletter.create"
    _by_operator(started, "newsletter.send")
    assert started["changes"] == {"status": ["DRAFT", "SENDING"], "recipients": [None, 0]}


async def test_an_operator_naming_their_account_is_linked_to_it(
    gql, principals, settings: Settings, tmp_path
):
    url = settings.database.database_url
    tag = unique_tag(8)
    admin = await accounts.create_account(
        f"admin-{tag}@example.org", password=PASSWORD, role="ADMIN", display_name="Alex Martin"
    )
    target = await accounts.create_account(
        f"cible-{tag}@example.org", password=PASSWORD, role="EDITOR"
    )
    _ok(
        _tec("--as", admin.email, "user", "deactivate", "--email", target.email,
             database_url=url, cwd=tmp_path)
    )  # fmt: skip
    _ok(
        _tec("user", "reactivate", "--email", target.email,
             database_url=url, cwd=tmp_path, TEC_OPERATOR=admin.email)
    )  # fmt: skip
    reactivated, deactivated = (await _history(gql, principals, "Account", target.id))[:2]
    for entry, action in ((deactivated, "account.deactivate"), (reactivated, "account.reactivate")):
        assert entry["action"] == action
        assert entry["actor"] == {"displayName": "Alex Martin"}
        assert entry["operator"] == OPERATOR
        assert entry["actorName"] == f"Alex Martin via {OPERATOR}"


@pytest.mark.parametrize("role", ["EDITOR", "deactivated ADMIN"])
async def test_only_an_active_administrator_account_may_sign_the_commands(
    principals, settings: Settings, tmp_path, role
):
    url = settings.database.database_url
    tag = unique_tag(8)
    signer = await accounts.create_account(
        f"signe-{tag}@example.org", password=PASSWORD, role=role.split()[-1]
    )
    if role.startswith("deactivated"):
        await Account.filter(id=signer.id).update(is_active=False)
    target = await accounts.create_account(
        f"cible-{tag}@example.org", password=PASSWORD, role="EDITOR"
    )
    refused = _tec(
        "--as", signer.email, "user", "deactivate", "--email", target.email,
        database_url=url, cwd=tmp_path,
    )  # fmt: skip
    assert refused.returncode == 2, (refused.stdout, refused.stderr)
    assert refused.stderr == (
        f"Error: --as (TEC_OPERATOR) names {signer.email}, which is not an active "
        "administrator account\n"
    )
    await target.refresh_from_db()
    assert target.is_active


def test_closing_due_rounds_is_audited_under_the_system_user(tmp_path):
    # A copy of the demo database, since the command closes every round that is due.
    database = tmp_path / "rounds.sqlite3"
    copy_demo_database(database)
    with sqlite3.connect(database) as db:
        db.execute(
            "UPDATE voting_round SET closes_at = '2000-01-01 00:00:00+00:00' "
            "WHERE closed_at IS NULL"
        )
        due = db.execute("SELECT count(*) FROM voting_round WHERE closed_at IS NULL").fetchone()
        [last] = db.execute("SELECT coalesce(max(id), 0) FROM audit_entry").fetchone()
    db.close()
    assert due[0] >= 1, "the demo has an open round"
    closed = _ok(_tec("rounds", "close-due", database_url=f"sqlite://{database}", cwd=tmp_path))
    assert closed.count("Closed ") == due[0]
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT actor_role, actor_name, actor_account_id FROM audit_entry "
            "WHERE action = 'round.close' AND id > ?",
            (last,),
        ).fetchall()
    db.close()
    assert rows == [("ADMIN", OPERATOR, None)] * due[0]
