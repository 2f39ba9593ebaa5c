"""Every operation of services.policy.policy_table(), tried by every kind of caller.

Allowed callers must succeed; the others must get FORBIDDEN (signed in) or
UNAUTHENTICATED (anonymous) for writes and private lists, or see nothing for private
fields. The table tested here is the one rendered in docs/authorization.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from services.policy import SIGNED_IN, Principal, policy_table, render_authorization_doc
from tests.unique import unique_tag

pytestmark = pytest.mark.heavy


@dataclass(frozen=True)
class Case:
    document: str
    # Builds the variables (creating what the operation acts on) as an editor.
    setup: Callable[[Any, dict[str, dict[str, str]]], Awaitable[dict[str, Any]]]
    # "write": denied → error code; "field": denied → the value at `path` is empty;
    # "gate": like "write", but an allowed call may still fail after the check.
    kind: str = "write"
    path: tuple[str, ...] = ()


@pytest.fixture(scope="module", autouse=True)
async def _leave_no_public_rows_behind(database):
    """Organisations and territories are public at once (no draft): remove the ones the
    cases create, so that the list tests still see the demo data only."""
    yield
    from services.organizations.models import Organization
    from services.projects.models import SharedProject
    from services.territories.models import Territory
    from services.themes.models import Theme
    from services.votes.models import VotingRound
    from services.webhooks.models import WebhookEndpoint

    await WebhookEndpoint.filter(url__contains="matrice").delete()
    await SharedProject.filter(slug__startswith="matrice").delete()
    await VotingRound.filter(slug__startswith="matrice").delete()
    await Theme.filter(slug__startswith="matrice-vote-").delete()
    await Organization.filter(slug__startswith="matrice-").delete()
    await Territory.filter(slug__startswith="matrice-").delete()


async def _nothing(gql, principals):
    return {}


async def _draft(gql, principals) -> dict[str, Any]:
    title = f"Matrice {unique_tag(10)}"
    created = await gql.data(
        """mutation($t: String!) { createResource(input: {title: $t}) {
            resource { id version slug } } }""",
        {"t": title},
        headers=principals["EDITOR"],
    )
    resource = created["createResource"]["resource"]
    return {"id": resource["id"], "version": resource["version"], "slug": resource["slug"]}


async def _submitted(gql, principals) -> dict[str, Any]:
    created = await gql.data(
        """mutation($t: String!) { contributeResource(input: {title: $t}) {
            resource { id version } } }""",
        {"t": f"Contribution {unique_tag(10)}"},
        headers=principals["LOCAL_AUTHORITY"],
    )
    resource = created["contributeResource"]["resource"]
    return {"id": resource["id"], "version": resource["version"]}


async def _title(gql, principals) -> dict[str, Any]:
    return {"t": f"Matrice {unique_tag(10)}"}


async def _create(gql, principals, mutation: str, input_type: str, values: dict) -> dict:
    field = mutation.removeprefix("create")
    field = field[0].lower() + field[1:]
    created = await gql.data(
        f"mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ {field} {{ id }} }} }}",
        {"input": values},
        headers=principals["EDITOR"],
    )
    return created[mutation][field]


async def _theme(gql, principals) -> dict[str, Any]:
    theme = await _create(
        gql, principals, "createTheme", "ThemeCreateInput", await _input(gql, principals)
    )
    return {"id": theme["id"], "version": 1}


async def _concept(gql, principals) -> dict[str, Any]:
    concept = await _create(
        gql, principals, "createConcept", "ConceptCreateInput", await _input(gql, principals)
    )
    return {"id": concept["id"], "version": 1}


async def _event_input(gql, principals) -> dict[str, Any]:
    return {
        "input": {
            "title": f"Matrice {unique_tag(10)}",
            "startsAt": "2030-03-12T18:30:00+01:00",
            "endsAt": "2030-03-12T20:00:00+01:00",
        }
    }


async def _event(gql, principals) -> dict[str, Any]:
    values = (await _event_input(gql, principals))["input"]
    event = await _create(gql, principals, "createEvent", "EventCreateInput", values)
    return {"id": event["id"], "version": 1}


async def _organization_input(gql, principals) -> dict[str, Any]:
    return {"input": {"name": f"Matrice {unique_tag(10)}"}}


async def _organization(gql, principals) -> dict[str, Any]:
    values = (await _organization_input(gql, principals))["input"]
    organization = await _create(
        gql, principals, "createOrganization", "OrganizationCreateInput", values
    )
    return {"id": organization["id"]}


async def _territory_input(gql, principals) -> dict[str, Any]:
    return {"input": {"name": f"Matrice {unique_tag(10)}", "level": "COMMUNE"}}


async def _territory(gql, principals) -> dict[str, Any]:
    values = (await _territory_input(gql, principals))["input"]
    territory = await _create(gql, principals, "createTerritory", "TerritoryCreateInput", values)
    return {"id": territory["id"]}


async def _input(gql, principals) -> dict[str, Any]:
    return {"title": f"Matrice {unique_tag(10)}"}


def _content_cases(name: str, setup, input_setup) -> dict[str, Case]:
    """create/update/delete of a versioned content type (theme, concept, event)."""
    kind = name.capitalize()
    return {
        f"{name}.create": Case(
            f"""mutation($input: {kind}CreateInput!) {{ create{kind}(input: $input) {{
                errors {{ code }} }} }}""",
            input_setup,
        ),
        f"{name}.update": Case(
            f"""mutation($id: ID!, $version: Int!) {{ update{kind}(id: $id, version: $version,
                input: {{title: "Titre modifié"}}) {{ errors {{ code }} }} }}""",
            setup,
        ),
        f"{name}.delete": Case(
            f"""mutation($id: ID!, $version: Int!) {{ delete{kind}(id: $id, version: $version)
                {{ errors {{ code }} }} }}""",
            setup,
        ),
    }


def _reference_cases(name: str, setup, input_setup) -> dict[str, Case]:
    """create/update/delete of an unversioned type (organisation, territory)."""
    kind = name.capitalize()
    return {
        f"{name}.create": Case(
            f"""mutation($input: {kind}CreateInput!) {{ create{kind}(input: $input) {{
                errors {{ code }} }} }}""",
            input_setup,
        ),
        f"{name}.update": Case(
            f"""mutation($id: ID!) {{ update{kind}(id: $id, input: {{name: "Nom modifié"}})
                {{ errors {{ code }} }} }}""",
            setup,
        ),
        f"{name}.delete": Case(
            f"mutation($id: ID!) {{ delete{kind}(id: $id) {{ errors {{ code }} }} }}",
            setup,
        ),
    }


async def _content_input(gql, principals) -> dict[str, Any]:
    return {"input": await _input(gql, principals)}


async def _newsletter_issue(gql, principals) -> dict[str, Any]:
    created = await gql.data(
        "mutation($t: String!) { createNewsletterIssue(input: {title: $t}) { issue { id } } }",
        await _title(gql, principals),
        headers=principals["EDITOR"],
    )
    return {"id": created["createNewsletterIssue"]["issue"]["id"]}


async def _newsletter_issue_version(gql, principals) -> dict[str, Any]:
    created = await gql.data(
        """mutation($t: String!) { createNewsletterIssue(input: {title: $t}) {
            issue { id version } } }""",
        await _title(gql, principals),
        headers=principals["EDITOR"],
    )
    issue = created["createNewsletterIssue"]["issue"]
    return {"id": issue["id"], "v": issue["version"]}


async def _email(gql, principals) -> dict[str, Any]:
    return {"e": f"matrice-{unique_tag(10)}@example.org"}


async def _subscriber(gql, principals) -> dict[str, Any]:
    from schema.relay import to_global_id
    from services.subscribers.service import Consent, subscribe

    made = await subscribe(
        (await _email(gql, principals))["e"],
        consent=Consent(ip="198.51.100.1", source="matrice", wording_version="test"),
    )
    return {"id": to_global_id("Subscriber", made.subscriber.id)}


_SETTINGS: dict[str, Any] = {}


@pytest.fixture(scope="module", autouse=True)
def _keep_settings(database):
    """The session's settings, for the cases that sign links with its secrets."""
    _SETTINGS["settings"] = database


