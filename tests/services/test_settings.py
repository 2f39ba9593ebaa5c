"""Settings: one group per concern, each field read from the TEC_ variable of its name."""

from __future__ import annotations

import inspect

import pytest
from pydantic import ValidationError

from gateway.cache import ResponseCache
from mailer.transport import build_transport
from search.engines import build_engine
from services import db
from services.settings import (
    CacheSettings,
    DatabaseSettings,
    MailSettings,
    SearchSettings,
    Settings,
)


def test_each_variable_is_read_into_its_group(monkeypatch):
    monkeypatch.setenv("TEC_SEARCH_PATH", "/srv/index")
    monkeypatch.setenv("TEC_RATE_LIMIT_ANONYMOUS", "7")
    monkeypatch.setenv("TEC_SMTP_PORT", "2525")
    settings = Settings()
    assert str(settings.search.search_path) == "/srv/index"
    assert settings.limits.rate_limit_anonymous == 7
    assert settings.mail.smtp_port == 2525


def test_keyword_arguments_override_the_environment_by_flat_name(monkeypatch):
    monkeypatch.setenv("TEC_CACHE_ENABLED", "true")
    settings = Settings(cache_enabled=False, database_url="sqlite://var/x.sqlite3")
    assert settings.cache.cache_enabled is False
    assert settings.database.is_sqlite


def test_a_flat_name_belongs_to_exactly_one_group():
    names = list(Settings.fields())
    assert len(names) == len(set(names))
    settings = Settings()
    for name in names:
        assert settings.value(name) == getattr(getattr(settings, _group(settings, name)), name)


def _group(settings: Settings, name: str) -> str:
    return next(g for g in Settings.model_fields if name in type(getattr(settings, g)).model_fields)


def test_replace_changes_one_setting_validated_and_keeps_the_original():
    settings = Settings(rate_limit_anonymous=300)
    changed = settings.replace(rate_limit_anonymous=3, cache_ttl=5.0)
    assert (changed.limits.rate_limit_anonymous, changed.cache.cache_ttl) == (3, 5.0)
    assert settings.limits.rate_limit_anonymous == 300
    with pytest.raises(ValidationError):
        settings.replace(port=0)
    with pytest.raises(TypeError, match="unknown setting"):
        settings.replace(no_such_setting=1)


def test_an_unknown_setting_is_refused():
    with pytest.raises(ValidationError, match="unknown setting"):
        Settings(databse_url="sqlite://typo")


def test_checks_across_groups_still_apply():
    with pytest.raises(ValidationError, match="TEC_SMTP_HOST"):
        Settings(environment="production", signing_secret="s" * 32, smtp_host="")


@pytest.mark.parametrize(
    ("component", "group"),
    [
        (db.tortoise_config, DatabaseSettings),
        (db.migrate, DatabaseSettings),
        (db.database, DatabaseSettings),
        (build_engine, SearchSettings),
        (build_transport, MailSettings),
        (ResponseCache, CacheSettings),
    ],
)
def test_components_receive_only_their_group(component, group):
    parameter = inspect.signature(component).parameters["settings"]
    assert parameter.annotation in (group, group.__name__)
