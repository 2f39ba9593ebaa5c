"""The README as a doctest: every code block runs, in order, against a demo gateway
(``tec demo`` then ``tec serve``), the way a newcomer follows it.

Each block is preceded by an invisible annotation, ``<!-- doctest: … -->``, whose clauses
(separated by ``;``) say how to run it:

- ``skip: why`` — the block cannot run here (it starts the server the test already
  runs, or it is not a command); the reason is required;
- ``run`` — run it as it is, anonymously;
- ``as EMAIL, …`` — a GraphQL block sent with a bearer token of that account (signed in
  with the password a shell block of the README created it with), once per account, in
  order;
- ``<placeholder> = path`` — after the block, the value at ``path`` of a GraphQL answer
  (``createResource.resource.id``, ``nodes[0]``, ``nodes[title=Some title]``) replaces
  ``<placeholder>`` in every later block; ``<placeholder> = link /path`` takes the first
  URL of a shell block's output that contains ``/path``;
- ``check path = value`` — the answer holds ``value`` at ``path``; ``prints text`` — a
  shell block's output contains ``text``;
- ``refused`` — a mutation the README shows failing: its user errors are not empty;
- ``answer`` — a JSON block: exactly the answer of the GraphQL block before it.

A block without an annotation fails the test: a new example is either run or skipped on
purpose. Shell blocks run with bash, ``.venv/bin/…`` being this test's interpreter and
``tec``, in the gateway's directory and with its ``TEC_*`` settings; the JSON answers they
print are checked like the GraphQL blocks' (no top-level error, no user error).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, parse
from httpx_ws import connect_ws

from tests.conftest import POSTGRES_URL
from tests.live import TEC, LiveServer, live_server, scratch_postgres

pytestmark = pytest.mark.heavy

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
_ANNOTATION = re.compile(r"<!-- doctest: (.*) -->")
_STEP = re.compile(r"\.?([^.\[]+)|\[([^\]]+)\]")
_CLAUSE = re.compile(
    r"skip: \S.*|run|refused|answer|as \S+(, \S+)*|check \S+ = .+|prints .+|<[^>]+> = .+"
)
_PLACEHOLDER = re.compile(r"<[a-z][\w ]*>")
_README_URL = "http://127.0.0.1:8000"
_ACCOUNT = re.compile(r"echo '([^']+)' \| \.venv/bin/tec user create --email (\S+)")
_SIGN_IN = """mutation($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { token errors { code message } } }"""


@dataclass
class Block:
    line: int
    language: str
    text: str
    clauses: list[str]

    def __str__(self) -> str:
        return f"README.md line {self.line} ({self.language or 'text'})"


def _blocks() -> list[Block]:
    text = README.read_text("utf-8")
    found = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()]
        annotation = _ANNOTATION.fullmatch(before.removesuffix("\n").rpartition("\n")[2])
        said = annotation.group(1) if annotation else ""
        # A reason to skip is one clause, whatever it says.
        clauses = [said] if said.startswith("skip") else [c.strip() for c in said.split(";")]
        clauses = [c for c in clauses if c]
        found.append(
            Block(
                line=before.count("\n") + 1,
                language=match.group(1),
                text=match.group(2),
                clauses=clauses,
            )
        )
    return found


def test_every_readme_block_is_run_or_skipped_with_a_reason():
    for block in _blocks():
        assert block.clauses, f"{block}: annotate it (<!-- doctest: … -->) to run or skip it"
        for clause in block.clauses:
            assert _CLAUSE.fullmatch(clause), f"{block}: what does {clause!r} mean?"


def _at(value: Any, path: str) -> Any:
    """The value at ``path`` (``a.b[0].c``, ``nodes[email=x@y]``) in ``value``."""
    for name, index in _STEP.findall(path):
        if name:
            value = value[name]
        elif index.isdigit():
            value = value[int(index)]
        else:
            key, wanted = index.split("=", 1)
            matching = [v for v in value if str(v.get(key)) == wanted]
            assert matching, f"nothing with {key} = {wanted} in {value}"
            value = matching[0]
    return value


def _root(path: str) -> str:
    return path.split(".")[0].split("[")[0]


@dataclass
class Reader:
    """A newcomer following the README: the gateway, what they noted down (the
    placeholders' values), the tokens of the accounts they sign in with, and the last
    GraphQL answer read."""

    server: LiveServer
    values: dict[str, str] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    last_answer: dict[str, Any] | None = None
    # The clauses of the block being run that found their path in an answer.
    applied: set[str] = field(default_factory=set)

    def fill(self, text: str) -> str:
        for placeholder, value in self.values.items():
            text = text.replace(placeholder, value)
        return text

    def token(self, email: str) -> str:
        """The token of ``email``'s account, signed in with the password the README gave
        it when creating it."""
        if email not in self.tokens:
            answer = self.server.http.post(
                "/graphql",
                json={
                    "query": _SIGN_IN,
                    "variables": {"email": email, "password": self.passwords[email]},
                },
                timeout=30,
            ).json()
            assert answer["data"]["signIn"]["errors"] == [], answer
            self.tokens[email] = answer["data"]["signIn"]["token"]
        return self.tokens[email]

    def run(self, block: Block) -> None:
        if any(c.startswith("skip") for c in block.clauses):
            return
        run = {"graphql": self.graphql, "sh": self.shell, "json": self.expected_answer}
        assert block.language in run, f"{block}: nothing runs a {block.language!r} block"
        self.applied = set()
        run[block.language](block)
        unused = [c for c in block.clauses if c.startswith(("check ", "<"))]
        assert set(unused) <= self.applied, f"{block}: no answer had {set(unused) - self.applied}"

    # --- GraphQL -----------------------------------------------------------------------

    def graphql(self, block: Block) -> None:
        accounts = [None]
        for clause in block.clauses:
            if clause.startswith("as "):
                accounts = [e.strip() for e in clause.removeprefix("as ").split(",")]
        document = parse(block.text)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        for account in accounts:
            for operation in operations:
                source = self.fill(block.text[operation.loc.start : operation.loc.end])
                assert not _PLACEHOLDER.search(source), f"{block}: unfilled in {source}"
                headers = {"Authorization": f"Bearer {self.token(account)}"} if account else {}
                if operation.operation.value == "subscription":
                    answer = self._first_message(source, headers)
                else:
                    answer = self.server.http.post(
                        "/graphql", json={"query": source}, headers=headers, timeout=30
                    ).json()
                self._check(block, source, answer)
                self.last_answer = answer
                self._capture(block, answer["data"])

    def _first_message(self, source: str, headers: dict[str, str]) -> dict[str, Any]:
        url = self.server.base_url.replace("http://", "ws://") + "/graphql"
        with (
            httpx.Client(timeout=30) as client,
            connect_ws(url, client, subprotocols=["graphql-transport-ws"]) as ws,
        ):
            ws.send_json({"type": "connection_init", "payload": headers})
            assert ws.receive_json()["type"] == "connection_ack"
            ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": source}})
            message = ws.receive_json()
            assert message["type"] == "next", message
            ws.send_json({"id": "1", "type": "complete"})
            return message["payload"]

    def _check(self, block: Block, source: str, answer: dict[str, Any]) -> None:
        assert "errors" not in answer, f"{block}: {source}\n{answer['errors']}"
        refused = "refused" in block.clauses
        for root, payload in (answer.get("data") or {}).items():
            if isinstance(payload, dict) and "errors" in payload:
                if refused:
                    assert payload["errors"], f"{block}: {root} was not refused: {payload}"
                else:
                    assert payload["errors"] == [], f"{block}: {source}\n{payload['errors']}"
        for clause in block.clauses:
            if clause.startswith("check "):
                path, _, wanted = clause.removeprefix("check ").rpartition(" = ")
                if _root(path) in answer["data"]:
                    assert str(_at(answer["data"], path)) == wanted, f"{block}: {answer}"
                    self.applied.add(clause)

    def _capture(self, block: Block, data: dict[str, Any]) -> None:
        for clause in block.clauses:
            if not clause.startswith("<") or " = link " in clause:
                continue
            placeholder, path = (p.strip() for p in clause.split("=", 1))
            if _root(path) in data:
                self.values[placeholder] = str(_at(data, path))
                self.applied.add(clause)

    def expected_answer(self, block: Block) -> None:
        assert block.clauses == ["answer"], f"{block}: a JSON block is the answer shown"
        assert self.last_answer == json.loads(block.text), f"{block}: {self.last_answer}"

    # --- Shell -------------------------------------------------------------------------

    def shell(self, block: Block) -> None:
        script = self.fill(block.text)
        script = (
            script.replace(".venv/bin/tec", TEC)
            .replace(".venv/bin/python", sys.executable)
            .replace("scripts/", f"{ROOT}/scripts/")
            .replace(_README_URL, self.server.base_url)
        )
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env=self.server.env,
            cwd=self.server.cwd,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{block}:\n{script}\n{done.stdout}\n{done.stderr}"
        self.passwords.update((email, password) for password, email in _ACCOUNT.findall(block.text))
        answers = list(_json_answers(done.stdout))
        assert len(answers) == script.count("/graphql"), f"{block}: {done.stdout}"
        for answer in answers:
            self._check(block, script, answer)
            self.last_answer = answer
        for clause in block.clauses:
            if clause.startswith("prints "):
                assert clause.removeprefix("prints ") in done.stdout, f"{block}: {done.stdout}"
            if " = link " in clause:
                placeholder, path = (p.strip() for p in clause.split(" = link "))
                links = re.findall(
                    rf"https?://[^\s<>\"']*{re.escape(path)}[^\s<>\"']*", done.stdout
                )
                assert links, f"{block}: no {path} link in\n{done.stdout}"
                self.values[placeholder] = links[0]
                self.applied.add(clause)


def _json_answers(output: str) -> Iterator[dict[str, Any]]:
    """The GraphQL answers a command printed (curl prints them without a newline, so the
    next command's output may follow on the same line)."""
    decoder = json.JSONDecoder()
    for start in (m.start() for m in re.finditer(r'\{"(data|errors)"', output)):
        yield decoder.raw_decode(output, start)[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo gateway of ``make demo``: its database at the README's default path, in
    the directory every command of the README runs in, or a PostgreSQL database of its
    own in the PostgreSQL pass."""
    if shutil.which("curl") is None:
        pytest.skip("the README's shell examples use curl, which is not installed")
    home = tmp_path_factory.mktemp("readme")
    with contextlib.ExitStack() as stack:
        url = "sqlite://var/tec.sqlite3"
        if POSTGRES_URL:
            url = stack.enter_context(scratch_postgres(POSTGRES_URL, prefix="tec_readme"))
        yield stack.enter_context(live_server(home, TEC_DATABASE_URL=url))


def test_the_readme_runs_as_written(server):
    reader = Reader(server)
    for block in _blocks():
        reader.run(block)
