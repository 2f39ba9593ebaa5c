"""``tec``: the one command operators use (serve, demo data, migrations, schema export)."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import os
import socket
import sys
from datetime import UTC, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from services.settings import Settings
from tec.messages import operator_message

app = typer.Typer(
    help="Territoires en Commun: GraphQL gateway and headless CMS. Settings come from "
    "TEC_* environment variables (see the README).",
    no_args_is_help=True,
    add_completion=False,
)


_OPERATOR: dict[str, str | None] = {"email": None}
"""The operator's own account, as ``--as`` (or ``TEC_OPERATOR``) gave it."""


@app.callback()
def _options(
    operator_email: Annotated[
        str | None,
        typer.Option(
            "--as",
            envvar="TEC_OPERATOR",
            metavar="EMAIL",
            help="Your own administrator account: the audit log links what the command "
            "changes to it, besides naming the system user and host that ran it.",
        ),
    ] = None,
) -> None:
    _OPERATOR["email"] = operator_email


def operator_name() -> str:
    """How the audit log names whoever runs this command: ``tec (alice@host)``, the system
    user (under sudo, the one who ran sudo) and the host."""
    user = os.environ.get("SUDO_USER")
    if not user:
        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no login name and no passwd entry (a bare container)
            user = f"uid-{os.getuid()}"
    return f"tec ({user}@{socket.gethostname()})"


