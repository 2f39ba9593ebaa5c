"""Settings read from ``TEC_*`` environment variables.

Nothing here runs at import time: callers build ``Settings()`` once (the CLI, the
test fixtures) and hand it to ``create_app``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of the gateway; each one is documented in the README."""

    model_config = SettingsConfigDict(env_prefix="TEC_", extra="ignore")

    database_url: str = Field(
        default="sqlite://var/tec.sqlite3",
        description="Tortoise database URL: sqlite://PATH or postgres://user:pass@host:port/db.",
    )
    host: str = Field(default="127.0.0.1", description="Interface `tec serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `tec serve` listens on.")
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes.")
    log_level: str = Field(default="info", description="debug, info, warning or error.")
    public_url: str = Field(
        default="",
        description="Absolute URL of the gateway as the public sees it (links in feeds); "
        "defaults to http://HOST:PORT.",
    )
    max_page_size: int = Field(default=100, ge=1, le=1000, description="Largest `first`.")
    default_page_size: int = Field(default=20, ge=1, le=1000, description="`first` if omitted.")
    graphql_ide: bool = Field(default=True, description="Serve the GraphQL IDE on GET /graphql.")
    introspection: bool = Field(default=True, description="Allow schema introspection.")
    debug: bool = Field(default=False, description="Starlette debug mode (never in production).")
    max_query_depth: int = Field(default=12, ge=2, description="Deepest selection allowed.")
    max_aliases: int = Field(default=30, ge=0, description="Aliases allowed in one query.")
    max_tokens: int = Field(default=3000, ge=50, description="Tokens allowed in one document.")
    max_query_cost: int = Field(
        default=6000,
        ge=10,
        description="Cost budget of one query (fields, multiplied by `first` under lists).",
    )
    max_batch_size: int = Field(
        default=10, ge=1, le=100, description="Operations allowed in one batched request."
    )
    field_suggestions: bool = Field(
        default=True, description="Suggest field names in validation errors (off in production)."
    )

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "postgresql://", "asyncpg://")):
            raise ValueError("TEC_DATABASE_URL must start with sqlite:// or postgres://")
        if value.startswith("postgresql://"):
            value = "postgres://" + value.removeprefix("postgresql://")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        raw = self.database_url.removeprefix("sqlite://")
        return None if raw in ("", ":memory:") else Path(raw)

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
