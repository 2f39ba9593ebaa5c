"""``tec webhook``: operators register, list and remove the endpoints of partner sites."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live import copy_demo_database, tec_in_process

# The commands run in this process (tests/live.py).
_tec = tec_in_process


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> tuple[dict[str, str], Path]:
    tmp = tmp_path_factory.mktemp("cli-webhooks")
    copy_demo_database(tmp / "x.sqlite3")
    return {"TEC_DATABASE_URL": f"sqlite://{tmp / 'x.sqlite3'}"}, tmp


def test_add_list_remove(migrated):
    env, cwd = migrated
    added = _tec(
        "webhook",
        "add",
        "--url",
        "https://decider-ensemble.example/hooks/tec",
        "--events",
        "resource.published,theme.next_changed",
        "--organization",
        "decider-ensemble",
        env=env,
        cwd=cwd,
    )
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip()
    assert secret.startswith("whsec_") and len(secret) > 40
    assert "Webhook 1" in added.stderr
    listed = _tec("webhook", "list", env=env, cwd=cwd)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split("\t") == [
        "1",
        "decider-ensemble",
        "enabled",
        "https://decider-ensemble.example/hooks/tec",
        "resource.published,theme.next_changed\n",
    ]
    assert secret not in listed.stdout
    removed = _tec("webhook", "remove", "1", env=env, cwd=cwd)
    assert removed.returncode == 0, removed.stderr
    assert _tec("webhook", "list", env=env, cwd=cwd).stdout == "No webhook endpoint.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--url", "http://127.0.0.1/hooks"), "public address"),
        (
            ("--url", "https://partner.example/h", "--events", "resource.exploded"),
            "unknown event type",
        ),
        (("--url", "https://partner.example/h", "--organization", "nobody"), "nobody"),
    ],
)
def test_bad_input_is_refused_with_a_message(migrated, args, message):
    env, cwd = migrated
    result = _tec("webhook", "add", *args, env=env, cwd=cwd)
    assert result.returncode == 2
    assert message in result.stderr
    assert _tec("webhook", "list", env=env, cwd=cwd).stdout == "No webhook endpoint.\n"


def test_removing_an_unknown_endpoint(migrated):
    env, cwd = migrated
    result = _tec("webhook", "remove", "999", env=env, cwd=cwd)
    assert result.returncode == 2
    assert "no webhook endpoint 999" in result.stderr


def test_event_types_are_listed(migrated):
    env, cwd = migrated
    result = _tec("webhook", "events", env=env, cwd=cwd)
    assert "concept.unpublished\t" in result.stdout
    assert "round.closed\t" in result.stdout
