"""A content type declared once, in a test package, gets node lookup (answered by the read
compiler), publishing, its create/update/delete mutations, policy rows, a search document,
its demo rows and webhook events, with nothing else edited (tests/registry/gadgets.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def report(tmp_path_factory, repo_root) -> dict:
    path = tmp_path_factory.mktemp("gadgets") / "gadgets.sqlite3"
    done = subprocess.run(
        [sys.executable, "-m", "tests.registry.run_gadgets", str(path)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_it_has_its_policy_rows(report):
    assert report["policy"] == ["gadget.create", "gadget.delete", "gadget.update"]


def test_it_is_created_as_a_draft_with_a_slug(report):
    assert report["draft"] == {"status": "DRAFT", "slug": "boussole"}


def test_node_lookup_follows_visibility_and_publishing(report):
    assert report["node_hidden"]["data"] == {"node": None}  # a draft: not for the public
    assert report["publish"] == {
        "data": {"publish": {"node": {"__typename": "Gadget"}}},
        "errors": [],
    }
    assert report["node_public"]["data"] == {
        "node": {"__typename": "Gadget", "title": "Boussole", "colour": "bleu"}
    }


def test_it_has_its_create_update_and_delete_mutations(report):
    assert report["create_mutation"] == {
        "data": {
            "createGadget": {
                "gadget": {"title": "Compas", "colour": "noir"},
                "errors": [],
            }
        },
        "errors": [],
    }
    assert report["create_refused"]["data"] is None
    assert report["create_refused"]["errors"]  # signed out: UNAUTHENTICATED, nothing written


def test_the_read_compiler_answers_its_node_lookups(report):
    # The draft's lookup as an anonymous caller, then the published one's: one SQL
    # statement each, not the ordinary executor (the mutation between them is not a read).
    assert report["read_compiler"] == [
        ["compiled", ""],
        ["fallback", "operation"],
        ["compiled", ""],
    ]


def test_it_has_a_search_document(report):
    [document] = report["search"]["documents"]
    assert document["id"].startswith("gadget-")
    assert document["type"] == "gadget" and document["title"] == "Boussole"
    assert document["text"] == "bleu"


def test_its_demo_rows_are_loaded_once(report):
    assert report["demo"]["first"] == {"Gadget": 1, "Gadget+": 1}
    assert report["demo"]["again"] == {"Gadget": 1}
    assert report["demo_row"] == {"title": "Sextant", "status": "PUBLISHED"}


def test_it_has_webhook_events(report):
    assert report["webhook_events"] == [
        "gadget.published",
        "gadget.unpublished",
        "gadget.updated",
    ]
    assert report["webhooks_sent"] == [report["publish_id"]]