async def _account(gql, principals) -> dict[str, Any]:
    """A throwaway account with an open session: what administrators act on."""
    from schema.relay import to_global_id
    from services.accounts import service as accounts

    account = await accounts.create_account(
        f"matrice-{unique_tag(10)}@example.org",
        password="un mot de passe de matrice",
        role="EDITOR",
        display_name="Compte de matrice",
    )
    await accounts.issue_token(account)
    return {"id": to_global_id("Account", account.id)}


async def _reset_link(gql, principals) -> dict[str, Any]:
    from schema.relay import from_global_id
    from services.accounts import admin
    from services.subscribers.signing import signing_keys

    _, pk = from_global_id((await _account(gql, principals))["id"])
    reset = await admin.start_password_reset(
        admin.OPERATOR, pk, keys=signing_keys(_SETTINGS["settings"])
    )
    return {"token": reset.token, "password": "un nouveau mot de passe de matrice"}


async def _webhook_input(gql, principals) -> dict[str, Any]:
    url = f"https://matrice-{unique_tag(8)}.invalid/hooks"
    return {"input": {"url": url, "events": ["resource.published"]}}


CASES: dict[str, Case] = {
    "resource.create": Case(
        "mutation($t: String!) { createResource(input: {title: $t}) { errors { code } } }", _title
    ),
    "resource.update": Case(
        """mutation($id: ID!, $version: Int!) { updateResource(id: $id, version: $version,
            input: {summary: "Résumé"}) { errors { code } } }""",
        _draft,
    ),
    "resource.delete": Case(
        """mutation($id: ID!, $version: Int!) { deleteResource(id: $id, version: $version)
            { errors { code } } }""",
        _draft,
    ),
    "content.publish": Case(
        """mutation($id: ID!, $version: Int!) { publish(id: $id, version: $version)
            { errors { code } } }""",
        _draft,
    ),
    "content.unpublish": Case(
        """mutation($id: ID!, $version: Int!) { unpublish(id: $id, version: $version)
            { errors { code } } }""",
        _draft,
    ),
    "content.archive": Case(
        """mutation($id: ID!, $version: Int!) { archive(id: $id, version: $version)
            { errors { code } } }""",
        _draft,
    ),
    "content.preview": Case(
        "query($slug: String!) { resource(slug: $slug) { id } }",
        _draft,
        kind="field",
        path=("resource",),
    ),
    "contribution.submit": Case(
        "mutation($t: String!) { contributeResource(input: {title: $t}) { errors { code } } }",
        _title,
    ),
    "contribution.list_own": Case("{ myContributions { nodes { id } } }", _nothing),
    "contribution.moderate": Case(
        """mutation($id: ID!, $version: Int!) {
            acceptContribution(id: $id, version: $version) { errors { code } } }""",
        _submitted,
    ),
    "audit.read": Case("{ auditLog(first: 1) { nodes { action } } }", _nothing),
    "search.manage": Case("{ searchIndexStatus { pendingChanges } }", _nothing),
    "webhook.manage": Case(
        """mutation($input: WebhookEndpointCreateInput!) {
            createWebhookEndpoint(input: $input) { endpoint { id } } }""",
        _webhook_input,
    ),
    "webhook.read": Case("{ webhookEndpoints(first: 1) { nodes { id } } }", _nothing),
    # Allowed callers get past the gate; the token itself needs Meilisearch (not here).
    "search.tenant_token": Case(
        "mutation { issueSearchTenantToken { tenantToken { token } errors { code } } }",
        _nothing,
        kind="gate",
    ),
    "account.read_email": Case(
        """mutation { signIn(email: "editor@principals.test",
            password: "correct horse battery staple") { account { id } errors { code } } }""",
        _nothing,
        kind="skip",
    ),
    "account.read_self": Case("{ me { email } }", _nothing, kind="field", path=("me",)),
    "session.sign_out": Case("mutation { signOut { signedOut errors { code } } }", _nothing),
    "account.list": Case("{ accounts(first: 1) { nodes { id active } } }", _nothing),
    "account.deactivate": Case(
        "mutation($id: ID!) { deactivateAccount(id: $id) { account { id active } errors "
        "{ code } } }",
        _account,
    ),
    "account.reset_password": Case(
        "mutation($id: ID!) { resetPassword(id: $id) { reset { expiresAt } errors { code } } }",
        _account,
    ),
    "account.set_password": Case(
        "mutation($token: String!, $password: String!) { setPassword(token: $token, "
        "password: $password) { account { id } errors { code } } }",
        _reset_link,
    ),
    "session.revoke_all": Case(
        "mutation($id: ID!) { revokeTokens(id: $id) { result { revoked } errors { code } } }",
        _account,
    ),
    "apikey.list": Case("{ apiKeys(first: 1) { nodes { prefix lastUsedAt } } }", _nothing),
    "newsletter.compose": Case(
        "mutation($t: String!) { createNewsletterIssue(input: {title: $t}) { errors { code } } }",
        _title,
    ),
    "newsletter.sections": Case(
        """mutation($id: ID!, $v: Int!) { setNewsletterSections(id: $id, version: $v,
            sections: [{kind: VIEW_IN_BROWSER}, {kind: FOOTER}]) { errors { code } } }""",
        _newsletter_issue_version,
    ),
    "newsletter.send": Case(
        """mutation($id: ID!) { scheduleNewsletter(id: $id, at: "2099-01-01T09:00:00+01:00")
            { errors { code } } }""",
        _newsletter_issue,
    ),
    "newsletter.recipients": Case(
        "query($id: ID!) { newsletterRecipients(id: $id) { total } }", _newsletter_issue
    ),
    "subscriber.subscribe": Case(
        "mutation($e: String!) { subscribe(input: {email: $e}) { message errors { code } } }",
        _email,
    ),
    "subscriber.read": Case("{ subscribers(first: 1) { nodes { id } } }", _nothing),
    "subscriber.manage": Case(
        "mutation($id: ID!) { exportSubscriber(id: $id) { data errors { code } } }", _subscriber
    ),
    **_content_cases("theme", _theme, _content_input),
    **_content_cases("concept", _concept, _content_input),
    **_content_cases("event", _event, _event_input),
    **_reference_cases("organization", _organization, _organization_input),
    **_reference_cases("territory", _territory, _territory_input),
}


