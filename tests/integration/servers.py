"""Stop, pause and restart the real servers from a test (scripts/services.sh)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.integration.stack import ROOT

SERVICES = str(ROOT / "scripts" / "services.sh")


def pgbouncer_pid_file() -> Path:
    """Where services.sh keeps PgBouncer's pid: beside PostgreSQL's files,
    wherever those are (.local/postgres may link outside the checkout)."""
    return (ROOT / ".local" / "postgres").resolve().parent / "pgbouncer" / "pgbouncer.pid"


def services(*args: str, timeout: float = 120) -> str:
    result = subprocess.run([SERVICES, *args], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result.stdout


@contextmanager
def stopped(server: str) -> Iterator[None]:
    """The server is stopped inside the block and started again after it."""
    services("stop", server)
    try:
        yield
    finally:
        services("start")


@contextmanager
def rabbitmq_app_stopped() -> Iterator[None]:
    """The broker refuses connections (the Erlang node stays up: faster to restore)."""
    services("rabbitmqctl", "stop_app")
    try:
        yield
    finally:
        # RabbitMQ 3.10's start_app right after a stop_app once failed here
        # (its prelaunch found mnesia still running) and left the node up
        # without its app: try again, then restart the node.
        for _ in range(3):
            result = subprocess.run([SERVICES, "rabbitmqctl", "start_app"], capture_output=True, text=True, timeout=120)
            if result.returncode == 0:
                break
            time.sleep(2)
        else:
            services("stop", "rabbitmq")
            services("start")


def redis_admin(server: str = "state") -> redis.Redis:
    """A Redis server (state: counters and markers; cache: orders) as its
    admin user (the app's user may not pause or flush)."""
    url = os.environ["REDIS_CACHE_ADMIN_URL" if server == "cache" else "REDIS_ADMIN_URL"]
    return redis.Redis.from_url(url, socket_timeout=10)


@contextmanager
def redis_hung(seconds: int) -> Iterator[None]:
    """Both Redis servers accept connections but answer nothing (CLIENT PAUSE)."""
    admins = [redis_admin("state"), redis_admin("cache")]
    for admin in admins:
        admin.client_pause(seconds * 1000, all=True)
    try:
        yield
    finally:
        for admin in admins:
            admin.client_unpause()
