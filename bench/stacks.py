"""Start Orderly as `make run` ships it, and the bare pipeline, for the benchmark."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import kombu
import requests
import sqlalchemy as sa
from dotenv import dotenv_values

import config
from tests.integration import stack
from tests.integration.servers import pgbouncer_pid_file

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# For the run only: a benchmark sends far more than one client may.
UNLIMITED = {"RATE_LIMIT_PER_KEY": "100000000/minute", "TENANT_MAX_UNFINISHED_JOBS": "100000000",
             "MAX_WAITS_PER_KEY": "100000"}  # fmt: skip
# No recycling of API processes during the run, so that a leak shows in RSS
# and CPU is not lost with a recycled process.
NO_RECYCLING = {"GUNICORN_MAX_REQUESTS": "0"}
# As `make run` logs (the test stack logs JSON); metrics are recorded either way.
AS_SHIPPED_LOGS = {"LOG_FORMAT": "text"}
# The relay exactly as shipped (tests/integration/stack.py makes it impatient).
PRODUCTION_RELAY = {"RELAY_INTERVAL_SECONDS": "1", "RELAY_QUEUED_AFTER_SECONDS": "10"}


@dataclass
class Stack:
    name: str
    url: str
    flask_url: str = ""  # the bare Flask JSON floor (bare stack only)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def pids(self) -> dict[str, list[int]]:
        return {f"{self.name}-{role}": [p.pid] for role, p in self.processes.items()}

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)  # a paused one (Flower) must run to exit
            stack.stop(process)


def _log(name: str) -> BinaryIO:
    """An append-only log file, closed with the process it is given to."""
    stack.LOGS.mkdir(parents=True, exist_ok=True)
    return open(stack.LOGS / f"bench-{name}.log", "ab")


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s (logs in {stack.LOGS})")


def start_orderly(port: int, flower_port: int, extra: dict[str, str] | None = None) -> Stack:
    """API, worker, relay, webhook sender, stream publisher and Flower: the
    processes and settings of `make run` (Procfile), but for the caps in
    UNLIMITED, and `extra` settings (a sweep's). Not supervisord: it only
    starts and restarts them."""
    extra = extra or {}
    orderly = Stack("orderly", f"http://127.0.0.1:{port}")
    orderly.processes["api"] = stack.start_api(
        port, workers=int(_gunicorn_setting("workers")), **UNLIMITED, **NO_RECYCLING, **AS_SHIPPED_LOGS, **extra
    )
    orderly.processes["worker"] = stack.start_worker("bench", **AS_SHIPPED_LOGS, **extra)
    orderly.processes["relay"] = stack.start_relay("bench-relay", **PRODUCTION_RELAY, **AS_SHIPPED_LOGS, **extra)
    orderly.processes["webhooks"] = stack.start_webhook_sender(
        "bench-webhooks", **shipped("webhook_poll_seconds", "webhook_retry_base_seconds", "webhook_timeout_seconds",
                                    "webhook_lease_seconds"), **AS_SHIPPED_LOGS, **extra,
    )  # fmt: skip
    orderly.processes["stream"] = stack.start_stream_publisher(
        "bench-stream", **shipped("stream_poll_seconds"), **AS_SHIPPED_LOGS, **extra,
    )  # fmt: skip
    env = stack.process_env()
    orderly.processes["flower"] = subprocess.Popen(
        [BIN / "celery", "-A", "workers", "flower", "--address=127.0.0.1", f"--port={flower_port}"],
        cwd=ROOT, env=env, stdout=_log("flower"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_http(f"{orderly.url}/readyz", orderly.processes["api"])
    return orderly


def start_capped_api(port: int) -> subprocess.Popen[bytes]:
    """A second API process set with the caps as shipped, but for the rate
    limit, raised as a user who benchmarks one key would (issue 18): the
    tenant's cap on unfinished jobs and the bound on waits are the defaults."""
    process = stack.start_api(
        port, workers=int(_gunicorn_setting("workers")), RATE_LIMIT_PER_KEY=UNLIMITED["RATE_LIMIT_PER_KEY"],
        **NO_RECYCLING, **AS_SHIPPED_LOGS,
    )  # fmt: skip
    wait_http(f"http://127.0.0.1:{port}/readyz", process)
    return process


def shipped(*fields: str) -> dict[str, str]:
    """These settings at their defaults (the test stack makes them quick)."""
    return {field.upper(): str(config.Settings.model_fields[field].default) for field in fields}


def _gunicorn_setting(name: str) -> str:
    settings: dict[str, object] = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), settings)
    return str(settings[name])


def bare_broker_url() -> str:
    """The test broker's vhost orderly_bench (scripts/services.sh): there,
    Orderly's Flower, which turns on the events of every worker it can
    reach, cannot reach the bare worker."""
    url = config.Settings.from_env(testing=True).broker_url
    return url.rsplit("/", 1)[0] + "/orderly_bench"