# --- Votes and shared projects (set up through the services, as an editor) -------------


def _editor():
    from services.viewer import Role, Viewer

    return Viewer(role=Role.EDITOR)


async def _niort():
    from services.territories.models import Territory

    return await Territory.get(slug="niort")


async def _published_themes(n: int):
    from services.themes.models import Theme

    tag = unique_tag(8)
    return [
        await Theme.create(slug=f"matrice-vote-{tag}-{i}", title=f"Matrice {tag} {i}")
        for i in range(n)
    ]


async def _voting_round() -> dict[str, Any]:
    import datetime as dt

    from schema.relay import to_global_id
    from services.votes import voting

    themes = await _published_themes(2)
    now = dt.datetime.now(dt.UTC)
    voting_round = await voting.open_voting_round(
        _editor(),
        draft=voting.RoundDraft(
            title=f"Matrice {unique_tag(6)}",
            opens_at=now - dt.timedelta(hours=1),
            closes_at=now + dt.timedelta(days=1),
            candidate_theme_ids=[t.id for t in themes],
        ),
    )
    return {
        "round": to_global_id("VotingRound", voting_round.id),
        "theme": to_global_id("Theme", themes[0].id),
        "_pk": voting_round.id,
        "_theme_pk": themes[0].id,
    }


async def _round_for_open(gql, principals) -> dict[str, Any]:
    import datetime as dt

    from schema.relay import to_global_id

    themes = await _published_themes(2)
    now = dt.datetime.now(dt.UTC)
    return {
        "input": {
            "title": f"Matrice {unique_tag(6)}",
            "opensAt": now.isoformat(),
            "closesAt": (now + dt.timedelta(days=1)).isoformat(),
            "candidates": [to_global_id("Theme", t.id) for t in themes],
        }
    }


