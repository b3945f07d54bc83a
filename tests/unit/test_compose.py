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


LONG_RUNNING = {name for name, s in SERVICES.items() if s.get("restart", COMPOSE["x-app"]["restart"]) != "no"}


def test_every_long_running_service_has_a_health_check_and_a_restart_policy():
    assert {
        "postgres",
        "redis",
        "redis-cache",
        "rabbitmq",
        "web",
        "worker",
        "relay",
        "webhooks",
        "kafka",
        "stream",
        "flower",
    } == LONG_RUNNING
    for name in LONG_RUNNING:
        service = SERVICES[name]
        assert service.get("healthcheck", {}).get("test"), name
        assert service.get("restart", COMPOSE["x-app"]["restart"]) == "unless-stopped", name


def test_dependencies_wait_for_health_or_completion():
    for name, service in SERVICES.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), (name, "depends_on without conditions")
        for dependency, rule in depends.items():
            expected = (
                "service_completed_successfully" if dependency in {"migrate", "rabbitmq-setup"} else "service_healthy"
            )
            assert rule == {"condition": expected}, (name, dependency, rule)


def test_rabbitmq_keeps_its_node_name_and_data_is_in_named_volumes():
    assert SERVICES["rabbitmq"]["hostname"] == "rabbitmq"
    for name in ("postgres", "rabbitmq"):
        mounts = SERVICES[name]["volumes"]
        named = [mount for mount in mounts if not str(mount).startswith(".")]
        assert named and all(mount.split(":")[0] in COMPOSE["volumes"] for mount in named), (name, mounts)


def seconds(value: str) -> int:
    assert value.endswith("s"), value
    return int(value[:-1])


def test_stop_grace_periods_outlast_the_apps_own_shutdown():
    # Celery's hard task limit (celeryconfig: 90 s), gunicorn's graceful_timeout (20 s).
    assert seconds(SERVICES["worker"]["stop_grace_period"]) > 90
    assert seconds(SERVICES["web"]["stop_grace_period"]) > 20


def test_workers_scale_without_a_fixed_name_or_port():
    worker = SERVICES["worker"]
    assert "container_name" not in worker and "ports" not in worker and "hostname" not in worker
    assert "%h" in command_text(worker)  # each replica's node name from its own hostname


def test_the_env_example_names_every_variable_compose_requires_and_holds_no_secret():
    root = Path(__file__).resolve().parents[2]
    required = set(re.findall(r"\$\{([A-Z_]+):\?", (root / "docker-compose.yml").read_text()))
    example = dict(
        line.split("=", 1)
        for line in (root / ".env.example").read_text().splitlines()
        if "=" in line and line[0] != "#"
    )
    assert required <= set(example), required - set(example)
    assert all(value in ("", "admin:", "json") for value in example.values()), example


def test_make_env_fills_every_password_once(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    target = tmp_path / ".env"
    command = [sys.executable, root / "deploy" / "make_env.py", root / ".env.example", target]
    subprocess.run(command, check=True, capture_output=True, timeout=30)
    values = dict(line.split("=", 1) for line in target.read_text().splitlines() if "=" in line and line[0] != "#")
    passwords = [value for name, value in values.items() if name.endswith("PASSWORD")]
    assert len(passwords) == 8 and len(set(passwords)) == 8 and all(len(p) == 48 for p in passwords)
    assert re.fullmatch(r"admin:[0-9a-f]{48}", values["FLOWER_BASIC_AUTH"])
    assert target.stat().st_mode & 0o777 == 0o600
    first = target.read_text()
    subprocess.run(command, check=True, capture_output=True, timeout=30)
    assert target.read_text() == first  # an existing .env is kept
