"""docker-compose.yml's promises that can be read from the file itself (this
machine has no Docker engine; the scripts it runs are tested against real
servers in tests/integration/test_deploy_scripts.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]


def command_text(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def test_every_image_is_pinned_to_an_exact_version():
    images = {name: s["image"] for name, s in SERVICES.items() if "image" in s}
    assert images, "no images found"
    for name, image in images.items():
        assert re.fullmatch(r"[a-z0-9/.-]+:\d+\.\d+(\.\d+)?(-[a-z]+)?", image), (name, image)
    # The versions the tests run against here (Debian 12's packages).
    assert images["rabbitmq"] == "rabbitmq:3.10.8-management"
    assert images["redis"] == images["redis-cache"] == "redis:7.0.15"
    assert images["postgres"].startswith("postgres:15.")


def test_only_the_api_and_flower_are_published_and_on_loopback():
    published = {name: s["ports"] for name, s in SERVICES.items() if s.get("ports")}
    assert set(published) == {"web", "flower"}, published
    for ports in published.values():
        assert all(str(port).startswith("127.0.0.1:") for port in ports), ports


def test_no_password_is_interpolated_into_a_command_line():
    for name, service in SERVICES.items():
        text = command_text(service)
        # ${VAR} is expanded by compose into the argument list; $$VAR reaches
        # the container's shell, which expands it inside a builtin (printf).
        assert "${" not in text, (name, text)
        assert not re.search(r"--(pass|password|basic-auth)\b", text), (name, text)
        healthcheck = " ".join(service.get("healthcheck", {}).get("test", []))
        assert "${" not in healthcheck and "--pass" not in healthcheck, (name, healthcheck)


def test_flower_login_is_given_to_flower_only():
    holders = [name for name, s in SERVICES.items() if "FLOWER_BASIC_AUTH" in (s.get("environment") or {})]
    assert holders == ["flower"]


def test_no_default_or_administrator_credentials_reach_the_app():
    postgres = SERVICES["postgres"]["environment"]
    # The image's superuser is not the role that owns the schema or runs the app.
    assert postgres["POSTGRES_USER"] == "postgres"
    app_env = COMPOSE["x-env"]
    assert app_env["DATABASE_URL"].startswith("postgresql+psycopg://orderly:")
    # RabbitMQ's default (administrator) user is the operators', not the app's.
    assert SERVICES["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_USER"] != "orderly"
    assert app_env["BROKER_URL"].startswith("amqp://orderly:")
    # Redis asks for a password: the default user is off, the app has its own.
    for name in ("redis", "redis-cache"):
        assert "user default off" in command_text(SERVICES[name])
    assert app_env["REDIS_URL"].startswith("redis://orderly:")
    assert app_env["CACHE_REDIS_URL"].startswith("redis://orderly:")


def test_counters_are_never_evicted_and_the_cache_evicts_only_entries_with_a_ttl():
    assert SERVICES["redis"]["environment"]["REDIS_POLICY"] == "noeviction"
    assert SERVICES["redis-cache"]["environment"]["REDIS_POLICY"] == "volatile-lru"
    assert "maxmemory-policy $$REDIS_POLICY" in command_text(SERVICES["redis-cache"])
    assert COMPOSE["x-env"]["CACHE_REDIS_URL"].split("@")[1].startswith("redis-cache:")