async def _operator() -> Any:
    """Who the command's changes are recorded under (see :func:`operator_name` and
    ``--as``): an administrator."""
    from services.accounts.admin import operator_viewer

    return await operator_viewer(operator_name(), email=_OPERATOR["email"])


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        typer.secho(f"Invalid settings: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


@app.command()
def migrate() -> None:
    """Create the database if needed and apply pending migrations."""
    settings = _settings()
    from services import db

    asyncio.run(
        db.migrate(settings.database, on_applied=lambda name: typer.echo(f"Applied {name}."))
    )
    typer.echo("Database up to date.")
    if not _push_search_settings(settings):
        raise typer.Exit(1)


def _push_search_settings(settings: Settings) -> bool:
    """Meilisearch's index settings are part of the schema: migrations push them (only
    what differs; never the editors' synonyms). A replica's start does not."""
    from search.engines import push_index_settings
    from search.port import SearchUnavailable
    from services.errors import DomainError

    try:
        changed = asyncio.run(push_index_settings(settings.search))
    except (SearchUnavailable, DomainError) as error:
        typer.secho(
            f"Search index settings not pushed: {operator_message(error)} "
            "(run `tec migrate` again once Meilisearch answers).",
            fg=typer.colors.YELLOW,
            err=True,
        )
        return False
    if changed is not None:
        index = settings.search.meili_index
        typer.echo(
            f"Meilisearch index {index}: settings updated ({', '.join(sorted(changed))})."
            if changed
            else f"Meilisearch index {index}: settings up to date."
        )
    return True


@app.command()
def demo(
    today: Annotated[
        str | None,
        typer.Option(help="Day the live layer is dated from (YYYY-MM-DD; default: today)."),
    ] = None,
) -> None:
    """Migrate, then load the demo data from the seeds (idempotent: safe to run again):
    the seeds' content, their four newsletters composed from it and put in the archive,
    and a live layer dated from today (an open vote, a next theme, upcoming events)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from mailer.compose import archive_issue
    from services import db
    from services.demo.issues import issues_to_archive
    from services.demo.live import load_live_demo
    from services.demo.loader import load_demo, read_demo_data

    settings = _settings()
    day = _day(today) if today else dt.datetime.now(ZoneInfo("Europe/Paris")).date()

    async def run() -> tuple[dict[str, int], list[str]]:
        await db.migrate(settings.database)
        async with db.database(settings.database):
            data = read_demo_data()
            counts = dict(await load_demo(data))
            archived = []
            execute = _newsletter_executor(settings)
            for issue, sent_at in await issues_to_archive(data):
                await archive_issue(execute, issue, settings=settings, sent_at=sent_at)
                archived.append(issue.slug)
            for key, value in (await load_live_demo(data, today=day)).items():
                counts[key] = counts.get(key, 0) + value
            return counts, archived

    counts, archived = _run_domain_async(run)
    created = {k.rstrip("+"): v for k, v in counts.items() if k.endswith("+")}
    seen = {k: v for k, v in counts.items() if not k.endswith("+")}
    typer.echo("Demo data loaded: " + ", ".join(f"{v} {k}" for k, v in seen.items()))
    typer.echo("New rows: " + (", ".join(f"{v} {k}" for k, v in created.items()) or "none"))
    typer.echo("Seed newsletters put in the archive: " + (", ".join(archived) or "none"))
    # The loader writes no outbox rows: rebuild the search index so it matches the data.
    _reindex(settings, engine=None, show_progress=False)


def _day(value: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f'invalid date "{value}" (expected YYYY-MM-DD)')


def _prepare_multiprocess_metrics(settings: Settings) -> None:
    """Workers write their metrics to files in an empty directory of their own
    (prometheus_client's multiprocess mode), set before they import anything."""
    import os
    import shutil

    from gateway.metrics import MULTIPROCESS_ENV

    directory = Path(
        os.environ.get(MULTIPROCESS_ENV)
        or settings.database.instance_directory / f"metrics-{settings.http.port}"
    )
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROCESS_ENV] = str(directory.resolve())


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's own proxy-header handling is off: the gateway reads X-Forwarded-For from
    TEC_TRUSTED_PROXIES alone (gateway/client_address.py). WebSocket messages are
    bounded like request bodies."""
    return {"proxy_headers": False, "ws_max_size": settings.http.max_body_bytes}


@app.command()
def serve(
    migrate_first: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Apply migrations before serving.")
    ] = True,
) -> None:
    """Serve the GraphQL gateway on TEC_HOST:TEC_PORT (GraphQL IDE at /graphql)."""
    import uvicorn

    settings = _settings()
    if migrate_first:
        from services import db

        asyncio.run(db.migrate(settings.database))
    from tec.logs import configure_logging

    log_config = configure_logging(settings)
    typer.echo(f"GraphQL gateway on {settings.http.base_url}/graphql")
    if settings.http.workers > 1:
        _prepare_multiprocess_metrics(settings)
        uvicorn.run(
            "gateway.app:create_app",
            factory=True,
            host=settings.http.host,
            port=settings.http.port,
            workers=settings.http.workers,
            log_level=settings.observability.log_level,
            log_config=log_config,
            **_uvicorn_options(settings),
        )
    else:
        from gateway.app import create_app

        uvicorn.run(
            create_app(settings),
            host=settings.http.host,
            port=settings.http.port,
            log_level=settings.observability.log_level,
            log_config=log_config,
            **_uvicorn_options(settings),
        )


@app.command("export-schema")
def export_schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Print the GraphQL schema (SDL), as committed in schema.graphql."""
    from schema import build_schema

    sdl = str(build_schema()) + "\n"
    if output is None:
        typer.echo(sdl, nl=False)
    else:
        output.write_text(sdl, encoding="utf-8")


@app.command()
def makemigrations(
    name: Annotated[str | None, typer.Option(help="Name of the migration.")] = None,
) -> None:
    """(Developers) Write a migration for model changes into services/migrations."""
    from services import db

    asyncio.run(db.make_migrations(_settings().database, name=name))


# --- Search (operators) -----------------------------------------------------------------


def _reindex(settings: Settings, *, engine: str | None, show_progress: bool) -> bool:
    """Rebuild the search index from the database (new index, then an atomic swap)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from search.consumer import reindex
    from search.documents import count_indexable
    from search.engines import build_engine
    from search.port import SearchUnavailable
    from services import db
    from services.errors import DomainError

    async def run() -> int:
        search = build_engine(settings.search, engine=engine)
        async with db.database(settings.database):
            await search.open()
            try:
                import datetime as dt

                expected = await count_indexable(now=dt.datetime.now(dt.UTC))
                with Progress(
                    "[progress.description]{task.description}",
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                    disable=not show_progress,
                    transient=False,
                ) as bar:
                    task = bar.add_task(f"Indexing ({search.name})", total=expected)
                    return await reindex(
                        search, progress=lambda n: bar.advance(task, n), replay_grace=1.0
                    )
            finally:
                await search.close()

    try:
        total = asyncio.run(run())
    except (SearchUnavailable, DomainError) as error:
        typer.secho(
            f"Search index not rebuilt: {operator_message(error)}",
            fg=typer.colors.YELLOW,
            err=True,
        )
        return False
    typer.echo(f"Search index rebuilt: {total} documents.")
    return True


@app.command()
def reindex(
    engine: Annotated[
        str | None,
        typer.Option(help="embedded or meilisearch (default: TEC_SEARCH_ENGINE)."),
    ] = None,
) -> None:
    """Rebuild the search index from the database, with a progress bar; searches keep
    answering from the old index until the new one replaces it atomically."""
    settings = _settings()
    if engine not in (None, "embedded", "meilisearch"):
        _fail("--engine must be embedded or meilisearch")
    from services import db

    asyncio.run(db.migrate(settings.database))
    if not _reindex(settings, engine=engine, show_progress=sys.stderr.isatty()):
        raise typer.Exit(1)


@app.command()
def worker(
    search: Annotated[bool, typer.Option(help="Apply the outbox to the search index.")] = True,
    webhooks: Annotated[
        bool | None,
        typer.Option(help="Send webhooks (default: TEC_WEBHOOKS_WORKER)."),
    ] = None,
) -> None:
    """Apply the outbox to the search index and send webhooks until stopped (Ctrl-C):
    the production worker (run several: they share the work); `tec serve` runs a search
    consumer itself for the embedded engine unless TEC_SEARCH_WORKER=false."""
    import signal

    from services import db

    settings = _settings()
    from tec.logs import configure_logging

    configure_logging(settings)
    send_webhooks = settings.webhooks.webhooks_worker if webhooks is None else webhooks

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with db.database(settings.database):
            tasks = []
            if search:
                tasks.append(_search_worker(settings, stop))
            if send_webhooks:
                tasks.append(_webhook_worker(settings, stop))
            await asyncio.gather(*tasks)

    asyncio.run(db.migrate(settings.database))
    if search:
        also = ", with webhooks" if send_webhooks else ""
        typer.echo(
            f"Search worker ({settings.search.search_engine}) started{also}; Ctrl-C stops it."
        )
    else:
        what = "Webhook worker" if send_webhooks else "Worker (nothing to do)"
        typer.echo(f"{what} started; Ctrl-C stops it.")
    asyncio.run(run())


async def _search_worker(settings: Settings, stop: asyncio.Event) -> None:
    from search.consumer import OutboxConsumer
    from search.engines import build_engine
    from search.port import SearchUnavailable

    engine = build_engine(settings.search)
    while not stop.is_set():
        try:
            await engine.open()
            break
        except SearchUnavailable as error:
            logging.getLogger("tec.search").warning("engine unavailable: %s", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.search.search_poll_interval * 5)
    consumer = OutboxConsumer(
        engine,
        batch_size=settings.search.search_batch_size,
        poll_interval=settings.search.search_poll_interval,
        max_backoff=settings.search.search_max_backoff,
    )
    try:
        await consumer.run(stop)
    finally:
        await engine.close()


async def _webhook_worker(settings: Settings, stop: asyncio.Event) -> None:
    from mailer.notices import notifier
    from mailer.transport import build_transport
    from services.webhooks.sender import SenderOptions, WebhookSender
    from services.webhooks.transport import StreamTransport

    mail = build_transport(settings.mail)
    sender = WebhookSender(
        StreamTransport(allow_private=settings.webhooks.webhooks_allow_private),
        options=SenderOptions(
            timeout=settings.webhooks.webhooks_timeout,
            lease=timedelta(seconds=settings.webhooks.webhooks_lease_seconds),
            batch_size=settings.webhooks.webhooks_batch_size,
            poll_interval=settings.webhooks.webhooks_poll_interval,
            retry_window=timedelta(hours=settings.webhooks.webhooks_retry_hours),
            disable_after=timedelta(hours=settings.webhooks.webhooks_disable_after_hours),
        ),
        notify=notifier(settings, mail),
    )
    try:
        await sender.run(stop)
    finally:
        await mail.close()


# --- Accounts, tokens and API keys (operators) ------------------------------------------

user_app = typer.Typer(help="Accounts of people who sign in.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens of accounts.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys of partner organisations.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(apikey_app, name="apikey")

_SECRET_WARNING = "Keep it now: it is not stored and cannot be shown again."


def _run_domain(settings: Settings, work: Any, **typed: object) -> Any:
    """Run ``work()`` (a coroutine function) with the database open; domain errors become
    a red English message (``typed``: what the operator typed, repeated in it) and exit
    code 2."""
    from services import db
    from services.errors import DomainError

    async def run() -> Any:
        async with db.database(settings.database):
            return await work()

    try:
        return asyncio.run(run())
    except DomainError as error:
        _fail(operator_message(error, **typed))


def _fail(message: str) -> NoReturn:
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="E-mail address (the sign-in name).")],
    role: Annotated[str, typer.Option(help="admin, editor, local-authority or partner.")],
    territory: Annotated[
        str | None, typer.Option(help="Territory slug (local-authority accounts).")
    ] = None,
    organization: Annotated[
        str | None, typer.Option(help="Organisation slug (partner accounts).")
    ] = None,
    display_name: Annotated[
        str,
        typer.Option(
            help="Name shown to editors (audit log); default: the address's part before the @."
        ),
    ] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an account (the password is prompted for twice unless --password-stdin)."""
    from services.accounts import service
    from services.errors import DomainError, Problems

    settings = _settings()
    # What can be refused before the password is asked for, all of it at once.
    problems = Problems()
    problems.check(lambda: service.normalize_email(email))
    problems.check(lambda: service.parse_role(role))
    try:
        problems.raise_any()
    except DomainError as error:
        _fail(operator_message(error))
    # Checked by create_account with the territory and organisation, all refused at once.
    password = _read_password(password_stdin, check=False)

    async def work() -> Any:
        return await service.create_account(
            email,
            password=password,
            role=role,
            territory_slug=territory,
            organization_slug=organization,
            display_name=display_name,
            by=await _operator(),
        )

    account = _run_migrated(settings, work)
    typer.echo(f"Account created: {account.email} ({_role_name(account.role)}, id {account.id})")


def _read_password(from_stdin: bool, *, check: bool = True) -> str:
    """A new password, from standard input or prompted for twice; checked at once unless
    ``check`` is false (the caller checks it with the other options)."""
    from services.accounts import service
    from services.errors import DomainError

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not check:
        return password
    try:
        service.validate_password(password)
    except DomainError as error:
        _fail(operator_message(error))
    return password


def _role_name(role: Any) -> str:
    """A role as operators type it: ``local-authority``."""
    return str(role.value).lower().replace("_", "-")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _when(moment: Any) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Columns padded to their widest cell (the last one is not)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, row[-1]]).rstrip())


