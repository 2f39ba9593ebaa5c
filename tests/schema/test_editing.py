"""Editors' writes on themes, concepts, events, organisations and territories.

Each write checks its input (naming the field at fault), refuses stale versions,
keeps referenced objects, is audited and leaves an outbox row — or changes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from services.outbox.models import OutboxEntry
from tests.conftest import USER_ERRORS, payload, user_error
from tests.unique import unique_number, unique_tag


def _name(prefix: str = "Essai") -> str:
    return f"{prefix} {unique_tag(8)}"


def _free_month() -> str:
    """A month no other test uses (the theme month is unique in the whole database)."""
    year, month = divmod(unique_number(2200 * 12, 9000 * 12 + 11), 12)
    return f"{year}-{month + 1:02d}-01"


async def _create(gql, headers, mutation: str, input_type: str, fields: str, values: dict) -> Any:
    name = mutation.removeprefix("create")
    name = name[0].lower() + name[1:]
    document = f"""mutation($input: {input_type}!) {{
      {mutation}(input: $input) {{ {name} {{ {fields} }} {USER_ERRORS} }} }}"""
    return payload(await gql(document, {"input": values}, headers=headers), mutation, name)


async def _audit(gql, headers, object_id: str) -> list[dict[str, Any]]:
    log = await gql.data(
        """query($id: ID!) { auditLog(filter: {object: $id}, first: 50) {
            nodes { action changes actorRole } } }""",
        {"id": object_id},
        headers=headers,
    )
    return log["auditLog"]["nodes"]


async def _latest_audit(gql, headers) -> Any:
    return await gql.data("{ auditLog(first: 1) { nodes { action changes } } }", headers=headers)


def _error(body: dict[str, Any]) -> tuple[str, str | None]:
    """``(code, field)`` of the refusal of the one mutation of ``body``: its payload's
    first user error, the field being the last name of its path."""
    [mutation] = body["data"]
    return user_error(body, mutation)


def _message(body: dict[str, Any]) -> str:
    [answer] = body["data"].values()
    return answer["errors"][0]["message"]


async def _node(gql, query: str, object_id: str, headers=None) -> Any:
    """The object, or None when it does not exist (or is not visible) for ``headers``."""
    body = await gql(query, {"id": object_id}, headers=headers)
    if "errors" in body:
        extensions = body["errors"][0]["extensions"]
        assert (extensions["code"], extensions.get("field")) == ("NOT_FOUND", "id"), body
        return None
    return body["data"]["node"]


def _pk(global_id: str) -> int:
    import base64

    return int(base64.b64decode(global_id).decode().partition(":")[2])


# --- Themes ---------------------------------------------------------------------------

THEME_FIELDS = "id slug title introduction month isNext isVoteCandidate status version"
UPDATE_THEME = f"""mutation($id: ID!, $version: Int!, $input: ThemeUpdateInput!) {{
  updateTheme(id: $id, version: $version, input: $input) {{
    theme {{ {THEME_FIELDS} }} {USER_ERRORS} }} }}"""
DELETE_THEME = """mutation($id: ID!, $version: Int!) {
  deleteTheme(id: $id, version: $version) { deletedId errors { field code message } } }"""
THEME_BY_ID = f"""query($id: ID!) {{ node(id: $id) {{ ... on Theme {{ {THEME_FIELDS} }} }} }}"""


async def _theme(gql, editor, **values: Any) -> dict[str, Any]:
    return await _create(
        gql, editor, "createTheme", "ThemeCreateInput", THEME_FIELDS, {"title": _name(), **values}
    )


async def test_theme_is_created_as_a_draft_with_a_slug_from_its_french_title(gql, principals):
    editor = principals["EDITOR"]
    suffix = unique_tag(6)
    theme = await _theme(
        gql,
        editor,
        title=f"Écologie & démocratie {suffix}",
        introduction="<p>Intro <script>alert(1)</script><a href='javascript:x()'>lien</a></p>",
        month="2150-03-17",
    )
    assert theme["status"] == "DRAFT" and theme["version"] == 1
    assert theme["slug"] == f"ecologie-democratie-{suffix}"
    assert "<script" not in theme["introduction"] and "javascript:" not in theme["introduction"]
    assert theme["month"] == "2150-03-01"  # stored as the first day of the month
    # The public does not see a draft.
    assert await _node(gql, THEME_BY_ID, theme["id"]) is None
    again = await _theme(gql, editor, title=f"Écologie & démocratie {suffix}")
    assert again["slug"] == f"ecologie-democratie-{suffix}-2"


async def test_theme_update_delete_and_audit(gql, principals):
    editor = principals["EDITOR"]
    theme = await _theme(gql, editor)
    updated = (
        await gql.data(
            UPDATE_THEME,
            {"id": theme["id"], "version": 1, "input": {"title": "Nouveau titre"}},
            headers=editor,
        )
    )["updateTheme"]["theme"]
    assert updated["title"] == "Nouveau titre" and updated["version"] == 2
    assert updated["slug"] == theme["slug"]  # a slug does not follow renamings
    deleted = await gql.data(DELETE_THEME, {"id": theme["id"], "version": 2}, headers=editor)
    assert deleted["deleteTheme"] == {"deletedId": theme["id"], "errors": []}
    assert await _node(gql, THEME_BY_ID, theme["id"], editor) is None
    entries = await _audit(gql, editor, theme["id"])
    assert [e["action"] for e in entries] == ["theme.delete", "theme.update", "theme.create"]
    assert entries[1]["changes"] == {"title": [theme["title"], "Nouveau titre"]}
    assert entries[1]["actorRole"] == "EDITOR"


async def test_stale_theme_update_is_a_conflict_and_changes_nothing(gql, principals):
    editor = principals["EDITOR"]
    theme = await _theme(gql, editor)
    await gql.data(
        UPDATE_THEME, {"id": theme["id"], "version": 1, "input": {"title": "A"}}, headers=editor
    )
    before = await _latest_audit(gql, editor)
    stale = await gql(
        UPDATE_THEME, {"id": theme["id"], "version": 1, "input": {"title": "B"}}, headers=editor
    )
    assert _error(stale) == ("CONFLICT", "version")
    stale_delete = await gql(DELETE_THEME, {"id": theme["id"], "version": 1}, headers=editor)
    assert _error(stale_delete) == ("CONFLICT", "version")
    current = await _node(gql, THEME_BY_ID, theme["id"], editor)
    assert current["title"] == "A" and current["version"] == 2
    assert await _latest_audit(gql, editor) == before


async def test_a_taken_month_is_refused_on_the_month_field(gql, principals):
    editor = principals["EDITOR"]
    month = _free_month()
    first = await _theme(gql, editor, month=month)
    title = _name()
    body = await gql(
        f"""mutation($i: ThemeCreateInput!) {{
          createTheme(input: $i) {{ theme {{ id }} {USER_ERRORS} }} }}""",
        {"i": {"title": title, "month": month}},
        headers=editor,
    )
    assert _error(body) == ("BAD_USER_INPUT", "month")
    other = await _theme(gql, editor)
    moved = await gql(
        UPDATE_THEME,
        {"id": other["id"], "version": 1, "input": {"month": month}},
        headers=editor,
    )
    assert _error(moved) == ("BAD_USER_INPUT", "month")
    # The theme itself may keep (or re-send) its own month.
    same = await gql.data(
        UPDATE_THEME, {"id": first["id"], "version": 1, "input": {"month": month}}, headers=editor
    )
    assert same["updateTheme"]["theme"]["month"] == month


async def test_only_one_theme_is_announced_as_next(gql, principals):
    editor = principals["EDITOR"]
    first = await _theme(gql, editor, isNext=True)
    second = await _theme(gql, editor)
    promoted = await gql.data(
        UPDATE_THEME, {"id": second["id"], "version": 1, "input": {"isNext": True}}, headers=editor
    )
    assert promoted["updateTheme"]["theme"]["isNext"] is True
    demoted = await _node(gql, THEME_BY_ID, first["id"], editor)
    assert demoted["isNext"] is False and demoted["version"] == 2
    assert (await _audit(gql, editor, first["id"]))[0]["changes"] == {"is_next": [True, False]}
    third = await _theme(gql, editor, isNext=True)
    flags = [
        (await _node(gql, THEME_BY_ID, t["id"], editor))["isNext"] for t in (first, second, third)
    ]
    assert flags == [False, False, True]
    # Leave no announced draft behind for the other tests.
    await gql.data(DELETE_THEME, {"id": third["id"], "version": 1}, headers=editor)


async def test_renaming_a_theme_writes_one_outbox_row_and_a_refused_write_none(gql, principals):
    editor = principals["EDITOR"]
    theme = await _theme(gql, editor)
    pk = _pk(theme["id"])

    async def rows() -> int:
        return await OutboxEntry.filter(entity_type="theme", entity_id=pk).count()

    before = await rows()
    await gql.data(
        UPDATE_THEME,
        {"id": theme["id"], "version": 1, "input": {"title": "Renommée"}},
        headers=editor,
    )
    assert await rows() == before + 1
    for refused in (
        {"id": theme["id"], "version": 1, "input": {"title": "Périmée"}},  # stale
        {"id": theme["id"], "version": 2, "input": {"title": ""}},  # invalid
    ):
        assert (await gql(UPDATE_THEME, refused, headers=editor))["data"]["updateTheme"]["errors"]
    assert await rows() == before + 1


async def test_a_theme_with_a_shared_project_cannot_be_deleted(gql, principals):
    from services.projects.models import SharedProject

    editor = principals["EDITOR"]
    project = await SharedProject.all().order_by("id").first().prefetch_related("theme")
    theme_id = f"{_theme_global_id(project.theme.id)}"
    before = await _node(gql, THEME_BY_ID, theme_id, editor)
    body = await gql(DELETE_THEME, {"id": theme_id, "version": before["version"]}, headers=editor)
    assert _error(body) == ("CONFLICT", "id")
    assert "projets partagés" in _message(body)
    after = await _node(gql, THEME_BY_ID, theme_id, editor)
    assert after == before


def _theme_global_id(pk: int) -> str:
    import base64

    return base64.b64encode(f"Theme:{pk}".encode()).decode()


# --- Concepts -------------------------------------------------------------------------

CONCEPT_FIELDS = (
    "id slug title summary body month furtherReading status version organizations { slug }"
)
UPDATE_CONCEPT = f"""mutation($id: ID!, $version: Int!, $input: ConceptUpdateInput!) {{
  updateConcept(id: $id, version: $version, input: $input) {{
    concept {{ {CONCEPT_FIELDS} }} {USER_ERRORS} }} }}"""


async def _organization_id(gql, slug: str) -> str:
    found = await gql.data("query($s: String!) { organization(slug: $s) { id } }", {"s": slug})
    return found["organization"]["id"]


async def test_concept_create_update_delete(gql, principals):
    editor = principals["EDITOR"]
    anct = await _organization_id(gql, "anct")
    concept = await _create(
        gql,
        editor,
        "createConcept",
        "ConceptCreateInput",
        CONCEPT_FIELDS,
        {
            "title": _name("L'échelle d'Arnstein"),
            "body": '<p>Texte <script>x()</script><a href="https://e.org">lien</a></p>',
            "organizations": [anct],
            "furtherReading": "  Arnstein, 1969  ",
        },
    )
    assert concept["status"] == "DRAFT" and concept["slug"].startswith("l-echelle-d-arnstein-")
    assert "<script" not in concept["body"]
    assert 'rel="noopener noreferrer"' in concept["body"]
    assert concept["organizations"] == [{"slug": "anct"}]
    assert concept["furtherReading"] == "Arnstein, 1969"
    updated = (
        await gql.data(
            UPDATE_CONCEPT,
            {
                "id": concept["id"],
                "version": 1,
                "input": {"organizations": [], "furtherReading": None, "summary": "Résumé"},
            },
            headers=editor,
        )
    )["updateConcept"]["concept"]
    assert updated["organizations"] == [] and updated["furtherReading"] is None
    assert updated["version"] == 2
    stale = await gql(
        UPDATE_CONCEPT,
        {"id": concept["id"], "version": 1, "input": {"organizations": [anct]}},
        headers=editor,
    )
    assert _error(stale) == ("CONFLICT", "version")
    entries = await _audit(gql, editor, concept["id"])
    assert entries[0]["changes"]["organizations"][1] == []
    deleted = await gql.data(
        "mutation($id: ID!) { deleteConcept(id: $id, version: 2) { deletedId errors { code } } }",
        {"id": concept["id"]},
        headers=editor,
    )
    assert deleted["deleteConcept"]["deletedId"] == concept["id"]


async def test_concept_bad_input_names_the_field(gql, principals):
    editor = principals["EDITOR"]
    for values, field in (
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": _name(), "body": "a" * 100_001}, "body"),
        ({"title": _name(), "summary": "a" * 2_001}, "summary"),
        ({"title": _name(), "organizations": ["VGhlbWU6MQ=="]}, "organizations"),
    ):
        before = await _latest_audit(gql, editor)
        body = await gql(
            f"""mutation($i: ConceptCreateInput!) {{
              createConcept(input: $i) {{ concept {{ id }} {USER_ERRORS} }} }}""",
            {"i": values},
            headers=editor,
        )
        assert _error(body) == ("BAD_USER_INPUT", field), values
        assert await _latest_audit(gql, editor) == before


# --- Events ---------------------------------------------------------------------------

EVENT_FIELDS = """id slug title startsAt endsAt city online format registrationUrl status version
  organizers { slug } themes { slug } territories { slug }"""
UPDATE_EVENT = f"""mutation($id: ID!, $version: Int!, $input: EventUpdateInput!) {{
  updateEvent(id: $id, version: $version, input: $input) {{
    event {{ {EVENT_FIELDS} }} {USER_ERRORS} }} }}"""
CREATE_EVENT = f"""mutation($i: EventCreateInput!) {{
  createEvent(input: $i) {{ event {{ id }} {USER_ERRORS} }} }}"""


def _event_values(**values: Any) -> dict[str, Any]:
    return {
        "title": _name("Webinaire"),
        "startsAt": "2031-03-12T18:30:00+01:00",
        "endsAt": "2031-03-12T20:00:00+01:00",
        **values,
    }


async def test_event_create_update_delete(gql, principals):
    editor = principals["EDITOR"]
    niort = (await gql.data('{ territory(slug: "niort") { id } }'))["territory"]["id"]
    theme = (await gql.data('{ theme(slug: "la-democratie-culturelle") { id } }'))["theme"]["id"]
    event = await _create(
        gql,
        editor,
        "createEvent",
        "EventCreateInput",
        EVENT_FIELDS,
        _event_values(
            format="WEBINAR",
            online=True,
            registrationUrl="https://example.org/inscription",
            organizers=[await _organization_id(gql, "anct")],
            themes=[theme],
            territories=[niort],
        ),
    )
    assert event["status"] == "DRAFT" and event["format"] == "WEBINAR"
    assert event["startsAt"] == "2031-03-12T17:30:00+00:00"
    assert event["organizers"] == [{"slug": "anct"}]
    assert event["territories"] == [{"slug": "niort"}]
    assert event["themes"] == [{"slug": "la-democratie-culturelle"}]
    moved = (
        await gql.data(
            UPDATE_EVENT,
            {
                "id": event["id"],
                "version": 1,
                "input": {"endsAt": "2031-03-12T22:00:00+01:00", "city": "Niort", "themes": []},
            },
            headers=editor,
        )
    )["updateEvent"]["event"]
    assert moved["endsAt"] == "2031-03-12T21:00:00+00:00" and moved["city"] == "Niort"
    assert moved["themes"] == [] and moved["version"] == 2
    # Only the end changes: it is still checked against the stored start.
    early = await gql(
        UPDATE_EVENT,
        {"id": event["id"], "version": 2, "input": {"endsAt": "2031-03-12T08:00:00+01:00"}},
        headers=editor,
    )
    assert _error(early) == ("BAD_USER_INPUT", "endsAt")
    stale = await gql(
        UPDATE_EVENT, {"id": event["id"], "version": 1, "input": {"city": "Lyon"}}, headers=editor
    )
    assert _error(stale) == ("CONFLICT", "version")
    entries = await _audit(gql, editor, event["id"])
    assert [e["action"] for e in entries] == ["event.update", "event.create"]
    assert entries[0]["changes"]["themes"][1] == []
    deleted = await gql.data(
        "mutation($id: ID!) { deleteEvent(id: $id, version: 2) { deletedId errors { code } } }",
        {"id": event["id"]},
        headers=editor,
    )
    assert deleted["deleteEvent"]["deletedId"] == event["id"]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"registrationUrl": "javascript:alert(1)"}, "registrationUrl"),
        ({"registrationUrl": "data:text/html,x"}, "registrationUrl"),
        ({"endsAt": "2031-03-12T17:00:00+01:00"}, "endsAt"),
        ({"startsAt": "2031-03-12T18:30:00"}, "startsAt"),
        ({"endsAt": "2031-03-12T20:00:00"}, "endsAt"),
        ({"title": ""}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"summary": "x" * 2_001}, "summary"),
        ({"city": "x" * 121}, "city"),
        ({"slug": "Pas un slug"}, "slug"),
    ],
)
async def test_event_bad_input_names_the_field_and_changes_nothing(gql, principals, values, field):
    from services.events.models import Event

    editor = principals["EDITOR"]
    before = await _latest_audit(gql, editor)
    count = await Event.all().count()
    body = await gql(CREATE_EVENT, {"i": _event_values(**values)}, headers=editor)
    assert _error(body) == ("BAD_USER_INPUT", field), body
    assert await Event.all().count() == count
    assert await _latest_audit(gql, editor) == before


async def test_event_dates_are_required_on_creation(gql, principals):
    # Non-null in EventCreateInput: refused by the schema before anything runs.
    for given in ({"startsAt": "2031-03-12T18:30:00+01:00"}, {"startsAt": None}):
        body = await gql(
            CREATE_EVENT, {"i": {"title": _name(), **given}}, headers=principals["EDITOR"]
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert (
            "startsAt" in body["errors"][0]["message"] or "endsAt" in body["errors"][0]["message"]
        )


# --- Organisations --------------------------------------------------------------------

ORGANIZATION_FIELDS = "id slug name acronym kind website description roles"
UPDATE_ORGANIZATION = f"""mutation($id: ID!, $input: OrganizationUpdateInput!) {{
  updateOrganization(id: $id, input: $input) {{
    organization {{ {ORGANIZATION_FIELDS} }} {USER_ERRORS} }} }}"""
DELETE_ORGANIZATION = (
    f"mutation($id: ID!) {{ deleteOrganization(id: $id) {{ deletedId {USER_ERRORS} }} }}"
)
ORGANIZATION_BY_ID = f"""query($id: ID!) {{ node(id: $id) {{
  ... on Organization {{ {ORGANIZATION_FIELDS} }} }} }}"""


async def test_organization_create_update_delete_with_audited_diff(gql, principals):
    editor = principals["EDITOR"]
    organization = await _create(
        gql,
        editor,
        "createOrganization",
        "OrganizationCreateInput",
        ORGANIZATION_FIELDS,
        {
            "name": _name("Réseau des élus"),
            "kind": "NETWORK",
            "roles": ["PARTNER", "SOURCE", "PARTNER"],
            "website": "https://reseau.example.org",
        },
    )
    assert organization["slug"].startswith("reseau-des-elus-")
    assert sorted(organization["roles"]) == ["PARTNER", "SOURCE"]
    # Public at once: organisations have no draft state.
    assert (await _node(gql, ORGANIZATION_BY_ID, organization["id"]))["name"]
    updated = (
        await gql.data(
            UPDATE_ORGANIZATION,
            {
                "id": organization["id"],
                "input": {"acronym": "RDE", "roles": ["ORGANIZER"], "website": None},
            },
            headers=editor,
        )
    )["updateOrganization"]["organization"]
    assert updated["acronym"] == "RDE" and updated["roles"] == ["ORGANIZER"]
    assert updated["website"] is None
    entries = await _audit(gql, editor, organization["id"])
    assert [e["action"] for e in entries] == ["organization.update", "organization.create"]
    assert entries[0]["changes"] == {
        "acronym": [None, "RDE"],
        "website": ["https://reseau.example.org", None],
        "roles": [["PARTNER", "SOURCE"], ["ORGANIZER"]],
    }
    pk = _pk(organization["id"])
    assert await OutboxEntry.filter(entity_type="organization", entity_id=pk).count() == 2
    deleted = await gql.data(DELETE_ORGANIZATION, {"id": organization["id"]}, headers=editor)
    assert deleted["deleteOrganization"]["deletedId"] == organization["id"]
    assert await _node(gql, ORGANIZATION_BY_ID, organization["id"]) is None


async def test_organization_bad_input_names_the_field(gql, principals):
    editor = principals["EDITOR"]
    for values, field in (
        ({"name": ""}, "name"),
        ({"name": _name(), "website": "javascript:alert(1)"}, "website"),
        ({"name": _name(), "website": "https://e.org/" + "a" * 500}, "website"),
        ({"name": _name(), "acronym": "x" * 31}, "acronym"),
        ({"name": _name(), "description": "x" * 2_001}, "description"),
        ({"name": _name(), "slug": "anct"}, "slug"),
    ):
        before = await _latest_audit(gql, editor)
        body = await gql(
            f"""mutation($i: OrganizationCreateInput!) {{
              createOrganization(input: $i) {{ organization {{ id }} {USER_ERRORS} }} }}""",
            {"i": values},
            headers=editor,
        )
        assert _error(body) == ("BAD_USER_INPUT", field), values
        assert await _latest_audit(gql, editor) == before


@pytest.mark.parametrize(
    ("slug", "reason"),
    [
        ("decider-ensemble", "comptes"),  # the partner account of the principals fixture
        ("icpc", "clés d'API actives"),  # the partner keys of the principals fixture
    ],
)
async def test_an_organization_still_referenced_cannot_be_deleted(gql, principals, slug, reason):
    editor = principals["EDITOR"]
    organization_id = await _organization_id(gql, slug)
    before = await _node(gql, ORGANIZATION_BY_ID, organization_id)
    body = await gql(DELETE_ORGANIZATION, {"id": organization_id}, headers=editor)
    assert _error(body) == ("CONFLICT", "id")
    assert reason in _message(body)
    assert await _node(gql, ORGANIZATION_BY_ID, organization_id) == before


# --- Territories ----------------------------------------------------------------------

TERRITORY_FIELDS = "id slug name level inseeCode"
UPDATE_TERRITORY = f"""mutation($id: ID!, $input: TerritoryUpdateInput!) {{
  updateTerritory(id: $id, input: $input) {{
    territory {{ {TERRITORY_FIELDS} }} {USER_ERRORS} }} }}"""
DELETE_TERRITORY = (
    f"mutation($id: ID!) {{ deleteTerritory(id: $id) {{ deletedId {USER_ERRORS} }} }}"
)
TERRITORY_BY_ID = f"""query($id: ID!) {{ node(id: $id) {{
  ... on Territory {{ {TERRITORY_FIELDS} }} }} }}"""


async def test_territory_create_update_delete(gql, principals):
    editor = principals["EDITOR"]
    code = f"2{unique_number(0, 10**8 - 1):08d}"  # a SIREN no demo territory has
    territory = await _create(
        gql,
        editor,
        "createTerritory",
        "TerritoryCreateInput",
        TERRITORY_FIELDS,
        {"name": _name("Saint-Étienne"), "level": "COMMUNE", "inseeCode": code},
    )
    assert territory["slug"].startswith("saint-etienne-") and territory["inseeCode"] == code
    updated = (
        await gql.data(
            UPDATE_TERRITORY,
            {"id": territory["id"], "input": {"level": "EPCI", "inseeCode": None}},
            headers=editor,
        )
    )["updateTerritory"]["territory"]
    assert updated["level"] == "EPCI" and updated["inseeCode"] is None
    entries = await _audit(gql, editor, territory["id"])
    assert entries[0]["action"] == "territory.update"
    assert entries[0]["changes"] == {"level": ["COMMUNE", "EPCI"], "insee_code": [code, None]}
    deleted = await gql.data(DELETE_TERRITORY, {"id": territory["id"]}, headers=editor)
    assert deleted["deleteTerritory"]["deletedId"] == territory["id"]
    assert await _node(gql, TERRITORY_BY_ID, territory["id"]) is None
    assert (await _audit(gql, editor, territory["id"]))[0]["action"] == "territory.delete"


async def test_territory_bad_input_names_the_field(gql, principals):
    editor = principals["EDITOR"]
    for values, field in (
        ({"name": "", "level": "COMMUNE"}, "name"),
        ({"name": _name(), "level": "COMMUNE", "inseeCode": "79191"}, "inseeCode"),  # Niort's
        ({"name": _name(), "level": "COMMUNE", "inseeCode": "<b>"}, "inseeCode"),
        ({"name": _name(), "level": "COMMUNE", "slug": "niort"}, "slug"),
    ):
        before = await _latest_audit(gql, editor)
        body = await gql(
            f"""mutation($i: TerritoryCreateInput!) {{
              createTerritory(input: $i) {{ territory {{ id }} {USER_ERRORS} }} }}""",
            {"i": values},
            headers=editor,
        )
        assert _error(body) == ("BAD_USER_INPUT", field), values
        assert await _latest_audit(gql, editor) == before


async def test_a_territory_still_referenced_cannot_be_deleted(gql, principals):
    editor = principals["EDITOR"]
    niort = (await gql.data('{ territory(slug: "niort") { id } }'))["territory"]["id"]
    before = await _node(gql, TERRITORY_BY_ID, niort)
    body = await gql(DELETE_TERRITORY, {"id": niort}, headers=editor)
    assert _error(body) == ("CONFLICT", "id")
    message = _message(body)
    assert "comptes" in message and "projets partagés" in message
    assert await _node(gql, TERRITORY_BY_ID, niort) == before


# --- The database's own guard, under the services' checks -----------------------------


@pytest.mark.parametrize("target", ["theme", "territory", "organization"])
async def test_the_database_refuses_deleting_a_restricted_reference(database, principals, target):
    """Foreign keys are enforced on both backends (SQLite runs with foreign_keys=ON):
    a delete that slips past the services' checks still comes back as CONFLICT."""
    from services.accounts.models import Account
    from services.editing import write_transaction
    from services.errors import Conflict
    from services.organizations.models import Organization
    from services.projects.models import SharedProject
    from services.territories.models import Territory
    from services.themes.models import Theme

    if target == "theme":
        row = await Theme.get(id=(await SharedProject.all().order_by("id").first()).theme_id)
    elif target == "territory":
        row = await Territory.get(slug="niort")
        assert await Account.filter(territory_id=row.id).exists()
    else:
        row = await Organization.get(slug="decider-ensemble")
        assert await Account.filter(organization_id=row.id).exists()
    with pytest.raises(Conflict):
        async with write_transaction():
            await row.delete()
    assert await type(row).filter(id=row.id).exists()
