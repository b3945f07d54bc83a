"""Stop, pause and restart the real servers from a test (scripts/services.sh)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

from config import Settings
from tests.integration.stack import ROOT

SERVICES = str(ROOT / "scripts" / "services.sh")


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
        services("rabbitmqctl", "start_app")


@contextmanager
def redis_hung(settings: Settings, seconds: int) -> Iterator[None]:
    """Redis accepts connections but answers nothing (CLIENT PAUSE)."""
    port = str(urlparse(settings.redis_url).port)
    subprocess.run(["redis-cli", "-p", port, "client", "pause", str(seconds * 1000), "ALL"], check=True, timeout=10)
    try:
        yield
    finally:
        subprocess.run(["redis-cli", "-p", port, "client", "unpause"], capture_output=True, timeout=10)