async def _every_page(fetch: Any) -> list[Any]:
    """All the rows of a paginated service listing (``fetch(page_request)``)."""
    from services.pagination import PageRequest

    rows: list[Any] = []
    after = None
    while True:
        page = await fetch(PageRequest(first=100, after=after))
        rows += page.items
        if not page.has_next_page:
            return rows
        after = page.end_cursor


@user_app.command("list")
def user_list(
    role: Annotated[
        str | None, typer.Option(help="Only this role: admin, editor, local-authority, partner.")
    ] = None,
    organization: Annotated[
        str | None, typer.Option(help="Only members of this organisation (slug).")
    ] = None,
    state: Annotated[
        str, typer.Option(help="active, deactivated or all.", case_sensitive=False)
    ] = "all",
    search: Annotated[str, typer.Option(help="Part of the e-mail address or of the name.")] = "",
) -> None:
    """List accounts by e-mail address: role, name, territory or organisation, state, last
    sign-in and sessions still open."""
    from services.accounts import admin, service
    from services.errors import DomainError

    states = {"active": True, "deactivated": False, "all": None}
    if state.lower() not in states:
        _fail("--state must be active, deactivated or all")
    try:
        roles = [service.parse_role(role)] if role else []
    except DomainError as error:
        _fail(operator_message(error))
    flt = admin.AccountFilter(
        roles=roles, organization_slug=organization, active=states[state.lower()], text=search
    )
    settings = _settings()

    async def work() -> Any:
        accounts = await _every_page(
            lambda page: admin.list_accounts(admin.OPERATOR, flt=flt, page=page)
        )
        ids = [a.id for a in accounts]
        return accounts, await admin.get_affiliations(ids), await admin.count_active_tokens(ids)

    accounts, affiliations, sessions = _run_migrated(settings, work)
    if not accounts:
        typer.echo("No account matches.")
        return
    _table(
        ("E-MAIL", "ROLE", "OF", "STATE", "LAST SIGN-IN", "SESSIONS", "NAME"),
        [
            (
                a.email,
                _role_name(a.role),
                affiliations.get(a.id, "-"),
                "active" if a.is_active else "deactivated",
                _when(a.last_login_at),
                str(sessions.get(a.id, 0)),
                a.display_name or "-",
            )
            for a in accounts
        ],
    )
    typer.echo(_count(len(accounts), "account") + ".")