async def _round(gql, principals) -> dict[str, Any]:
    found = await _voting_round()
    return {"round": found["round"], "theme": found["theme"]}


async def _round_with_niort_vote(gql, principals) -> dict[str, Any]:
    from services.viewer import Role, Viewer
    from services.votes import voting

    found = await _voting_round()
    niort = await _niort()
    await voting.cast_vote(
        Viewer(role=Role.LOCAL_AUTHORITY, territory_id=niort.id),
        found["_pk"],
        theme_id=found["_theme_pk"],
    )
    return {"round": found["round"], "theme": found["theme"]}


async def _round_with_other_vote(gql, principals) -> dict[str, Any]:
    from services.territories.models import Territory
    from services.viewer import Role, Viewer
    from services.votes import voting

    found = await _voting_round()
    other = await Territory.create(
        slug=f"matrice-{unique_tag(8)}", name="Ailleurs", level="COMMUNE"
    )
    await voting.cast_vote(
        Viewer(role=Role.LOCAL_AUTHORITY, territory_id=other.id),
        found["_pk"],
        theme_id=found["_theme_pk"],
    )
    return {"id": found["round"]}


async def _project(
    *, open_it: bool = True, niort_as: str | None = None, confirmed: int = 0
) -> dict[str, Any]:
    from schema.relay import to_global_id
    from services.projects import editing
    from services.projects.models import MembershipRole
    from services.territories.models import Territory
    from services.viewer import Role, Viewer

    [theme] = await _published_themes(1)
    project = await editing.create_shared_project(
        _editor(),
        changes=editing.ProjectChanges(title=f"Matrice {unique_tag(6)}", theme_id=theme.id),
    )
    if open_it:
        await editing.open_shared_project(_editor(), project.id)
    variables: dict[str, Any] = {
        "project": to_global_id("SharedProject", project.id),
        "id": to_global_id("SharedProject", project.id),
    }
    if niort_as:
        niort = await _niort()
        membership = await editing.apply_to_project(
            Viewer(role=Role.LOCAL_AUTHORITY, territory_id=niort.id),
            project.id,
            role=MembershipRole(niort_as),
        )
        variables["membership"] = to_global_id("Membership", membership.id)
    for _ in range(confirmed):
        territory = await Territory.create(
            slug=f"matrice-{unique_tag(8)}", name="Participante", level="COMMUNE"
        )
        member = await editing.apply_to_project(
            Viewer(role=Role.LOCAL_AUTHORITY, territory_id=territory.id),
            project.id,
            role=MembershipRole.PARTICIPANT,
        )
        await editing.decide_membership(_editor(), member.id, confirm=True)
    return variables


