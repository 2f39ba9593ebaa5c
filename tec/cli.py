"""``tec``: the one command operators use (serve, demo data, migrations, schema export)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