def _account_command(email: str, act: Any) -> Any:
    """Find the account with this address, then ``act(account)`` as the operator."""
    from services.accounts import service

    settings = _settings()

    async def work() -> Any:
        return await act(await service.get_account_by_email(email))

    return _run_migrated(settings, work)


@user_app.command("deactivate")
def user_deactivate(
    email: Annotated[str, typer.Option(help="E-mail address of the account.")],
) -> None:
    """Deactivate an account: it can no longer sign in and its tokens are refused at once."""
    from services.accounts import admin

    async def act(account: Any) -> Any:
        was_active = account.is_active
        return was_active, await admin.deactivate_account(await _operator(), account.id)

    was_active, account = _account_command(email, act)
    if was_active:
        typer.echo(f"Account {account.email} deactivated; its sessions are ended.")
    else:
        typer.echo(f"Account {account.email} was already deactivated.")


@user_app.command("reactivate")
def user_reactivate(
    email: Annotated[str, typer.Option(help="E-mail address of the account.")],
) -> None:
    """Let a deactivated account sign in again (its former tokens stay revoked)."""
    from services.accounts import admin

    async def act(account: Any) -> Any:
        return await admin.reactivate_account(await _operator(), account.id)

    account = _account_command(email, act)
    typer.echo(f"Account {account.email} is active.")


