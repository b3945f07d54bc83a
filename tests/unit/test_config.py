"""Settings: one typed object; a bad or missing value is named with what it
expects (never echoing a URL, which holds a password); README lists them all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import config

URLS = {"DATABASE_URL": "postgresql+psycopg://u:secret-pw@h/db", "REDIS_URL": "redis://h/0", "BROKER_URL": "amqp://h//"}


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """Only what a test sets: no local env file, no inherited settings."""
    monkeypatch.setattr(config, "ENV_FILE", tmp_path / "none.env")
    for name in config.Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(f"TEST_{name.upper()}", raising=False)
    for name, value in URLS.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_defaults_and_derived_urls(environment):
    settings = config.Settings.from_env()
    assert (settings.web_concurrency, settings.log_format, settings.api_metrics_port) == (2, "text", 9101)
    assert settings.cache_redis_url == URLS["REDIS_URL"]
    assert settings.migration_database_url == URLS["DATABASE_URL"]
    assert "secret-pw" not in repr(settings)


def test_a_bad_value_names_the_variable_and_what_it_expects(environment):
    environment.setenv("WEB_CONCURRENCY", "two")
    environment.setenv("LOG_FORMAT", "xml")
    with pytest.raises(config.ConfigError) as error:
        config.Settings.from_env()
    message = str(error.value)
    assert "WEB_CONCURRENCY: Input should be a valid integer" in message and "'two'" in message
    assert "LOG_FORMAT: Input should be 'text' or 'json'" in message


def test_a_missing_url_is_named_and_never_echoed(environment):
    environment.delenv("BROKER_URL")
    with pytest.raises(config.ConfigError, match=r"^BROKER_URL is not set: export it") as error:
        config.Settings.from_env()
    assert "secret-pw" not in str(error.value)


def test_test_runs_take_the_test_urls(environment):
    environment.setenv("TEST_DATABASE_URL", "postgresql+psycopg://u:p@h/test")
    environment.setenv("TEST_REDIS_URL", "redis://h/1")
    settings = config.Settings.from_env(testing=True)
    assert (settings.database_url, settings.redis_url) == ("postgresql+psycopg://u:p@h/test", "redis://h/1")


def test_readme_lists_every_setting_with_its_default():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    listed = dict(re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", readme, re.M))
    for name, field in config.Settings.model_fields.items():
        assert name.upper() in listed, name
        default = field.default
        if not field.is_required() and default not in ("", None):
            shown = str(default).lower() if isinstance(default, bool) else str(default)
            assert listed[name.upper()].strip() == f"`{shown}`", name
