"""``tec user``, ``tec token`` and ``tec apikey``: the operators' account commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.live import copy_demo_database

TEC = Path(sys.executable).parent / "tec"


def _tec(*args: str, env: dict[str, str], cwd: Path, stdin: str | None = None):
    return subprocess.run(
        [str(TEC), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        cwd=cwd,
        input=stdin,
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> tuple[dict[str, str], Path]:
    tmp = tmp_path_factory.mktemp("cli-accounts")
    copy_demo_database(tmp / "x.sqlite3")
    return {"TEC_DATABASE_URL": f"sqlite://{tmp / 'x.sqlite3'}"}, tmp


def _resolve(env: dict[str, str], secret: str) -> subprocess.CompletedProcess[str]:
    """Resolve ``secret`` with ``resolve_bearer`` in a fresh process."""
    script = textwrap.dedent(
        """
        import asyncio, sys
        from services import db
        from services.accounts.service import resolve_bearer
        from services.settings import Settings

        async def main():
            async with db.database(Settings().database):
                viewer = await resolve_bearer(sys.argv[1])
            print(viewer.role.value, viewer.account_id, viewer.territory_id,
                  viewer.organization_id, sorted(viewer.scopes))

        asyncio.run(main())
        """
    )
    return subprocess.run(
        [sys.executable, "-c", script, secret],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        cwd=Path(__file__).resolve().parent.parent,
    )


def test_user_create_then_token_create(demo_db):
    env, tmp = demo_db
    created = _tec(
        "user", "create", "--email", "Elue@Grenoble.fr", "--role", "local-authority",
        "--territory", "grenoble", "--password-stdin",
        env=env, cwd=tmp, stdin="un mot de passe solide\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "elue@grenoble.fr" in created.stdout
    token = _tec("token", "create", "--email", "elue@grenoble.fr", "--days", "7", env=env, cwd=tmp)
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip()
    assert secret.startswith("tec_u_")
    assert "not stored" in token.stderr
    resolved = _resolve(env, secret)
    assert resolved.returncode == 0, resolved.stderr
    assert resolved.stdout.startswith("LOCAL_AUTHORITY ")
    # The same address cannot be used twice.
    again = _tec(
        "user", "create", "--email", "elue@grenoble.fr", "--role", "editor", "--password-stdin",
        env=env, cwd=tmp, stdin="un mot de passe solide\n",
    )  # fmt: skip
    assert again.returncode == 2
    assert "an account already exists" in again.stderr and "Traceback" not in again.stderr


def test_apikey_create_and_revoke(demo_db):
    env, tmp = demo_db
    created = _tec(
        "apikey", "create", "--organization", "anct", "--scopes", "read", "--name", "site",
        env=env, cwd=tmp,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("tec_k_")
    assert "not stored" in created.stderr
    resolved = _resolve(env, secret)
    assert resolved.returncode == 0, resolved.stderr
    assert resolved.stdout.split()[0] == "PARTNER" and "['READ']" in resolved.stdout
    prefix = secret.removeprefix("tec_k_")[:8]
    revoked = _tec("apikey", "revoke", prefix, env=env, cwd=tmp)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"API key {prefix} revoked."
    refused = _resolve(env, secret)
    assert refused.returncode != 0 and "Unauthenticated" in refused.stderr


def test_apikey_revoke_takes_the_whole_key_as_printed(demo_db):
    env, tmp = demo_db
    created = _tec("apikey", "create", "--organization", "anct", env=env, cwd=tmp)
    secret = created.stdout.strip()
    revoked = _tec("apikey", "revoke", secret, env=env, cwd=tmp)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"API key {secret[6:14]} revoked."
    assert _resolve(env, secret).returncode != 0
    helped = _tec("apikey", "revoke", "--help", env=env, cwd=tmp).stdout
    text = " ".join(re.sub(r"[│╭╮╰╯─]", " ", helped).split())  # rich's boxes and wrapping
    assert "The whole key (tec_k_…) or its prefix: the 8 characters after tec_k_" in text


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["user", "create", "--email", "x@example.org", "--role", "boss", "--password-stdin"],
         "un mot de passe solide\n", "unknown role"),
        (["user", "create", "--email", "x@example.org", "--role", "partner", "--password-stdin"],
         "un mot de passe solide\n", "needs --organization"),
        (["user", "create", "--email", "x@example.org", "--role", "editor", "--password-stdin"],
         "court\n", "12 to 256 characters"),
        (["user", "create", "--email", "x@example.org", "--role", "local-authority",
          "--territory", "atlantide", "--password-stdin"], "un mot de passe solide\n",
         "needs --territory"),
        (["token", "create", "--email", "personne@example.org"], None, "no account"),
        (["apikey", "create", "--organization", "anct", "--scopes", "write"], None, "scopes are"),
        (["apikey", "create", "--organization", "inconnue"], None, "needs --organization"),
        (["apikey", "revoke", "absent00"], None, 'no API key matches "absent00"'),
        (["apikey", "revoke", "tec_k_abc"], None, "8 characters after tec_k_"),
        (["newsletter", "send", "999999"], None, "no newsletter issue 999999"),
        (["newsletter", "draft", "--month", "décembre"], None, 'invalid month "décembre"'),
        (["demo", "--today", "demain"], None, 'invalid date "demain"'),
    ],
)  # fmt: skip
def test_errors_exit_2_without_traceback(demo_db, args, stdin, message):
    env, tmp = demo_db
    result = _tec(*args, env=env, cwd=tmp, stdin=stdin)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    # One language for operators: no French sentence of the API leaks into the command.
    said = result.stderr.replace(message, "")
    assert not set(said) & set("éèàùçêâîô«»"), said
