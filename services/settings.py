"""Settings read from ``TEC_*`` environment variables, in one group per concern.

Nothing here runs at import time: callers build ``Settings()`` once (the CLI, the
test fixtures) and hand it to ``create_app``.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_INSTANCE_FILES = {
    ("search", "search_path"): "search",
    ("security", "signing_secret_file"): "signing-secret",
    ("mail", "mail_directory"): "mail",
}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "default"


def instance_directory_of(database_url: str) -> Path:
    """Where an instance keeps its own files, from its database URL alone.

    SQLite: beside the database file, named after it (``sqlite://var/tec.sqlite3`` →
    ``var/tec``; a file without suffix, ``var/tec-files``); an absolute file gives an
    absolute directory, whatever the current directory. PostgreSQL:
    ``var/<host>-<port>-<database>`` under the current directory
    (``postgres://u:p@db:5432/tec`` → ``var/db-5432-tec``; user and password are left out).
    """
    if database_url.startswith("sqlite://"):
        raw = database_url.removeprefix("sqlite://")
        if raw in ("", ":memory:"):
            return Path("var/memory")
        database = Path(raw)
        name = _slug(database.stem)
        # A database file without a suffix would otherwise be its own directory.
        return database.with_name(name if database.suffix else f"{name}-files")
    parts = urlsplit(database_url)
    name = "-".join(
        (parts.hostname or "localhost", str(parts.port or 5432), parts.path.strip("/") or "db")
    )
    return Path("var") / _slug(name)


class _Group(BaseSettings):
    """One group of settings; each field reads the ``TEC_`` variable of its own name."""

    model_config = SettingsConfigDict(env_prefix="TEC_", extra="ignore")


class DatabaseSettings(_Group):
    """Where the data lives."""

    database_url: str = Field(
        default="sqlite://var/tec.sqlite3",
        description="Tortoise database URL: sqlite://PATH or postgres://user:pass@host:port/db.",
    )
    sqlite_busy_timeout: float = Field(
        default=5.0,
        ge=0,
        le=600,
        description="SQLite only: seconds a write waits for another process's write to finish "
        "(beyond: SERVICE_UNAVAILABLE).",
    )

    instance_directory: Path = Field(
        default=Path("var/tec"),
        description="This instance's own files (search index, development signing secret, "
        ".eml files, worker metrics); default: derived from TEC_DATABASE_URL, so instances on "
        "different databases never share them (see `instance_directory_of`).",
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


class HttpSettings(_Group):
    """The HTTP server and what it answers with."""

    host: str = Field(default="127.0.0.1", description="Interface `tec serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `tec serve` listens on.")
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes.")
    public_url: str = Field(
        default="",
        description="Absolute URL of the gateway as the public sees it (links in feeds); "
        "defaults to http://HOST:PORT.",
    )
    debug: bool = Field(default=False, description="Starlette debug mode (never in production).")
    max_body_bytes: int = Field(
        default=1_000_000, ge=1_000, description="Largest request body accepted (413 beyond)."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins (https://partner.example) allowed to call the API "
        "from browsers.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses or CIDR ranges of the proxies in front of the "
        "gateway (127.0.0.1,10.0.0.0/8): behind them the client is the right-most "
        "X-Forwarded-For hop that is not one of them; empty: the peer is the client.",
    )
    hsts: bool = Field(default=False, description="Send Strict-Transport-Security (HTTPS only).")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            value = [entry.strip() for entry in value.split(",") if entry.strip()]
        if isinstance(value, list):
            for entry in value:
                try:
                    ipaddress.ip_network(str(entry), strict=False)
                except ValueError:
                    raise ValueError(
                        f'TEC_TRUSTED_PROXIES: "{entry}" is neither an address nor a CIDR network'
                    ) from None
        return value

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


class SecuritySettings(_Group):
    """Secrets that sign links, and the environment that decides how strict start-up is."""

    environment: Literal["development", "production"] = Field(
        default="development",
        description="production makes TEC_SIGNING_SECRET mandatory.",
    )
    signing_secret: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated secrets of the subscription links (confirm, unsubscribe, "
        "preferences): the first signs, every one verifies (rotation); required in production; "
        "when empty, development keeps one in TEC_SIGNING_SECRET_FILE.",
    )
    signing_secret_file: Path = Field(
        default=Path("var/tec/signing-secret"),
        description="Development only, without TEC_SIGNING_SECRET: the secret generated once "
        "and shared by every process of the instance (default: "
        "TEC_INSTANCE_DIRECTORY/signing-secret).",
    )

    @field_validator("signing_secret", mode="before")
    @classmethod
    def _split_secrets(cls, value: object) -> object:
        if isinstance(value, str):
            return [secret.strip() for secret in value.split(",") if secret.strip()]
        return value

    @model_validator(mode="after")
    def _secret_in_production(self) -> SecuritySettings:
        if self.environment == "production" and (
            not self.signing_secret or any(len(secret) < 32 for secret in self.signing_secret)
        ):
            raise ValueError(
                "TEC_SIGNING_SECRET is required in production: one or more comma-separated "
                "secrets of 32 characters or more"
            )
        return self


class GraphQLSettings(_Group):
    """GraphQL execution and its limits."""

    max_page_size: int = Field(default=100, ge=1, le=1000, description="Largest `first` or `last`.")
    default_page_size: int = Field(default=20, ge=1, le=1000, description="`first` if omitted.")
    graphql_ide: bool = Field(default=True, description="Serve the GraphQL IDE on GET /graphql.")
    introspection: bool = Field(default=True, description="Allow schema introspection.")
    max_query_depth: int = Field(default=12, ge=2, description="Deepest selection allowed.")
    max_aliases: int = Field(default=30, ge=0, description="Aliases allowed in one query.")
    max_tokens: int = Field(default=3000, ge=50, description="Tokens allowed in one document.")
    max_query_cost: int = Field(
        default=6000,
        ge=10,
        description="Cost budget of one query (fields, multiplied by `first`/`last` under lists).",
    )
    max_batch_size: int = Field(
        default=10, ge=1, le=100, description="Operations allowed in one batched request."
    )
    field_suggestions: bool = Field(
        default=True, description="Suggest field names in validation errors (off in production)."
    )
    compiled_execution: bool = Field(
        default=True,
        description="Run queries through a compiled plan per document, graphql-core only "
        "when the plan cannot (docs/performance.md).",
    )
    read_compiler: bool = Field(
        default=True,
        description="Answer the read-only queries it covers with one SQL statement that "
        "builds the JSON in the database; the rest goes to the ordinary executor "
        "(docs/performance.md).",
    )
    persisted_queries: bool = Field(
        default=True, description="Accept automatic persisted queries (Apollo APQ)."
    )
    persisted_queries_allowlist: str = Field(
        default="",
        description="JSON file of the only documents allowed to run (production allow-list "
        "mode); empty: any document.",
    )
    persisted_queries_max_entries: int = Field(
        default=5000, ge=1, description="Documents the APQ store of each process keeps."
    )


class RateLimitSettings(_Group):
    """Rate limits and sign-in throttles, shared through Redis."""

    redis_url: str = Field(
        default="",
        description="Redis for rate-limit counters shared by all processes (redis://host:6379/0); "
        "empty: counters in the process (one process only).",
    )
    rate_limit_anonymous: int = Field(default=300, ge=1, description="Requests per window per IP.")
    rate_limit_account: int = Field(
        default=1200, ge=1, description="Requests per window per signed-in account."
    )
    rate_limit_api_key: int = Field(
        default=3000, ge=1, description="Requests per window per API key."
    )
    rate_limit_window: int = Field(default=60, ge=1, description="Rate-limit window, in seconds.")
    sign_in_attempts_per_email: int = Field(
        default=10, ge=1, description="Sign-in attempts allowed per e-mail address per window."
    )
    sign_in_attempts_per_address: int = Field(
        default=50, ge=1, description="Sign-in attempts allowed per client address per window."
    )
    sign_in_window: int = Field(
        default=900, ge=1, description="Window (s) of the sign-in throttles."
    )


class CacheSettings(_Group):
    """The response cache."""

    cache_enabled: bool = Field(
        default=True,
        description="Public response cache of read-only queries on published content "
        "(docs/performance.md).",
    )
    cache_ttl: float = Field(
        default=300.0,
        gt=0,
        description="Longest life (s) of a cached response; writes and scheduled "
        "publications end it sooner.",
    )
    cache_max_entries: int = Field(
        default=2000, ge=1, description="Responses kept by the cache of each process."
    )
    cache_max_entry_bytes: int = Field(
        default=1_000_000, ge=1, description="Largest response (bytes) the cache keeps."
    )
    cache_max_age: int = Field(
        default=0,
        ge=0,
        description="Cache-Control max-age (s) of public responses, for CDNs; 0: revalidate "
        "with ETag every time.",
    )


class SearchSettings(_Group):
    """The search engine, embedded or Meilisearch."""

    search_engine: Literal["embedded", "meilisearch"] = Field(
        default="embedded", description="Search engine: embedded (tantivy) or meilisearch."
    )
    search_path: Path = Field(
        default=Path("var/tec/search"),
        description="Directory of the embedded search index (default: "
        "TEC_INSTANCE_DIRECTORY/search).",
    )
    search_worker: bool = Field(
        default=True,
        description="Run the outbox consumer inside `tec serve` (embedded engine only; "
        "otherwise run `tec worker`).",
    )
    search_poll_interval: float = Field(
        default=1.0, gt=0, le=60, description="Seconds between outbox polls when idle."
    )
    search_batch_size: int = Field(
        default=200, ge=1, le=5000, description="Outbox rows applied per batch."
    )
    search_max_backoff: float = Field(
        default=300.0, gt=0, description="Longest wait (s) before retrying a failed batch."
    )
    search_writer_heap_mb: int = Field(
        default=64, ge=16, le=4096, description="Memory of the embedded index writer (MB)."
    )
    meili_url: str = Field(default="", description="Meilisearch URL, e.g. http://127.0.0.1:7700.")
    meili_api_key: str = Field(
        default="", description="Meilisearch admin API key (indexing and settings)."
    )
    meili_index: str = Field(default="tec", description="Meilisearch index uid.")
    meili_timeout: float = Field(default=10.0, gt=0, description="Meilisearch HTTP timeout (s).")
    meili_search_key: str = Field(
        default="", description="Meilisearch search API key that signs tenant tokens."
    )
    meili_public_url: str = Field(
        default="", description="Meilisearch URL front-ends use (defaults to TEC_MEILI_URL)."
    )


class MailSettings(_Group):
    """Sending mail: the SMTP relay and the delivery queue."""

    smtp_host: str = Field(
        default="", description="SMTP relay; empty writes .eml files to TEC_MAIL_DIRECTORY."
    )
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP port.")
    smtp_username: str = Field(default="", description="SMTP user name (empty: no AUTH).")
    smtp_password: str = Field(default="", description="SMTP password.")
    smtp_tls: Literal["none", "starttls", "tls"] = Field(
        default="none", description="none, starttls or tls (implicit TLS, port 465)."
    )
    smtp_timeout: float = Field(default=30.0, gt=0, description="SMTP timeout (s).")
    smtp_pool_size: int = Field(
        default=4, ge=1, le=64, description="SMTP connections kept open by a sender."
    )
    mail_from: str = Field(
        default="Territoires en Commun <newsletter@territoires-en-commun.example>",
        description="From: of newsletters and confirmation e-mails.",
    )
    mail_directory: Path = Field(
        default=Path("var/tec/mail"),
        description="Where .eml files go when TEC_SMTP_HOST is empty (default: "
        "TEC_INSTANCE_DIRECTORY/mail).",
    )
    mail_rate: float = Field(
        default=0.0, ge=0, description="Messages per second a sender may send (0: no limit)."
    )
    mail_batch_size: int = Field(
        default=50, ge=1, le=1000, description="Deliveries a sender claims at once."
    )
    mail_max_attempts: int = Field(
        default=6, ge=1, le=50, description="Attempts before a transient failure is final."
    )
    mail_retry_backoff: float = Field(
        default=60.0, ge=0, description="First retry delay (s), doubled at each attempt."
    )
    mail_lease_seconds: float = Field(
        default=300.0, gt=0, description="A claimed delivery is reclaimed after this (crash)."
    )
    mail_poll_interval: float = Field(
        default=5.0, gt=0, le=600, description="Seconds between queue polls of `tec mailer`."
    )


class NewsletterSettings(_Group):
    """Newsletters and subscriptions: wording, links to the portal, throttles."""

    newsletter_logo_url: str = Field(
        default="",
        description="Absolute URL of the newsletter's logo (a PNG, 440×120 shown at 220 px); "
        "empty: the built-in one, served at /newsletters/logo.png.",
    )
    consent_wording_version: str = Field(
        default="2026-11", description="Version of the consent wording shown when subscribing."
    )
    confirmation_mail_interval: int = Field(
        default=600,
        ge=0,
        description="Seconds that must pass before an address is sent another confirmation e-mail.",
    )
    confirmation_mail_daily_limit: int = Field(
        default=5, ge=1, description="Confirmation e-mails one address may receive per 24 hours."
    )
    portal_url: str = Field(
        default="https://territoires-en-commun.fr",
        description="The partner portal's address: newsletters link resources, themes, events, "
        "shared projects, the vote and the contribution form to its pages.",
    )
    portal_resource_path: str = Field(
        default="/ressources/{slug}", description="Page of a resource on the portal."
    )
    portal_theme_path: str = Field(
        default="/thematiques/{slug}", description="Page of a theme on the portal."
    )
    portal_event_path: str = Field(
        default="/agenda/{slug}", description="Page of an event on the portal."
    )
    portal_project_path: str = Field(
        default="/projets-partages/{slug}", description="Page of a shared project on the portal."
    )
    portal_concept_path: str = Field(
        default="/concepts/{slug}", description="Page of a concept of the month on the portal."
    )
    portal_vote_path: str = Field(
        default="/votes/{slug}", description="Page of a voting round (vote, ranking) on the portal."
    )
    portal_contribution_path: str = Field(
        default="/ressources/proposer",
        description="The contribution form (« J'envoie ma ressource ») on the portal.",
    )
    portal_preferences_path: str = Field(
        default="",
        description="The portal's page of newsletter preferences, {token} being the "
        "subscriber's signed link; empty: the gateway's own page.",
    )
    newsletter_contact: str = Field(
        default="editorialisation@territoires-en-commun.fr",
        description="Address of « Des questions ou des commentaires ? » in newsletters.",
    )
    newsletter_postal_address: str = Field(
        default="Agence nationale de la cohésion des territoires, 20 avenue de Ségur, 75007 Paris",
        description="Postal address in the footer of newsletters (« Notre adresse »).",
    )

    @field_validator("newsletter_logo_url")
    @classmethod
    def _absolute_image_url(cls, value: str) -> str:
        # Written into e-mails and into the pages' Content-Security-Policy: an absolute
        # http(s) URL, nothing that would end an attribute or a CSP directive.
        value = value.strip()
        if value and (
            not re.fullmatch(r"https?://[^\s\"'<>;,]+", value) or not urlsplit(value).netloc
        ):
            raise ValueError("TEC_NEWSLETTER_LOGO_URL must be an absolute http(s) URL")
        return value

    @field_validator("portal_url")
    @classmethod
    def _absolute_portal(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("TEC_PORTAL_URL must be an absolute http(s) URL")
        return value.rstrip("/")

    @field_validator(
        "portal_resource_path",
        "portal_theme_path",
        "portal_event_path",
        "portal_project_path",
        "portal_concept_path",
        "portal_vote_path",
    )
    @classmethod
    def _page_of_a_slug(cls, value: str) -> str:
        if not value.startswith("/") or "{slug}" not in value:
            raise ValueError("TEC_PORTAL_*_PATH must start with / and hold {slug}")
        return value

    @field_validator("portal_contribution_path")
    @classmethod
    def _portal_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("TEC_PORTAL_CONTRIBUTION_PATH must start with /")
        return value

    @field_validator("portal_preferences_path")
    @classmethod
    def _preferences_path(cls, value: str) -> str:
        if value and (not value.startswith("/") or "{token}" not in value):
            raise ValueError("TEC_PORTAL_PREFERENCES_PATH must start with / and hold {token}")
        return value


class WebhookSettings(_Group):
    """Webhooks to partner sites: the sender, its retries and the SSRF guard."""

    webhooks_worker: bool = Field(
        default=True, description="Send webhooks from `tec worker` (beside the search consumer)."
    )
    webhooks_allow_private: bool = Field(
        default=False,
        description="Let webhook URLs reach loopback, private, link-local and reserved addresses "
        "(tests, a partner on the same private network); never on the Internet.",
    )
    webhooks_timeout: float = Field(
        default=15.0, gt=0, le=60, description="Seconds a webhook receiver has to answer."
    )
    webhooks_retry_hours: float = Field(
        default=24.0, gt=0, le=168, description="Hours a failing webhook delivery is retried."
    )
    webhooks_disable_after_hours: float = Field(
        default=24.0,
        gt=0,
        le=168,
        description="Hours of continuous failures after which an endpoint is disabled (its "
        "owner is e-mailed).",
    )
    webhooks_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A claimed webhook delivery is claimed again after this (the worker died); "
        "keep it above TEC_WEBHOOKS_TIMEOUT.",
    )
    webhooks_batch_size: int = Field(
        default=20, ge=1, le=500, description="Webhook deliveries a worker sends at once."
    )
    webhooks_poll_interval: float = Field(
        default=1.0, gt=0, le=60, description="Seconds between webhook queue polls when idle."
    )


class ObservabilitySettings(_Group):
    """Logs, metrics and traces."""

    log_level: str = Field(default="info", description="debug, info, warning or error.")
    log_format: Literal["text", "json"] = Field(
        default="text", description="text for people, json for log collectors."
    )
    otel_enabled: bool = Field(
        default=False,
        description="Trace GraphQL operations with OpenTelemetry (configure the exporter with "
        "the standard OTEL_* variables).",
    )
    metrics_token: str = Field(
        default="", description="Bearer token required on /metrics (empty: open)."
    )


_GROUPS: dict[str, type[_Group]] = {
    "database": DatabaseSettings,
    "http": HttpSettings,
    "security": SecuritySettings,
    "graphql": GraphQLSettings,
    "limits": RateLimitSettings,
    "cache": CacheSettings,
    "search": SearchSettings,
    "mail": MailSettings,
    "newsletters": NewsletterSettings,
    "webhooks": WebhookSettings,
    "observability": ObservabilitySettings,
}
# Flat name (the TEC_ variable without its prefix, lower case) → its group.
_GROUP_OF: dict[str, str] = {
    name: group for group, model in _GROUPS.items() for name in model.model_fields
}
_FLAT_MODELS: dict[str, type[_Group]] = {name: _GROUPS[g] for name, g in _GROUP_OF.items()}


class Settings(BaseModel):
    """Every setting, in one group per concern; each layer is handed only the groups it
    reads (``settings.search`` to the search engine, ``settings.mail`` to the transport…).

    ``Settings()`` reads the ``TEC_*`` environment. Keyword arguments override single
    settings by their flat names, as the variables spell them:
    ``Settings(database_url="sqlite://…", search_worker=False)``.
    """

    database: DatabaseSettings
    http: HttpSettings
    security: SecuritySettings
    graphql: GraphQLSettings
    limits: RateLimitSettings
    cache: CacheSettings
    search: SearchSettings
    mail: MailSettings
    newsletters: NewsletterSettings
    webhooks: WebhookSettings
    observability: ObservabilitySettings

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)

    @model_validator(mode="before")
    @classmethod
    def _read_groups(cls, data: Any) -> Any:
        data = dict(data or {})
        flat: dict[str, dict[str, Any]] = {}
        for name in [n for n in data if n not in _GROUPS]:
            if name not in _GROUP_OF:
                raise ValueError(f"unknown setting {name!r}")
            flat.setdefault(_GROUP_OF[name], {})[name] = data.pop(name)
        for group, model in _GROUPS.items():
            if group in data and group in flat:
                raise ValueError(f"settings of {group!r} given both as a group and by name")
            if group not in data:
                # Built here, not validated from a dict: a group reads the environment
                # when it is constructed, and keyword arguments take precedence.
                data[group] = model(**flat.get(group, {}))
        return data

    @model_validator(mode="after")
    def _paths_of_the_instance(self) -> Settings:
        # Defaults follow the database: two instances side by side on two databases get
        # two index directories, two secrets, two mail directories.
        database = self.database
        if "instance_directory" not in database.model_fields_set:
            database.instance_directory = instance_directory_of(database.database_url)
        for (group, name), leaf in _INSTANCE_FILES.items():
            settings = getattr(self, group)
            if name not in settings.model_fields_set:
                setattr(settings, name, database.instance_directory / leaf)
        return self

    @model_validator(mode="after")
    def _smtp_relay_in_production(self) -> Settings:
        # Without a relay, mail would go to .eml files inside the container, read by no one.
        if self.security.environment == "production" and not self.mail.smtp_host.strip():
            raise ValueError(
                "TEC_SMTP_HOST (the SMTP relay newsletters go through) is required in production"
            )
        return self

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed, by their flat names; each changed group is
        validated again, the environment is not read."""
        groups: dict[str, Any] = {group: getattr(self, group) for group in _GROUPS}
        updates: dict[str, dict[str, Any]] = {}
        for name, value in changes.items():
            if name not in _GROUP_OF:
                raise TypeError(f"unknown setting {name!r}")
            updates.setdefault(_GROUP_OF[name], {})[name] = value
        for group, values in updates.items():
            current = groups[group]
            groups[group] = type(current).model_validate(
                {**{n: getattr(current, n) for n in type(current).model_fields}, **values}
            )
        return Settings(**groups)

    @classmethod
    def fields(cls) -> dict[str, FieldInfo]:
        """Every setting by its flat name (its variable is ``TEC_`` and the name in capitals)."""
        return {name: model.model_fields[name] for name, model in _FLAT_MODELS.items()}

    def value(self, name: str) -> Any:
        """A setting by its flat name, for code that walks every setting."""
        return getattr(getattr(self, _GROUP_OF[name]), name)
