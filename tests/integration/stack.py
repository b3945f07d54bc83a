"""Start and stop the API (gunicorn) and a Celery worker for the tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

import config

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOGS = ROOT / ".local" / "test-logs"


@dataclass
class Running:
    url: str
    api: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    relay: subprocess.Popen[bytes]


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a test process: every URL points at the test servers.

    BROKER_URL is set explicitly because the celery CLI reads it on its own.
    The load tests send far more than a client would: the rate limit and the
    failed-authentication throttle (every test client is 127.0.0.1) are lifted
    unless a test sets them (test_limits.py, test_security_probes.py do).
    """
    settings = config.Settings.from_env(testing=True)
    urls = {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
            "CACHE_REDIS_URL": settings.cache_redis_url, "BROKER_URL": settings.broker_url}  # fmt: skip
    unlimited = {"RATE_LIMIT_PER_KEY": "1000000/minute", "FAILED_AUTH_LIMIT": "1000000"}
    return {**os.environ, "ORDERLY_TESTING": "1", **unlimited, **urls, **extra}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_api(port: int, workers: int = 2, **env: str) -> subprocess.Popen[bytes]:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise RuntimeError(f"port {port} is taken: is an old test API still running? (ORDERLY_TEST_API_PORT)")
    LOGS.mkdir(parents=True, exist_ok=True)
    settings = process_env(API_HOST="127.0.0.1", API_PORT=str(port), WEB_CONCURRENCY=str(workers), **env)
    log = open(LOGS / f"api-{port}.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [BIN / "gunicorn", "--config", "gunicorn.conf.py", "web:create_app()"],
        cwd=ROOT,
        env=settings,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def start_worker(name: str = "w1", concurrency: int = 2) -> subprocess.Popen[bytes]:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = open(LOGS / f"worker-{name}.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [
            BIN / "celery",
            "-A",
            "workers",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(concurrency),
            "--hostname",
            f"{name}@orderly-test",
        ],
        cwd=ROOT,
        env=process_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def start_relay(name: str = "relay", **env: str) -> subprocess.Popen[bytes]:
    """The relay, impatient: jobs untouched for 2 s are published again."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = open(LOGS / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
    settings = {"RELAY_INTERVAL_SECONDS": "0.5", "RELAY_QUEUED_AFTER_SECONDS": "2", **env}
    return subprocess.Popen(
        [sys.executable, "-m", "workers.relay"],
        cwd=ROOT,
        env=process_env(**settings),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_ready(base_url: str, api: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and api.poll() is None:
        try:
            if requests.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API at {base_url} did not become ready within {timeout}s (see {LOGS})")


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
