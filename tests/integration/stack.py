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
    metrics: dict[str, str]  # component -> the URL of its exporter


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
    # JSON lines, as in production (docker-compose): test_correlation.py reads them.
    logging = {"LOG_FORMAT": "json"}
    # Metrics are recorded, but only the session's stack serves them (on ports
    # of its own, conftest.py): the many APIs the tests start would collide.
    no_exporters = {
        "API_METRICS_PORT": "0", "WORKER_METRICS_PORT": "0", "RELAY_METRICS_PORT": "0", "WEBHOOKS_METRICS_PORT": "0",
        "STREAM_METRICS_PORT": "0",
    }  # fmt: skip
    # Test receivers listen on 127.0.0.1 with plain http (honoured in test mode only).
    webhooks = {"WEBHOOK_ALLOW_HTTP": "1"}
    return {**os.environ, "ORDERLY_TESTING": "1", **logging, **no_exporters, **unlimited, **webhooks, **urls, **extra}


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


# Pool processes of the tests' worker.
WORKER_CONCURRENCY = 2


def start_worker(name: str = "w1", concurrency: int = WORKER_CONCURRENCY, **env: str) -> subprocess.Popen[bytes]:
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
        env=process_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def start_relay(name: str = "relay", **env: str) -> subprocess.Popen[bytes]:
    """The relay, impatient: jobs untouched for 2 s are published again."""
    settings = {"RELAY_INTERVAL_SECONDS": "0.5", "RELAY_QUEUED_AFTER_SECONDS": "2", **env}
    return _start_module("workers.relay", name, settings)


def start_webhook_sender(name: str = "webhooks", **env: str) -> subprocess.Popen[bytes]:
    """The webhook sender, quick: polls every 0.1 s, retries after 0.5 s, 1 s..."""
    settings = {"WEBHOOK_POLL_SECONDS": "0.1", "WEBHOOK_RETRY_BASE_SECONDS": "0.5", "WEBHOOK_TIMEOUT_SECONDS": "1",
                "WEBHOOK_LEASE_SECONDS": "3", **env}  # fmt: skip
    return _start_module("workers.webhook_sender", name, settings)


def start_stream_publisher(name: str = "stream", **env: str) -> subprocess.Popen[bytes]:
    """The Kafka stream publisher, polling every 0.1 s."""
    return _start_module("workers.stream_publisher", name, {"STREAM_POLL_SECONDS": "0.1", **env})


def _start_module(module: str, name: str, settings: dict[str, str]) -> subprocess.Popen[bytes]:
    """`python -m module` in the test environment, its output in .local/test-logs/<name>.log."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = open(LOGS / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", module], cwd=ROOT, env=process_env(**settings), stdout=log, stderr=subprocess.STDOUT
    )


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Until `url` answers 200 (bounded), while `process` lives."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s (see {LOGS})")


def wait_ready(base_url: str, api: subprocess.Popen[bytes], timeout: float = 60) -> None:
    wait_http(f"{base_url}/readyz", api, timeout)


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@dataclass
class Supervised:
    """The Procfile's processes under supervisord, as `make run` starts them."""

    conf: Path
    supervisord: subprocess.Popen[bytes]
    api_url: str
    flower_url: str
    log: Path

    def pid(self, program: str) -> int:
        out = subprocess.run([BIN / "supervisorctl", "-c", self.conf, "pid", program],
                             capture_output=True, text=True, timeout=30).stdout  # fmt: skip
        return int(out.strip()) if out.strip().isdigit() else 0

    def status(self) -> str:
        command = [BIN / "supervisorctl", "-c", self.conf, "status"]
        return subprocess.run(command, capture_output=True, text=True, timeout=30).stdout


def start_supervised(state: Path, wrap: list[str] | None = None, timeout: float = 120) -> Supervised:
    """Generate the configuration as scripts/run.sh does and start supervisord
    (under `wrap`, strace say) with the test servers' URLs; wait until the
    API and Flower answer."""
    api_port, flower_port = free_port(), free_port()
    env = process_env(VENV_BIN=str(BIN), API_PORT=str(api_port), FLOWER_PORT=str(flower_port))
    conf = state / "supervisord.conf"
    generated = subprocess.run([BIN / "python", ROOT / "scripts" / "supervisord_conf.py", ROOT / "Procfile", state],
                               env=env, capture_output=True, text=True, check=True)  # fmt: skip
    conf.touch(mode=0o600)
    conf.write_text(generated.stdout)
    log = state / "supervisord.log"
    with open(log, "ab") as out:
        command = [*(wrap or []), str(BIN / "supervisord"), "--configuration", str(conf)]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)
    supervised = Supervised(conf, process, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{flower_port}", log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            api = requests.get(f"{supervised.api_url}/healthz", timeout=10).status_code
            flower = requests.get(supervised.flower_url, timeout=10).status_code
            if (api, flower) == (200, 401):
                return supervised
        except requests.RequestException:
            pass  # not up yet
        time.sleep(0.5)
    stop_supervised(supervised)
    raise RuntimeError(f"the supervised stack did not start (see {log})")


def stop_supervised(supervised: Supervised, timeout: float = 150) -> None:
    """Ctrl-C, as a terminal sends it: SIGINT to the foreground process group
    (supervisord, and strace when it wraps it; supervisord's programs run in
    groups of their own)."""
    if supervised.supervisord.poll() is None:
        os.killpg(supervised.supervisord.pid, signal.SIGINT)
        supervised.supervisord.wait(timeout)