def direct_database_url() -> str:
    """The app role's URL, but to PostgreSQL itself rather than through
    PgBouncer: the bare pipeline has no pooler (and prepares statements,
    which a transaction pooler would break). PostgreSQL's host and port are
    the migrations' (admin.env), which never go through PgBouncer."""
    app = sa.make_url(config.Settings.from_env(testing=True).database_url)
    owner = sa.make_url(str(dotenv_values(ROOT / ".local" / "admin.env")["TEST_MIGRATION_DATABASE_URL"]))
    direct = app.set(drivername="postgresql", host=owner.host, port=owner.port)
    return direct.render_as_string(hide_password=False)


def bare_env() -> dict[str, str]:
    settings = config.Settings.from_env(testing=True)
    return {
        **stack.process_env(),
        "BARE_DATABASE_URL": direct_database_url(),
        "BARE_REDIS_URL": settings.redis_url,
        "BARE_BROKER_URL": bare_broker_url(),
        "BROKER_URL": bare_broker_url(),  # the celery CLI reads it and prefers it to the app's own
    }


def purge_bare_queue() -> None:
    """Messages an interrupted run left behind would be consumed in the first phase."""
    connection = kombu.Connection(bare_broker_url())
    with connection, contextlib.suppress(*connection.channel_errors):  # not declared yet: a first run
        connection.default_channel.queue_purge("bare.commands")


def create_bare_tables() -> None:
    """As the schema owner; the app's role gets row rights by default privileges."""
    from bench.bare.db import SCHEMA

    # The owner's URL from the admin file, never put into the environment the
    # benchmark's processes inherit.
    admin = dotenv_values(ROOT / ".local" / "admin.env")
    engine = sa.create_engine(str(admin["TEST_MIGRATION_DATABASE_URL"]))
    with engine.begin() as conn:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(sa.text(statement))
        conn.execute(sa.text("TRUNCATE bare_orders, bare_jobs"))
    engine.dispose()


# The bare pipeline's server, as issue 8 defines it: gunicorn gthread, 2
# processes x 4 threads, gunicorn's default keep-alive (its per-thread
# database connections do not suit gevent).
BARE_PIPELINE_SERVER = ["--worker-class", "gthread", "--workers", "2", "--threads", "4", "--keep-alive", "2"]


def start_bare(port: int, flower_port: int) -> Stack:
    """The bare pipeline (gthread 2 x 4) and a prefork worker of the same size
    as Orderly's; the bare Flask JSON endpoint under Orderly's own gunicorn
    settings, on the next port; a Flower watching the bare worker, which the
    benchmark keeps paused (and the worker's task events off) but for the
    phases of the bare pipeline as Celery is usually deployed."""
    create_bare_tables()
    purge_bare_queue()
    bare = Stack("bare", f"http://127.0.0.1:{port}", flask_url=f"http://127.0.0.1:{port + 2}")
    env = {**bare_env(), **NO_RECYCLING, "API_HOST": "127.0.0.1", "API_PORT": str(port)}
    bare.processes["api"] = subprocess.Popen(
        [BIN / "gunicorn", "--config", "gunicorn.conf.py", *BARE_PIPELINE_SERVER, "--access-logfile", "/dev/null",
         "bench.bare.app:app"],
        cwd=ROOT, env=env, stdout=_log("bare-api"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    bare.processes["flask"] = subprocess.Popen(
        [BIN / "gunicorn", "--config", "gunicorn.conf.py", "--access-logfile", "/dev/null", "bench.bare.app:app"],
        cwd=ROOT, env={**env, "API_PORT": str(port + 2)}, stdout=_log("bare-flask"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    bare.processes["worker"] = subprocess.Popen(
        [BIN / "celery", "-A", "bench.bare.worker", "worker", "--loglevel", "WARNING", "--concurrency", "2",
         "-Q", "bare.commands,bare.noop", "--hostname", "bare@bench"],
        cwd=ROOT, env=env, stdout=_log("bare-worker"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    bare.processes["flower"] = subprocess.Popen(
        # Not Flower's periodic enable_events: it would turn the bare worker's
        # events on for every phase; the benchmark turns them on and off itself.
        [BIN / "celery", "-A", "bench.bare.worker", "flower", "--address=127.0.0.1", f"--port={flower_port}",
         "--enable_events=False"],
        cwd=ROOT, env=env, stdout=_log("bare-flower"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_http(f"{bare.url}/ping", bare.processes["api"])
    wait_http(f"{bare.flask_url}/ping", bare.processes["flask"])
    return bare


def server_pids() -> dict[str, list[int]]:
    """PostgreSQL, PgBouncer, RabbitMQ, both Redis servers and Kafka of the local stack (scripts/services.sh)."""
    local = ROOT / ".local"
    found: dict[str, list[int]] = {}
    for name, pidfile in (
        ("postgresql", local / "postgres" / "data" / "postmaster.pid"),
        ("pgbouncer", pgbouncer_pid_file()),
        ("rabbitmq", local / "rabbitmq" / "rabbitmq.pid"),
        ("redis", local / "redis" / "redis.pid"),
        ("redis", local / "redis-cache" / "redis.pid"),  # the order cache's own server
        ("kafka", local / "kafka" / "kafka.pid"),  # the stream's broker (a JVM on the same cores)
    ):
        if pidfile.is_file():
            found.setdefault(name, []).append(int(pidfile.read_text().split()[0]))
    return found
