"""``tec user``, ``tec token`` and ``tec apikey``: the operators' account commands."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from services.accounts.service import resolve_bearer, sign_in
from tests.live import call_on_database, copy_demo_database, tec_in_process

pytestmark = pytest.mark.heavy

# The commands run in this process (tests/live.py); the tokens and keys they print are
# checked by another process, on the same database.
_tec = tec_in_process


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> tuple[dict[str, str], Path]:
    tmp = tmp_path_factory.mktemp("cli-accounts")
    copy_demo_database(tmp / "x.sqlite3")
    return {"TEC_DATABASE_URL": f"sqlite://{tmp / 'x.sqlite3'}"}, tmp


async def resolve(secret: str) -> str:
    """What ``resolve_bearer`` makes of ``secret``."""
    viewer = await resolve_bearer(secret)
    return " ".join(
        str(part)
        for part in (
            viewer.role.value,
            viewer.account_id,
            viewer.territory_id,
            viewer.organization_id,
            sorted(viewer.scopes),
        )
    )


def _resolve(env: dict[str, str], secret: str) -> subprocess.CompletedProcess[str]:
    """Resolve ``secret`` with ``resolve_bearer``, on the database of ``env``."""
    return call_on_database(env["TEC_DATABASE_URL"], f"{__name__}:resolve", secret)


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
    assert again.stderr.strip() == "Error: an account already exists with this e-mail address"


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
         "un mot de passe solide\n", "unknown role: choose admin, editor"),
        (["user", "create", "--email", "x@example.org", "--role", "partner", "--password-stdin"],
         "un mot de passe solide\n", "a partner account needs --organization"),
        (["user", "create", "--email", "x@example.org", "--role", "editor", "--password-stdin"],
         "court\n", "the password needs at least 12 characters"),
        (["token", "create", "--email", "personne@example.org"], None,
         "no account with the e-mail address personne@example.org"),
        (["apikey", "create", "--organization", "anct", "--scopes", "write"], None,
         "unknown scope: write (read or contribute)"),
        (["apikey", "create", "--organization", "nowhere"], None,
         "unknown organisation: nowhere"),
        # Every refusal at once, in the order of the options.
        (["user", "create", "--email", "pas-une-adresse", "--role", "boss",
          "--password-stdin"], "un mot de passe solide\n",
         "invalid e-mail address; unknown role: choose admin"),
        (["user", "create", "--email", "x@example.org", "--role", "partner",
          "--password-stdin"], "court\n",
         "a partner account needs --organization; "
         "the password needs at least 12 characters"),
        (["apikey", "create", "--organization", "nowhere", "--scopes", "write"], None,
         "unknown scope: write (read or contribute); unknown organisation: nowhere"),
        (["user", "deactivate", "--email", "personne@example.org"], None,
         "no account with the e-mail address personne@example.org"),
        (["user", "set-password", "--email", "personne@example.org", "--password-stdin"],
         "un mot de passe solide\n", "no account with the e-mail address"),
        (["user", "set-password", "--email", "personne@example.org", "--password-stdin"],
         "court\n", "the password needs at least 12 characters"),
        (["token", "revoke", "--email", "personne@example.org"], None, "no account"),
        (["user", "list", "--role", "boss"], None, "unknown role"),
        (["user", "list", "--state", "asleep"], None, "--state must be active, deactivated or all"),
        (["user", "create", "--email", "x@example.org", "--role", "local-authority",
          "--territory", "atlantide", "--password-stdin"], "un mot de passe solide\n",
         "unknown territory: atlantide"),
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
    assert result.stderr.startswith("Error: ") and message in result.stderr
    _assert_plain_english(result.stderr)


# Words of the French messages of the API: none may reach an operator.
_FRENCH = re.compile(r"\b(compte|adresse|inconnue?|caractères|clé|mot de passe|déjà|Aucun)\b", re.I)


def _assert_plain_english(output: str) -> None:
    """One language, and nothing of Python's own: no traceback, repr or enum name."""
    assert "Traceback" not in output
    assert not _FRENCH.search(output), output
    assert not re.search(r"<\w+[ .:]|\w+\(|Role\.|datetime\.|\bNone\b|'\w+'", output), output


