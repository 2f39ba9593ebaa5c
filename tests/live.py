"""A real gateway in a subprocess (the demo database, then ``tec serve``) for end-to-end
tests, and the demo database itself: ``tec demo`` runs once per test run, on a SQLite
file that every test needing a demo database gets a copy of. Under pytest-xdist the
first worker to need it makes it in the run's shared directory (``TEC_TEST_SHARED_DIR``,
set by ``tests/conftest.py``) while the others wait on a lock."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import fcntl
import functools
import importlib
import logging
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

from services.settings import instance_directory_of

TEC = str(Path(sys.executable).parent / "tec")
T = TypeVar("T")


def _dialect(database_url: str) -> str:
    """The kind of database of a URL; the session's SQLite database when empty."""
    postgres = database_url.startswith(("postgres:", "postgresql:", "asyncpg:"))
    return "postgres" if postgres else "sqlite"


def tec_process(
    *args: str, env: dict[str, str], cwd: Path, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a ``tec`` command as a process of its own, with exactly ``env``."""
    return subprocess.run(
        [TEC, *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def tec_in_process(
    *args: str, env: dict[str, str | None], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a ``tec`` command in this process (typer's runner), as ``tec`` would run in
    ``cwd`` with ``env`` added to the environment (a None removes a variable): its exit
    code, standard output and error.
    For tests of what a command says and does; what only a process shows (signals, a
    restart, two side by side, the console script) is tested with real ones. The command
    runs in an empty ``contextvars`` context, as in a new process: Tortoise keeps its
    state in a context variable, so the command's database stays apart from the test
    session's. Tortoise's models, though, hold a query builder of one dialect for the
    whole process: a command on a database of another kind than the session's (a copied
    SQLite demo in the PostgreSQL pass) runs as a real process instead. Called from a
    running event loop (an async test), the command runs on a thread of its own, so that
    it may start its own loop as ``tec`` does; commands that handle signals need the main
    thread, so async tests run those as processes."""
    if not _of_the_sessions_kind(env.get("TEC_DATABASE_URL") or ""):
        return tec_process(*args, env=environment_with(env), cwd=cwd, stdin=stdin)
    from typer.testing import CliRunner

    from tec.cli import app

    def invoke() -> Any:
        return CliRunner().invoke(app, list(args), input=stdin, env=env, catch_exceptions=False)

    previous = Path.cwd()
    os.chdir(cwd)
    try:
        with _logging_as_it_was():
            result = _in_own_context(invoke, thread=_in_event_loop())
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


@contextlib.contextmanager
def _logging_as_it_was() -> Iterator[None]:
    """The test process's logging, put back as it was once the block ends. A command
    configures logging for its process (``tec/logs.py``): the handlers it installs write
    to the standard error the runner captured, closed once the command returns, and
    whatever logs later in this process (a mail server's thread) would write there."""
    manager = logging.Logger.manager
    before = {
        name: (logger.handlers[:], logger.level, logger.propagate, logger.disabled)
        for name, logger in [("", logging.getLogger()), *manager.loggerDict.items()]
        if isinstance(logger, logging.Logger)
    }
    try:
        yield
    finally:
        for name, logger in [("", logging.getLogger()), *manager.loggerDict.items()]:
            if not isinstance(logger, logging.Logger):
                continue
            handlers, level, propagate, disabled = before.get(
                name, ([], logging.NOTSET, True, False)
            )
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate, logger.disabled = propagate, disabled


_CALL = """
import asyncio, importlib, sys
from services import db
from services.settings import Settings

module, name = sys.argv[1].split(":")
work = getattr(importlib.import_module(module), name)

async def main():
    async with db.database(Settings(database_url=sys.argv[2]).database):
        print(await work(*sys.argv[3:]))

asyncio.run(main())
"""


def call_on_database(
    database_url: str, function: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """``await function(*args)`` (``"module:name"``, an async function returning text)
    with the ORM open on ``database_url``, as a process of its own would run it: what it
    returned as standard output, or the exception's name and message as standard error
    with exit code 1. It runs in this process, on a thread of its own with an empty
    context, when the database is of the session's kind; as a process otherwise."""
    if not _of_the_sessions_kind(database_url):
        return subprocess.run(
            [sys.executable, "-c", _CALL, function, database_url, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    from services import db
    from services.settings import Settings

    module, name = function.split(":")
    work = getattr(importlib.import_module(module), name)

    async def main() -> str:
        async with db.database(Settings(database_url=database_url).database):
            return await work(*args)

    try:
        printed = _in_own_context(lambda: asyncio.run(main()), thread=True)
    except Exception as error:
        return subprocess.CompletedProcess(args, 1, "", f"{type(error).__name__}: {error}")
    return subprocess.CompletedProcess(args, 0, f"{printed}\n", "")


def environment_with(env: dict[str, str | None]) -> dict[str, str]:
    """This process's environment with ``env`` added (a None removes a variable)."""
    merged = {**os.environ, **env}
    return {name: value for name, value in merged.items() if value is not None}


def _of_the_sessions_kind(database_url: str) -> bool:
    return _dialect(database_url) == _dialect(os.environ.get("TEC_TEST_DATABASE_URL", ""))


def _in_own_context(work: Callable[[], T], *, thread: bool) -> T:
    """``work()`` in an empty ``contextvars`` context, as in a new process; on a thread of
    its own with ``thread`` (so that it may run an event loop of its own). What it raises
    is raised here."""
    if not thread:
        return contextvars.Context().run(work)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = contextvars.Context().run(work)
        except BaseException as error:
            outcome["error"] = error

    runner = threading.Thread(target=run)
    runner.start()
    runner.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@dataclass
class LiveServer:
    base_url: str
    env: dict[str, str]
    # Every command and the server run here, as an operator's shell would.
    cwd: Path

    def tec(self, *args: str, stdin: str | None = None) -> str:
        """Run a ``tec`` command against the same database; its standard output."""
        result = tec_process(*args, env=self.env, cwd=self.cwd, stdin=stdin, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    @functools.cached_property
    def http(self) -> httpx.Client:
        """An HTTP client of the server, for the server's whole life (closed when it
        stops): a client made per request builds an SSL context, which costs more CPU
        than the request itself."""
        return httpx.Client(base_url=self.base_url, timeout=10)

    def graphql(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.post(
            "/graphql", headers=headers, json={"query": query, "variables": variables or {}}
        )
        return response.json()


@dataclass(frozen=True)
class DemoDatabase:
    """A SQLite file as ``tec demo`` left it, its search index, and what it printed."""

    path: Path
    index: Path
    output: str


_demo: DemoDatabase | None = None


def _demo_home() -> Path:
    shared = os.environ.get("TEC_TEST_SHARED_DIR")
    if shared:
        return Path(shared) / "demo"
    home = Path(tempfile.mkdtemp(prefix="tec-demo-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    return home


def _demo_database() -> DemoDatabase:
    global _demo
    if _demo is None:
        home = _demo_home()
        home.mkdir(parents=True, exist_ok=True)
        with (home / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            _demo = _made_demo(home)
    return _demo


def _made_demo(home: Path) -> DemoDatabase:
    """The demo database in ``home``, made unless a process of this run made it first."""
    path = home / "demo.sqlite3"
    printed = home / "printed.txt"
    if not printed.is_file():
        env = {
            **os.environ,
            "TEC_DATABASE_URL": f"sqlite://{path}",
            "TEC_SEARCH_PATH": str(home / "index"),
            "TEC_LOG_LEVEL": "warning",
        }
        env.pop("TEC_TEST_DATABASE_URL", None)
        done = subprocess.run(
            [TEC, "demo"], env=env, cwd=home, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        printed.write_text(done.stdout, encoding="utf-8")
    output = printed.read_text(encoding="utf-8")
    return DemoDatabase(path=path, index=home / "index", output=output)


def copy_demo_database(target: Path) -> str:
    """Put at ``target`` a SQLite database as ``tec demo`` leaves it (a copy of the one
    made for this test process); returns what ``tec demo`` printed when making it."""
    made = _demo_database()
    target.parent.mkdir(parents=True, exist_ok=True)
    # SQLite's own copy: what is still in the write-ahead log comes along.
    with sqlite3.connect(made.path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    return made.output


def copy_demo_index(target: Path) -> Path:
    """Put at ``target`` (a directory) a copy of the embedded search index ``tec demo``
    left beside the demo database; returns ``target``."""
    shutil.copytree(_demo_database().index, target)
    return target


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(tmp_path: Path, port: int, settings: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        "TEC_DATABASE_URL": f"sqlite://{tmp_path / 'live.sqlite3'}",
        "TEC_HOST": "127.0.0.1",
        "TEC_PORT": str(port),
        "TEC_LOG_LEVEL": "warning",
        **settings,
    }
    env.pop("TEC_TEST_DATABASE_URL", None)
    return env


@contextlib.contextmanager
def live_server(tmp_path: Path, **settings: str) -> Iterator[LiveServer]:
    """``tec serve`` on a free port over the demo data: a SQLite file in ``tmp_path``
    unless ``TEC_DATABASE_URL`` is given. A SQLite database is a copy of the demo database
    (one already there, another server's, is served as it is); any other gets ``tec demo``.
    Commands run in ``tmp_path``, where a relative database path is read from."""
    port = _free_port()
    server = LiveServer(
        base_url=f"http://127.0.0.1:{port}",
        env=_environment(tmp_path, port, settings),
        cwd=tmp_path,
    )
    url = server.env["TEC_DATABASE_URL"]
    if not url.startswith("sqlite://"):
        server.tec("demo")
    else:
        # A relative path is read from ``tmp_path``, where the commands run.
        database = tmp_path / url.removeprefix("sqlite://")
        if not database.exists():
            copy_demo_database(database)
            index = server.env.get("TEC_SEARCH_PATH")
            index_path = (
                tmp_path / index if index else tmp_path / instance_directory_of(url) / "search"
            )
            if not index_path.exists():
                copy_demo_index(index_path)
    with _serving(tmp_path, server):
        yield server


@contextlib.contextmanager
def serving(tmp_path: Path, **settings: str) -> Iterator[LiveServer]:
    """``tec serve`` on a free port over a database already migrated and filled (no
    ``tec demo``: the caller's data stays as it is)."""
    port = _free_port()
    server = LiveServer(
        base_url=f"http://127.0.0.1:{port}",
        env=_environment(tmp_path, port, settings),
        cwd=tmp_path,
    )
    with _serving(tmp_path, server):
        yield server


@contextlib.contextmanager
def _serving(tmp_path: Path, server: LiveServer) -> Iterator[None]:
    port = server.base_url.rsplit(":", 1)[1]
    log = (tmp_path / f"serve-{port}.log").open("w+")
    process = subprocess.Popen(
        [TEC, "serve", "--no-migrate"],
        env=server.env,
        cwd=server.cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_healthy(server, process, log)
        yield
    finally:
        if "http" in vars(server):
            server.http.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_until_healthy(server: LiveServer, process: subprocess.Popen, log: Any) -> None:
    """Poll ``/healthz`` (through the server's own client) until it answers 200; fail
    with the server's log when it exits or a minute passes."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if server.http.get("/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            log.seek(0)
            raise AssertionError(f"tec serve did not start:\n{log.read()}")
        time.sleep(0.1)


@contextlib.contextmanager
def scratch_postgres(base_url: str, *, prefix: str) -> Iterator[str]:
    """A PostgreSQL database of our own (named ``prefix`` and a random suffix) on the
    server of ``base_url``, dropped at the end; the test is skipped, with the reason, when
    the server does not answer."""
    import asyncpg
    import pytest

    name = f"{prefix}_{secrets.token_hex(4)}"
    parts = urlsplit(base_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))

    async def run(statement: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    try:
        asyncio.run(run(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # a server that may not be there
        pytest.skip(f"PostgreSQL does not answer at {base_url} ({error})")
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
