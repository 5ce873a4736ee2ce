"""Settings come from the environment and are validated; production refuses unsafe values."""

import pytest
from django.conf import settings

from .conftest import PRODUCTION_ENV, manage


def test_check_deploy_reports_no_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_refuses_to_start_with_the_development_key():
    result = manage("check", **(PRODUCTION_ENV | {"SECRET_KEY": settings.DEVELOPMENT_SECRET_KEY}))
    assert result.returncode != 0
    assert "SECRET_KEY is the public development key" in result.stderr


def test_development_runs_without_a_key():
    result = manage("check", DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_bad_boolean_names_the_variable():
    result = manage("check", **(PRODUCTION_ENV | {"DEBUG": "perhaps"}))
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_other_databases_are_refused():
    result = manage("check", **(PRODUCTION_ENV | {"DATABASE_URL": "mysql://root@127.0.0.1/test"}))
    assert result.returncode != 0
    assert "DATABASE_URL must point to SQLite or PostgreSQL" in result.stderr


def test_locale_and_time_zone():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans", "en"]
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True


def test_an_upload_awaiting_confirmation_is_kept_in_the_database_whatever_the_cache():
    """Every instance reaches the database and it evicts nothing: an LRU cache (the compose file's
    Redis) could drop a kept file between the preview and its confirmation."""
    code = "from django.conf import settings; print(settings.IMPORT_EXPORT_TMP_STORAGE_CLASS, settings.IMPORT_KEPT_HOURS)"
    for cache_url in ("redis://127.0.0.1:6379/0", "locmemcache://here"):
        result = manage("shell", "-c", code, DEBUG="1", CACHE_URL=cache_url)
        assert result.stdout.split()[-2:] == ["counties.writes.imports.kept.DatabaseStorage", "24"], result.stderr


def test_the_age_of_a_kept_import_file_must_be_positive():
    result = manage("check", DEBUG="1", IMPORT_KEPT_HOURS="0")
    assert result.returncode != 0
    assert "IMPORT_KEPT_HOURS must be a positive number, got 0" in result.stderr


@pytest.mark.parametrize("value", ["0", "-3", "a year"])
def test_the_change_feeds_kept_days_must_be_a_positive_number(value):
    result = manage("check", DEBUG="1", CHANGE_FEED_KEPT_DAYS=value)
    assert result.returncode != 0
    assert "CHANGE_FEED_KEPT_DAYS must be" in result.stderr