async def _theme_id(gql, principals) -> dict[str, Any]:
    from schema.relay import to_global_id

    [theme] = await _published_themes(1)
    return {"theme": to_global_id("Theme", theme.id), "t": f"Matrice {unique_tag(6)}"}


async def _draft_project(gql, principals) -> dict[str, Any]:
    return {"id": (await _project(open_it=False))["id"]}


async def _open_project(gql, principals) -> dict[str, Any]:
    return {"project": (await _project())["project"]}


async def _observed_project(gql, principals) -> dict[str, Any]:
    return {"project": (await _project(niort_as="OBSERVER"))["project"]}


async def _application(gql, principals) -> dict[str, Any]:
    return {"id": (await _project(niort_as="PARTICIPANT"))["membership"]}


async def _startable_project(gql, principals) -> dict[str, Any]:
    return {"id": (await _project(confirmed=3))["id"]}


VOTE_CASES: dict[str, Case] = {
    "round.open": Case(
        """mutation($input: VotingRoundInput!) { openVotingRound(input: $input) {
            errors { code } } }""",
        _round_for_open,
    ),
    "round.close": Case(
        "mutation($round: ID!) { closeVotingRound(round: $round) { errors { code } } }", _round
    ),
    "vote.cast": Case(
        """mutation($round: ID!, $theme: ID!) { castVote(round: $round, theme: $theme)
            { errors { code } } }""",
        _round,
    ),
    "vote.withdraw": Case(
        """mutation($round: ID!, $theme: ID!) { withdrawVote(round: $round, theme: $theme)
            { errors { code } } }""",
        _round_with_niort_vote,
    ),
    "vote.read_all": Case(
        "query($id: ID!) { node(id: $id) { ... on VotingRound { votes { castAt } } } }",
        _round_with_other_vote,
        kind="list",
        path=("node", "votes"),
    ),
    "project.create": Case(
        """mutation($t: String!, $theme: ID!) { createSharedProject(input: {title: $t,
            theme: $theme}) { errors { code } } }""",
        _theme_id,
    ),
    "project.update": Case(
        """mutation($id: ID!) { updateSharedProject(id: $id, input: {summary: "Résumé"})
            { errors { code } } }""",
        _draft_project,
    ),
    "project.apply": Case(
        """mutation($project: ID!) { applyToProject(project: $project, role: OBSERVER)
            { errors { code } } }""",
        _open_project,
    ),
    "project.withdraw": Case(
        "mutation($project: ID!) { withdrawFromProject(project: $project) { errors { code } } }",
        _observed_project,
    ),
    "project.decide": Case(
        "mutation($id: ID!) { confirmMembership(id: $id) { errors { code } } }", _application
    ),
    "project.start": Case(
        "mutation($id: ID!) { startSharedProject(id: $id) { errors { code } } }", _startable_project
    ),
    "project.publish_news": Case(
        """mutation($id: ID!) { publishProjectNews(project: $id, title: "Nouvelles",
            body: "<p>Texte</p>") { errors { code } } }""",
        _draft_project,
    ),
    "membership.update": Case(
        """mutation($id: ID!) { updateMembership(id: $id, actionPlan: "<p>Plan</p>")
            { errors { code } } }""",
        _application,
    ),
}
CASES.update(VOTE_CASES)


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[key] if data is not None else None
    return data


