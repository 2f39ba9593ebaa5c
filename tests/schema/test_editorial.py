"""The editorial workflow through GraphQL, as editors and contributors live it."""

from __future__ import annotations

import pytest

from tests.conftest import USER_ERRORS, payload, user_error
from tests.unique import unique_tag

CREATE = f"""mutation($input: ResourceCreateInput!) {{
  createResource(input: $input) {{
    resource {{ id slug title status version body url themes {{ slug }} }} {USER_ERRORS} }}
}}"""
UPDATE = f"""mutation($id: ID!, $version: Int!, $input: ResourceUpdateInput!) {{
  updateResource(id: $id, version: $version, input: $input) {{
    resource {{ id title version status }} {USER_ERRORS} }}
}}"""
PUBLISH = f"""mutation($id: ID!, $version: Int!, $at: DateTime) {{
  publish(id: $id, version: $version, at: $at) {{
    node {{ id ... on Resource {{ status version publishedAt }} }} {USER_ERRORS} }}
}}"""
PUBLIC = """query($slug: String!) { resource(slug: $slug) { title status } }"""


def _title() -> str:
    return f"Guide de la concertation {unique_tag(8)}"


async def test_editor_creates_a_draft_then_publishes_it(gql, principals):
    editor = principals["EDITOR"]
    theme = (await gql.data('{ theme(slug: "la-democratie-culturelle") { id } }'))["theme"]
    created = (
        await gql.data(
            CREATE,
            {
                "input": {
                    "title": _title(),
                    "kind": "GUIDE",
                    "themes": [theme["id"]],
                    "body": "<p>Bonjour <script>alert(1)</script><a href='javascript:x'>x</a></p>",
                    "url": "https://example.org/guide",
                }
            },
            headers=editor,
        )
    )["createResource"]["resource"]
    assert created["status"] == "DRAFT" and created["version"] == 1
    assert "<script" not in created["body"] and "javascript:" not in created["body"]
    assert created["slug"].startswith("guide-de-la-concertation-")
    # Anonymous readers do not see the draft; the editor previews it.
    assert (await gql.data(PUBLIC, {"slug": created["slug"]}))["resource"] is None
    preview = await gql.data(PUBLIC, {"slug": created["slug"]}, headers=editor)
    assert preview["resource"]["status"] == "DRAFT"
    published = (await gql.data(PUBLISH, {"id": created["id"], "version": 1}, headers=editor))[
        "publish"
    ]["node"]
    assert published["status"] == "PUBLISHED" and published["version"] == 2
    assert (await gql.data(PUBLIC, {"slug": created["slug"]}))["resource"]["status"] == "PUBLISHED"


async def test_publishing_at_a_future_date_keeps_it_hidden_until_then(gql, principals):
    editor = principals["EDITOR"]
    created = (await gql.data(CREATE, {"input": {"title": _title()}}, headers=editor))[
        "createResource"
    ]["resource"]
    await gql.data(
        PUBLISH,
        {"id": created["id"], "version": 1, "at": "2099-01-01T09:00:00+01:00"},
        headers=editor,
    )
    assert (await gql.data(PUBLIC, {"slug": created["slug"]}))["resource"] is None


async def test_stale_update_is_refused_with_conflict_and_changes_nothing(gql, principals):
    editor = principals["EDITOR"]
    created = (await gql.data(CREATE, {"input": {"title": _title()}}, headers=editor))[
        "createResource"
    ]["resource"]
    first = await gql.data(
        UPDATE,
        {"id": created["id"], "version": 1, "input": {"title": "Première version"}},
        headers=editor,
    )
    assert first["updateResource"]["resource"]["version"] == 2
    stale = await gql(
        UPDATE,
        {"id": created["id"], "version": 1, "input": {"title": "Écrasement"}},
        headers=editor,
    )
    assert user_error(stale, "updateResource") == ("CONFLICT", "version")
    current = await gql.data(PUBLIC, {"slug": created["slug"]}, headers=editor)
    assert current["resource"]["title"] == "Première version"


async def test_bad_input_names_the_field_and_changes_nothing(gql, principals):
    editor = principals["EDITOR"]
    for bad, field in (
        ({"title": _title(), "url": "javascript:alert(1)"}, "url"),
        ({"title": _title(), "url": "ftp://example.org"}, "url"),
        ({"title": ""}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"title": _title(), "body": "a" * 100_001}, "body"),
        ({"title": _title(), "slug": "Pas Un Slug"}, "slug"),
        ({"title": _title(), "themes": ["VGhlbWU6OTk5OTk5"]}, "themes"),
    ):
        before = await gql.data(
            "{ auditLog(first: 1) { edges { node { action } } } }", headers=editor
        )
        body = await gql(CREATE, {"input": bad}, headers=editor)
        assert user_error(body, "createResource") == ("BAD_USER_INPUT", field), (bad, body)
        after = await gql.data(
            "{ auditLog(first: 1) { edges { node { action } } } }", headers=editor
        )
        assert after == before


