"""``tec``: the one command operators use (serve, demo data, migrations, schema export)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from services.settings import Settings

app = typer.Typer(
    help="Territoires en Commun: GraphQL gateway and headless CMS. Settings come from "
    "TEC_* environment variables (see the README).",
    no_args_is_help=True,
    add_completion=False,
)


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

    asyncio.run(db.migrate(settings))
    typer.echo("Database up to date.")


@app.command()
def demo() -> None:
    """Migrate, then load the demo data from the seeds (idempotent: safe to run again)."""
    settings = _settings()
    from services import db
    from services.demo.loader import load_demo

    async def run() -> dict[str, int]:
        await db.migrate(settings)
        async with db.database(settings):
            return await load_demo()

    counts = asyncio.run(run())
    created = {k.rstrip("+"): v for k, v in counts.items() if k.endswith("+")}
    seen = {k: v for k, v in counts.items() if not k.endswith("+")}
    typer.echo("Demo data loaded: " + ", ".join(f"{v} {k}" for k, v in seen.items()))
    typer.echo("New rows: " + (", ".join(f"{v} {k}" for k, v in created.items()) or "none"))


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

        asyncio.run(db.migrate(settings))
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
    typer.echo(f"GraphQL gateway on {settings.base_url}/graphql")
    if settings.workers > 1:
        uvicorn.run(
            "schema.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level=settings.log_level,
        )
    else:
        from schema.app import create_app

        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
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

    asyncio.run(db.make_migrations(_settings(), name=name))


# --- Accounts, tokens and API keys (operators) ------------------------------------------

user_app = typer.Typer(help="Accounts of people who sign in.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens of accounts.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys of partner organisations.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(apikey_app, name="apikey")

_SECRET_WARNING = "Keep it now: it is not stored and cannot be shown again."


def _run_domain(settings: Settings, work: Any) -> Any:
    """Run ``work()`` (a coroutine function) with the database open; domain errors become
    a red message and exit code 2."""
    from services import db
    from services.errors import DomainError

    async def run() -> Any:
        async with db.database(settings):
            return await work()

    try:
        return asyncio.run(run())
    except DomainError as error:
        typer.secho(f"Error: {error.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


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
    display_name: Annotated[str, typer.Option(help="Name shown to editors.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an account (the password is prompted for twice unless --password-stdin)."""
    from services.accounts import service
    from services.errors import DomainError

    settings = _settings()
    try:
        service.parse_role(role)
        service.normalize_email(email)
    except DomainError as error:
        _fail(error.message)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        service.validate_password(password)
    except DomainError as error:
        _fail(error.message)

    async def work() -> Any:
        return await service.create_account(
            email,
            password=password,
            role=role,
            territory_slug=territory,
            organization_slug=organization,
            display_name=display_name,
        )

    account = _run_migrated(settings, work)
    typer.echo(f"Account created: {account.email} ({account.role.value}, id {account.id})")


def _run_migrated(settings: Settings, work: Any) -> Any:
    """Apply pending migrations, then run ``work`` like ``_run_domain``."""
    from services import db

    asyncio.run(db.migrate(settings))
    return _run_domain(settings, work)


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
        return await service.issue_token(account, ttl=timedelta(days=days))

    secret = _run_migrated(settings, work)
    typer.echo(secret)
    typer.secho(
        f"Bearer token for {email}, valid {days} days. {_SECRET_WARNING}",
        fg=typer.colors.YELLOW,
        err=True,
    )


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
        return await service.create_api_key(organization, scopes=scopes.split(","), name=name)

    key, secret = _run_migrated(settings, work)
    typer.echo(secret)
    typer.secho(
        f"API key {key.prefix} for {organization} ({key.scopes}). {_SECRET_WARNING}",
        fg=typer.colors.YELLOW,
        err=True,
    )


@apikey_app.command("revoke")
def apikey_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix (its first 8 characters).")],
) -> None:
    """Revoke an API key: requests sent with it are refused from now on."""
    from services.accounts import service

    settings = _settings()

    async def work() -> Any:
        return await service.revoke_api_key(prefix)

    key = _run_migrated(settings, work)
    typer.echo(f"API key {key.prefix} revoked.")


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
    from services import db
    from services.votes.voting import close_due_rounds

    async def tick() -> None:
        for closed in await close_due_rounds():
            typer.echo(f"Closed « {closed.title} » (winner theme id: {closed.winner_id}).")  # type: ignore[attr-defined]

    async def run() -> None:
        await db.migrate(settings)
        async with db.database(settings):
            await tick()
            while every:
                await asyncio.sleep(every)
                await tick()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def main() -> None:
    app()


if __name__ == "__main__":
    main()