@pytest.mark.parametrize("principal", list(Principal))
@pytest.mark.parametrize("operation", list(policy_table()))
async def test_operation_is_allowed_exactly_as_the_policy_says(
    gql, principals, operation, principal
):
    case = CASES.get(operation)
    assert case is not None, f"add a case for {operation} to CASES"
    if case.kind == "skip":
        pytest.skip("covered by test_email_is_private")
    variables = await case.setup(gql, principals)
    if operation == "session.sign_out" and principal in SIGNED_IN:
        # Signing out revokes the shared token: use a fresh one for this call.
        headers = await _fresh_headers(principal)
    else:
        headers = principals[principal.value]
    body = await gql(case.document, variables, headers=headers)
    allowed = principal in policy_table()[operation][0]
    if case.kind == "field":
        value = _dig(body.get("data"), case.path)
        assert (value is not None) is allowed, (operation, principal, body)
        return
    if case.kind == "list":
        value = _dig(body.get("data"), case.path)
        assert bool(value) is allowed, (operation, principal, body)
        return
    codes = [e["extensions"]["code"] for e in body.get("errors", [])]
    if allowed and case.kind == "gate":
        assert not {"FORBIDDEN", "UNAUTHENTICATED"} & set(codes), (operation, principal, body)
    elif allowed:
        assert "errors" not in body, (operation, principal, body)
        refused = [p.get("errors") for p in body["data"].values() if isinstance(p, dict)]
        assert not any(refused), (operation, principal, body)
    else:
        expected = "UNAUTHENTICATED" if principal is Principal.ANONYMOUS else "FORBIDDEN"
        assert codes == [expected], (operation, principal, body)


async def _fresh_headers(principal: Principal) -> dict[str, str]:
    from services.accounts import service as accounts

    account = await accounts.get_account_by_email(f"{principal.value.lower()}@principals.test")
    return {"Authorization": f"Bearer {await accounts.issue_token(account)}"}


async def test_email_is_private(gql, principals):
    query = """query($id: ID!) { auditLog(filter: {object: $id}, first: 1) {
        nodes { actor { email } } } }"""
    variables = await _draft(gql, principals)
    editor_view = await gql.data(query, {"id": variables["id"]}, headers=principals["EDITOR"])
    assert editor_view["auditLog"]["nodes"][0]["actor"]["email"] == "editor@principals.test"
    me = await gql.data("{ me { email } }", headers=principals["LOCAL_AUTHORITY"])
    assert me["me"]["email"] == "local_authority@principals.test"


def test_docs_matrix_is_the_policy(repo_root):
    text = (repo_root / "docs" / "authorization.md").read_text("utf-8")
    assert text == render_authorization_doc(), "docs/authorization.md is stale: run `make docs`"