def _create(env, tmp, email: str, role: str, *extra: str) -> None:
    result = _tec(
        "user", "create", "--email", email, "--role", role, "--display-name", "Dominique Testeur",
        *extra, "--password-stdin", env=env, cwd=tmp, stdin="un mot de passe solide\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_user_list_shows_who_may_sign_in(demo_db):
    env, tmp = demo_db
    _create(env, tmp, "liste.partenaire@example.org", "partner", "--organization", "anct")
    _create(env, tmp, "liste.edition@example.org", "editor")
    assert _tec("user", "deactivate", "--email", "liste.edition@example.org",
                env=env, cwd=tmp).returncode == 0  # fmt: skip

    listed = _tec("user", "list", "--search", "liste.", env=env, cwd=tmp)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == [
        "E-MAIL", "ROLE", "OF", "STATE", "LAST", "SIGN-IN", "SESSIONS", "NAME"
    ]  # fmt: skip
    assert lines[1].split()[:6] == [
        "liste.edition@example.org", "editor", "-", "deactivated", "never", "0"
    ]  # fmt: skip
    assert lines[2].split()[:6] == [
        "liste.partenaire@example.org", "partner", "anct", "active", "never", "0"
    ]  # fmt: skip
    assert lines[2].endswith("Dominique Testeur")
    assert lines[-1] == "2 accounts."
    _assert_plain_english(listed.stdout)

    partners = _tec("user", "list", "--role", "partner", "--organization", "anct",
                    "--state", "active", env=env, cwd=tmp)  # fmt: skip
    assert "liste.partenaire@example.org" in partners.stdout
    assert "liste.edition@example.org" not in partners.stdout
    none = _tec("user", "list", "--search", "personne-de-ce-nom", env=env, cwd=tmp)
    assert none.returncode == 0 and none.stdout.strip() == "No account matches."


def test_deactivate_ends_the_tokens_and_set_password_replaces_the_password(demo_db):
    env, tmp = demo_db
    email = "desactive@example.org"
    _create(env, tmp, email, "editor")
    secret = _tec("token", "create", "--email", email, env=env, cwd=tmp).stdout.strip()
    assert _resolve(env, secret).returncode == 0

    deactivated = _tec("user", "deactivate", "--email", email, env=env, cwd=tmp)
    assert deactivated.returncode == 0, deactivated.stderr
    assert deactivated.stdout.strip() == f"Account {email} deactivated; its sessions are ended."
    refused = _resolve(env, secret)
    assert refused.returncode != 0 and "Unauthenticated" in refused.stderr
    again = _tec("user", "deactivate", "--email", email, env=env, cwd=tmp)
    assert again.stdout.strip() == f"Account {email} was already deactivated."
    no_token = _tec("token", "create", "--email", email, env=env, cwd=tmp)
    assert no_token.returncode == 2 and "deactivated" in no_token.stderr

    assert _tec("user", "reactivate", "--email", email, env=env, cwd=tmp).returncode == 0
    assert _resolve(env, secret).returncode != 0  # former tokens stay revoked
    changed = _tec("user", "set-password", "--email", email, "--password-stdin",
                   env=env, cwd=tmp, stdin="un nouveau mot de passe\n")  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == f"Password of {email} replaced; its sessions are ended."
    signed_in = _sign_in(env, email, "un nouveau mot de passe")
    assert signed_in.returncode == 0, signed_in.stderr
    assert _sign_in(env, email, "un mot de passe solide").returncode != 0


def test_token_revoke_ends_every_session(demo_db):
    env, tmp = demo_db
    email = "sessions@example.org"
    _create(env, tmp, email, "editor")
    secrets = [_tec("token", "create", "--email", email, env=env, cwd=tmp).stdout.strip()
               for _ in range(2)]  # fmt: skip
    revoked = _tec("token", "revoke", "--email", email, env=env, cwd=tmp)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"2 tokens of {email} revoked."
    for secret in secrets:
        assert _resolve(env, secret).returncode != 0
    assert _sign_in(env, email, "un mot de passe solide").returncode == 0


def test_apikey_list_shows_scopes_last_use_and_revocation(demo_db):
    env, tmp = demo_db
    created = _tec("apikey", "create", "--organization", "icpc", "--scopes", "read,contribute",
                   "--name", "portail icpc", env=env, cwd=tmp)  # fmt: skip
    secret = created.stdout.strip()
    prefix = secret.removeprefix("tec_k_")[:8]
    before = _tec("apikey", "list", "--organization", "icpc", env=env, cwd=tmp)
    assert before.returncode == 0, before.stderr
    [row] = [line for line in before.stdout.splitlines() if line.startswith(prefix)]
    assert row.split()[1:3] == ["icpc", "contribute,read"]
    assert "never" in row and row.endswith("portail icpc")
    assert _resolve(env, secret).returncode == 0  # a use
    used = _tec("apikey", "list", "--organization", "icpc", env=env, cwd=tmp)
    [row] = [line for line in used.stdout.splitlines() if line.startswith(prefix)]
    assert "never" not in row and " UTC" in row
    _assert_plain_english(used.stdout)

    assert _tec("apikey", "revoke", prefix, env=env, cwd=tmp).returncode == 0
    after = _tec("apikey", "list", "--organization", "icpc", env=env, cwd=tmp)
    assert prefix not in after.stdout
    every = _tec("apikey", "list", "--organization", "icpc", "--all", env=env, cwd=tmp)
    [row] = [line for line in every.stdout.splitlines() if line.startswith(prefix)]
    assert "revoked" in row


async def sign_in_with(email: str, password: str) -> str:
    await sign_in(email, password=password)
    return "signed in"


def _sign_in(env: dict[str, str], email: str, password: str) -> subprocess.CompletedProcess[str]:
    """Sign in with ``sign_in``, on the database of ``env``."""
    return call_on_database(env["TEC_DATABASE_URL"], f"{__name__}:sign_in_with", email, password)