async def test_unknown_input_fields_are_refused(gql, principals):
    body = await gql(
        CREATE, {"input": {"title": _title(), "owner": "me"}}, headers=principals["EDITOR"]
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_contribution_accepted_is_published_and_credited(gql, principals):
    contributor, editor = principals["LOCAL_AUTHORITY"], principals["EDITOR"]
    title = _title()
    contributed = (
        await gql.data(
            """mutation($input: ContributionInput!) { contributeResource(input: $input) {
                resource { id status version slug } } }""",
            {"input": {"title": title, "kind": "EXPERIENCE", "summary": "Notre expérience"}},
            headers=contributor,
        )
    )["contributeResource"]["resource"]
    assert contributed["status"] == "SUBMITTED"
    queue = await gql.data("{ moderationQueue(first: 100) { nodes { id } } }", headers=editor)
    assert contributed["id"] in [n["id"] for n in queue["moderationQueue"]["nodes"]]
    accepted = (
        await gql.data(
            """mutation($id: ID!, $v: Int!) { acceptContribution(id: $id, version: $v) {
                resource { status contributorTerritory { slug } territories { slug } } } }""",
            {"id": contributed["id"], "v": contributed["version"]},
            headers=editor,
        )
    )["acceptContribution"]["resource"]
    assert accepted["status"] == "PUBLISHED"
    assert accepted["contributorTerritory"] == {"slug": "niort"}
    assert {"slug": "niort"} in accepted["territories"]
    assert (await gql.data(PUBLIC, {"slug": contributed["slug"]}))["resource"]["title"] == title


async def test_contribution_rejected_shows_the_reason_to_its_contributor_only(gql, principals):
    contributor, editor = principals["PARTNER_KEY_CONTRIBUTE"], principals["EDITOR"]
    contributed = (
        await gql.data(
            """mutation($input: ContributionInput!) { contributeResource(input: $input) {
                resource { id version } } }""",
            {"input": {"title": _title()}},
            headers=contributor,
        )
    )["contributeResource"]["resource"]
    await gql.data(
        """mutation($id: ID!, $v: Int!) { rejectContribution(id: $id, version: $v,
            reason: "Hors sujet") { resource { status } } }""",
        {"id": contributed["id"], "v": contributed["version"]},
        headers=editor,
    )
    mine = await gql.data(
        "{ myContributions(first: 50) { nodes { id status rejectionReason } } }",
        headers=contributor,
    )
    node = next(n for n in mine["myContributions"]["nodes"] if n["id"] == contributed["id"])
    assert node == {"id": contributed["id"], "status": "REJECTED", "rejectionReason": "Hors sujet"}
    other = await gql(
        "query($id: ID!) { node(id: $id) { ... on Resource { rejectionReason } } }",
        {"id": contributed["id"]},
        headers=principals["PARTNER_KEY_READ"],
    )
    assert other["data"]["node"] is None  # a rejected contribution is not public


async def test_every_write_is_in_the_audit_log_with_before_and_after(gql, principals):
    editor = principals["EDITOR"]
    created = (await gql.data(CREATE, {"input": {"title": _title()}}, headers=editor))[
        "createResource"
    ]["resource"]
    await gql.data(
        UPDATE,
        {"id": created["id"], "version": 1, "input": {"title": "Nouveau titre"}},
        headers=editor,
    )
    log = await gql.data(
        """query($id: ID!) { auditLog(filter: {object: $id}) { nodes {
            action actorRole changes actor { displayName } } } }""",
        {"id": created["id"]},
        headers=editor,
    )
    entries = log["auditLog"]["nodes"]
    assert [e["action"] for e in entries] == ["resource.update", "resource.create"]
    assert entries[0]["changes"]["title"] == [created["title"], "Nouveau titre"]
    assert entries[0]["actor"] == {"displayName": "EDITOR"} and entries[0]["actorRole"] == "EDITOR"


@pytest.mark.parametrize("stored", ["created without a name", "an older blank name"])
async def test_the_audit_log_names_an_author_created_without_a_display_name(gql, stored):
    from services.accounts import service as accounts
    from services.accounts.models import Account
    from tests.conftest import PASSWORD

    address = f"camille.{unique_tag(6)}@editors.test"
    account = await accounts.create_account(address, password=PASSWORD, role="EDITOR")
    if stored == "an older blank name":
        await Account.filter(id=account.id).update(display_name="")
    editor = {"Authorization": f"Bearer {await accounts.issue_token(account)}"}
    body = await gql(CREATE, {"input": {"title": _title()}}, headers=editor)
    created = payload(body, "createResource", "resource")
    log = await gql.data(
        """query($id: ID!) { auditLog(filter: {object: $id}) { nodes { actor { displayName } } }
        me { displayName } }""",
        {"id": created["id"]},
        headers=editor,
    )
    name = address.split("@")[0]
    assert log["auditLog"]["nodes"] == [{"actor": {"displayName": name}}]
    assert log["me"] == {"displayName": name}


async def test_sign_in_and_sign_out(gql, client):
    from tests.conftest import PASSWORD

    signed = await gql.data(
        """mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) {
            token expiresAt account { email role } } }""",
        {"e": "editor@principals.test", "p": PASSWORD},
    )
    token = signed["signIn"]["token"]
    assert signed["signIn"]["account"] == {"email": "editor@principals.test", "role": "EDITOR"}
    headers = {"Authorization": f"Bearer {token}"}
    assert (await gql.data("{ me { role } }", headers=headers))["me"] == {"role": "EDITOR"}
    signed_out = await gql.data(
        "mutation { signOut { signedOut errors { code } } }", headers=headers
    )
    assert signed_out["signOut"] == {"signedOut": True, "errors": []}
    response = await client.post("/graphql", json={"query": "{ me { role } }"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    wrong = await gql(
        """mutation { signIn(email: "editor@principals.test", password: "nope nope nope") {
            token } }"""
    )
    unknown = await gql(
        """mutation { signIn(email: "nobody@principals.test", password: "nope nope nope") {
            token } }"""
    )
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]
    assert wrong["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_refusals_are_logged_without_secrets(gql, caplog):
    import logging

    secret_password = "ne-doit-jamais-apparaitre-123"
    with caplog.at_level(logging.DEBUG):
        body = await gql(
            """mutation($p: String!) { signIn(email: "editor@principals.test", password: $p) {
                token } }""",
            {"p": secret_password},
        )
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "refused UNAUTHENTICATED at signIn" in caplog.text
    assert secret_password not in caplog.text