@user_app.command("set-password")
def user_set_password(
    email: Annotated[str, typer.Option(help="E-mail address of the account.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Replace an account's password (prompted for twice unless --password-stdin); its
    sessions end and pending reset links stop working."""
    from services.accounts import admin

    password = _read_password(password_stdin)

    async def act(account: Any) -> Any:
        return await admin.set_password(await _operator(), account.id, password=password)

    account = _account_command(email, act)
    typer.echo(f"Password of {account.email} replaced; its sessions are ended.")


def _run_migrated(settings: Settings, work: Any, **typed: object) -> Any:
    """Apply pending migrations, then run ``work`` like ``_run_domain``."""
    from services import db

    asyncio.run(db.migrate(settings.database))
    return _run_domain(settings, work, **typed)


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Option(help="E-mail address of the account.")],
    days: Annotated[int, typer.Option(min=1, max=366, help="Days before it expires.")] = 30,
) -> None:
    """Print a new bearer token for an account (no password asked: operators only)."""
    from services.accounts import service

    settings = _settings()

    async def work() -> str:
        account = await service.get_account_by_email(email)
        if not account.is_active:
            _fail("this account is deactivated")
        return await service.issue_token(account, ttl=timedelta(days=days), by=await _operator())

    secret = _run_migrated(settings, work, email=email)
    typer.echo(secret)
    typer.secho(
        f"Bearer token for {email}, valid {days} days. {_SECRET_WARNING}",
        fg=typer.colors.YELLOW,
        err=True,
    )


@token_app.command("revoke")
def token_revoke(
    email: Annotated[str, typer.Option(help="E-mail address of the account.")],
) -> None:
    """End every session of an account: all its bearer tokens are refused from now on."""
    from services.accounts import admin

    async def act(account: Any) -> Any:
        return await admin.revoke_tokens(await _operator(), account.id)

    account, revoked = _account_command(email, act)
    typer.echo(f"{_count(revoked, 'token')} of {account.email} revoked.")


@apikey_app.command("create")
def apikey_create(
    organization: Annotated[str, typer.Option(help="Slug of the organisation.")],
    scopes: Annotated[str, typer.Option(help="read, contribute or read,contribute.")] = "read",
    name: Annotated[str, typer.Option(help="What the key is for (shown in listings).")] = "",
) -> None:
    """Print a new API key of an organisation, for its partner site."""
    from services.accounts import service

    settings = _settings()

    async def work() -> Any:
        return await service.create_api_key(
            organization, scopes=scopes.split(","), name=name, by=await _operator()
        )

    key, secret = _run_migrated(settings, work, organization=organization)
    typer.echo(secret)
    typer.secho(
        f"API key {key.prefix} for {organization} ({key.scopes}). {_SECRET_WARNING}",
        fg=typer.colors.YELLOW,
        err=True,
    )


@apikey_app.command("revoke")
def apikey_revoke(
    key: Annotated[
        str,
        typer.Argument(
            help="The whole key (tec_k_…) or its prefix: the 8 characters after tec_k_, "
            "as `tec apikey create` showed it.",
            metavar="KEY_OR_PREFIX",
        ),
    ],
) -> None:
    """Revoke an API key, given whole or by its prefix: requests sent with it are refused
    from now on."""
    from services.accounts import service

    settings = _settings()

    async def work() -> Any:
        return await service.revoke_api_key(key, by=await _operator())

    revoked = _run_migrated(settings, work, key=f'"{key.strip()}"')
    typer.echo(f"API key {revoked.prefix} revoked.")


@apikey_app.command("list")
def apikey_list(
    organization: Annotated[
        str | None, typer.Option(help="Only the keys of this organisation (slug).")
    ] = None,
    include_revoked: Annotated[bool, typer.Option("--all", help="Revoked keys too.")] = False,
) -> None:
    """List API keys, newest first: prefix, organisation, scopes, last use."""
    from services.accounts import admin

    flt = admin.ApiKeyFilter(organization_slug=organization, include_revoked=include_revoked)
    settings = _settings()

    async def work() -> Any:
        keys = await _every_page(
            lambda page: admin.list_api_keys(admin.OPERATOR, flt=flt, page=page)
        )
        owners = await admin.get_organization_slugs({k.organization_id for k in keys})
        return keys, owners

    keys, owners = _run_migrated(settings, work)
    if not keys:
        typer.echo("No API key matches.")
        return
    _table(
        ("PREFIX", "ORGANISATION", "SCOPES", "CREATED", "LAST USED", "STATE", "NAME"),
        [
            (
                k.prefix,
                owners.get(k.organization_id, "-"),
                ",".join(sorted(k.scope_set)).lower(),
                _when(k.created_at),
                _when(k.last_used_at),
                f"revoked {_when(k.revoked_at)}" if k.revoked_at else "valid",
                k.name or "-",
            )
            for k in keys
        ],
    )
    typer.echo(_count(len(keys), "key") + ".")


webhook_app = typer.Typer(
    help="Webhook endpoints of partner sites (see docs/webhooks.md).", no_args_is_help=True
)
app.add_typer(webhook_app, name="webhook")


@webhook_app.command("add")
def webhook_add(
    url: Annotated[str, typer.Option(help="The receiver's http(s) URL.")],
    events: Annotated[
        str, typer.Option(help="Comma-separated event types, or `all` (see `tec webhook events`).")
    ] = "all",
    organization: Annotated[
        str | None, typer.Option(help="Slug of the organisation it belongs to.")
    ] = None,
    description: Annotated[str, typer.Option(help="What it is for (shown in listings).")] = "",
) -> None:
    """Register an endpoint and print its signing secret (whsec_…)."""
    from services.webhooks.endpoints import EndpointDraft, create_endpoint
    from services.webhooks.events import event_types

    settings = _settings()
    wanted = list(event_types()) if events == "all" else [e.strip() for e in events.split(",")]

    async def work() -> Any:
        from services.organizations.service import get_organization_by_slug

        owner = None
        if organization is not None:
            owner = await get_organization_by_slug(organization)
            if owner is None:
                _fail(f"no organisation {organization!r}")
        return await create_endpoint(
            await _operator(),
            EndpointDraft(url=url, events=wanted, description=description),
            organization_id=owner.id if owner is not None else None,
            allow_private=settings.webhooks.webhooks_allow_private,
        )

    endpoint, secret = _run_migrated(settings, work)
    typer.echo(secret)
    typer.secho(
        f"Webhook {endpoint.id} → {endpoint.url} ({len(endpoint.events)} events). "
        "Give the secret to the receiver: it verifies every delivery with it.",
        fg=typer.colors.YELLOW,
        err=True,
    )


@webhook_app.command("list")
def webhook_list() -> None:
    """Every endpoint: id, owner, state, URL, events."""
    from services.organizations.models import Organization
    from services.webhooks.endpoints import list_all_endpoints

    settings = _settings()

    async def work() -> Any:
        found = await list_all_endpoints()
        slugs = dict(await Organization.all().values_list("id", "slug"))
        return found, slugs

    found, slugs = _run_migrated(settings, work)
    if not found:
        typer.echo("No webhook endpoint.")
    for endpoint in found:
        owner = slugs.get(endpoint.organization_id, "(platform)")  # type: ignore[attr-defined]
        if endpoint.enabled:
            state = "failing" if endpoint.failing_since else "enabled"
        else:
            state = f"disabled: {endpoint.disabled_reason or ''}"
        typer.echo(f"{endpoint.id}\t{owner}\t{state}\t{endpoint.url}\t{','.join(endpoint.events)}")


@webhook_app.command("remove")
def webhook_remove(
    endpoint_id: Annotated[int, typer.Argument(help="The endpoint's id (`tec webhook list`).")],
) -> None:
    """Remove an endpoint and its delivery log."""
    from services.webhooks.endpoints import delete_endpoint

    settings = _settings()

    async def work() -> Any:
        return await delete_endpoint(await _operator(), endpoint_id)

    endpoint = _run_migrated(settings, work)
    typer.echo(f"Webhook {endpoint_id} ({endpoint.url}) removed.")


@webhook_app.command("events")
def webhook_events() -> None:
    """The event types an endpoint may follow."""
    from services.webhooks.events import event_types

    for event in event_types().values():
        typer.echo(f"{event.name}\t{event.description}")


rounds_app = typer.Typer(help="Voting rounds.", no_args_is_help=True)
app.add_typer(rounds_app, name="rounds")


@rounds_app.command("close-due")
def rounds_close_due(
    every: Annotated[
        float | None,
        typer.Option(help="Keep running and check every N seconds (a scheduler tick)."),
    ] = None,
) -> None:
    """Close the voting rounds whose closing date has passed; each winner becomes a draft
    shared project. Safe to run from several machines at once."""
    settings = _settings()
    from mailer.sending import OPERATOR
    from services import db
    from services.themes.service import get_themes_by_ids
    from services.votes.voting import close_due_rounds

    async def tick(operator: Any) -> None:
        closed_rounds = await close_due_rounds(by=operator)
        winners = await get_themes_by_ids(
            OPERATOR,
            [r.winner_id for r in closed_rounds if r.winner_id is not None],  # type: ignore[attr-defined]
        )
        for closed in closed_rounds:
            winner = winners.get(closed.winner_id)  # type: ignore[attr-defined]
            outcome = (
                f'won by "{winner.title}", now a draft shared project'
                if winner is not None
                else "no vote was cast, so no winner"
            )
            typer.echo(f'Closed "{closed.title}": {outcome}.')

    async def run() -> None:
        await db.migrate(settings.database)
        async with db.database(settings.database):
            operator = await _operator()
            await tick(operator)
            while every:
                await asyncio.sleep(every)
                await tick(operator)

    with contextlib.suppress(KeyboardInterrupt):
        _run_domain_async(run)


# --- Newsletters (operators) -------------------------------------------------------------

newsletter_app = typer.Typer(
    help="Newsletters: draft an issue for a month, send an issue.", no_args_is_help=True
)
app.add_typer(newsletter_app, name="newsletter")


def _newsletter_executor(settings: Settings) -> Any:
    from schema import build_schema
    from schema.newsletters.executor import build_executor

    return build_executor(build_schema(settings), settings)


@newsletter_app.command("send")
def newsletter_send(
    issue: Annotated[str, typer.Argument(help="Issue: its number in the database or its ID.")],
) -> None:
    """Send an issue now with a progress bar: compose it once, freeze it, queue one message
    per confirmed subscriber of its segment, deliver. Run it again after a crash: it
    resumes (messages already accepted are not sent again)."""
    import signal

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from mailer.sending import send_issue
    from mailer.transport import build_transport
    from services import db

    settings = _settings()
    issue_id = _issue_pk(issue)
    logging.basicConfig(
        level=settings.observability.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )

    async def run() -> dict[str, int]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        transport = build_transport(settings.mail)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            disable=not sys.stderr.isatty(),
        ) as bar:
            task = bar.add_task(f"Issue {issue_id}", total=None)

            def started(_: int, counts: dict[str, int]) -> None:
                done = counts["SENT"] + counts["FAILED"] + counts["CANCELLED"]
                bar.update(task, total=sum(counts.values()), completed=done)

            def advance(report: Any) -> None:
                bar.advance(task, report.sent + report.failed)

            async with db.database(settings.database):
                try:
                    return await send_issue(
                        _newsletter_executor(settings),
                        issue_id,
                        settings=settings,
                        transport=transport,
                        by=await _operator(),
                        on_start=started,
                        progress=advance,
                        stop=stop,
                    )
                finally:
                    await transport.close()

    asyncio.run(db.migrate(settings.database))
    counts = _run_domain_async(run, issue=issue)
    typer.echo(
        "Issue {}: {SENT} sent, {FAILED} failed, {CANCELLED} cancelled, "
        "{PENDING} waiting for a retry.".format(issue_id, **counts)
    )


@newsletter_app.command("draft")
def newsletter_draft(
    month: Annotated[str, typer.Option(help="The month of the issue: YYYY-MM.")],
) -> None:
    """Create a draft issue for a month, pre-filled from that month's content (the current
    theme and its resources, the next theme, the open vote, news, upcoming events), and
    show what it holds; editors then review it, pin items and write the introduction."""
    import datetime as dt

    from mailer.sending import preview
    from services import db
    from services.newsletters.service import draft_issue

    settings = _settings()
    try:
        first = dt.date.fromisoformat(f"{month.strip()[:7]}-01")
    except ValueError:
        _fail(f'invalid month "{month}" (expected YYYY-MM, e.g. 2026-12)')

    async def run() -> tuple[Any, Any]:
        async with db.database(settings.database):
            operator = await _operator()
            issue = await draft_issue(operator, month=first)
            composed = await preview(
                _newsletter_executor(settings), issue, settings=settings, viewer=operator
            )
            return issue, composed

    asyncio.run(db.migrate(settings.database))
    issue, composed = _run_domain_async(run, month=month)
    typer.echo(f'Draft issue {issue.id} "{issue.title}" ({issue.slug}):')
    for kind, items in composed.sections.items():
        titles = "; ".join(str(i.get("title", "")) for i in items)
        typer.echo(f"  {kind}: {len(items)}" + (f" — {titles}" if titles else ""))
    typer.echo(f"Review it, pin items and write the introduction (issue {issue.id}).")


def _issue_pk(value: str) -> int:
    if value.isdigit():
        return int(value)
    from schema.relay import decode_id
    from services.errors import DomainError

    try:
        return decode_id(value, "NewsletterIssue")  # type: ignore[arg-type]
    except DomainError as error:
        _fail(operator_message(error, issue=value))


def _run_domain_async(work: Any, **typed: object) -> Any:
    from services.errors import DomainError

    try:
        return asyncio.run(work())
    except DomainError as error:
        _fail(operator_message(error, **typed))


@app.command()
def mailer() -> None:
    """Send newsletters until stopped (Ctrl-C): start scheduled issues when their time
    comes and deliver the queue (several may run on PostgreSQL; one with SQLite)."""
    import signal

    from mailer.sending import run_worker
    from mailer.transport import build_transport
    from services import db

    settings = _settings()
    logging.basicConfig(
        level=settings.observability.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        transport = build_transport(settings.mail)
        async with db.database(settings.database):
            try:
                await run_worker(
                    _newsletter_executor(settings),
                    settings=settings,
                    transport=transport,
                    stop=stop,
                )
            finally:
                await transport.close()

    asyncio.run(db.migrate(settings.database))
    typer.echo("Mail sender started; Ctrl-C stops it.")
    asyncio.run(run())


def main() -> None:
    app()


if __name__ == "__main__":
    main()
