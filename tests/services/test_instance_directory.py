"""Settings: an instance's own files follow its database, so two instances on two
databases never share a search index, a signing secret or a mail directory."""

from __future__ import annotations

from pathlib import Path

from services.settings import Settings, instance_directory_of


def _paths(settings: Settings) -> tuple[Path, ...]:
    return (
        settings.database.instance_directory,
        settings.search.search_path,
        settings.security.signing_secret_file,
        settings.mail.mail_directory,
    )


def test_two_databases_give_two_sets_of_files():
    first = Settings(database_url="sqlite://var/tec.sqlite3")
    other = Settings(database_url="sqlite://var/other.sqlite3")
    assert _paths(first) == (
        Path("var/tec"),
        Path("var/tec/search"),
        Path("var/tec/signing-secret"),
        Path("var/tec/mail"),
    )
    assert _paths(other) == (
        Path("var/other"),
        Path("var/other/search"),
        Path("var/other/signing-secret"),
        Path("var/other/mail"),
    )


def test_postgres_databases_are_told_apart_by_host_port_and_name_without_credentials():
    one = instance_directory_of("postgres://tec:secret@db:5432/tec")
    assert one == Path("var/db-5432-tec")
    assert instance_directory_of("postgres://tec:secret@db:5433/tec") != one
    assert instance_directory_of("postgres://tec:secret@db:5432/staging") != one
    assert "secret" not in str(one)


def test_a_sqlite_file_gives_the_same_directory_from_any_current_directory(tmp_path, monkeypatch):
    url = f"sqlite://{tmp_path / 'data' / 'portal.sqlite3'}"
    monkeypatch.chdir(tmp_path)
    here = Settings(database_url=url)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    there = Settings(database_url=url)
    assert _paths(here) == _paths(there)
    assert here.search.search_path == tmp_path / "data" / "portal" / "search"


def test_a_database_file_without_suffix_is_not_its_own_directory():
    assert instance_directory_of("sqlite://var/tec") == Path("var/tec-files")


def test_paths_given_explicitly_win(monkeypatch):
    monkeypatch.setenv("TEC_SEARCH_PATH", "/srv/index")
    monkeypatch.setenv("TEC_INSTANCE_DIRECTORY", "/srv/tec")
    settings = Settings(database_url="sqlite://var/tec.sqlite3")
    assert settings.search.search_path == Path("/srv/index")
    assert settings.mail.mail_directory == Path("/srv/tec/mail")
    assert settings.security.signing_secret_file == Path("/srv/tec/signing-secret")
