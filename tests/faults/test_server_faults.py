"""RabbitMQ, PostgreSQL, PgBouncer and Redis fail while commands flow (faults 4-6
of the reliability issue): the API keeps answering clearly, nothing accepted is lost,
nothing is applied twice, and the cache holds nothing stale afterwards."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

from sqlalchemy import text

from tests.faults.harness import FaultStack
from tests.faults.load import Load
from tests.integration.servers import pgbouncer_pid_file, services
from tests.integration.stack import ROOT

# Both Redis servers: the counters' (state) and the order cache's.
REDIS_PID_FILES = (ROOT / ".local" / "redis" / "redis.pid", ROOT / ".local" / "redis-cache" / "redis.pid")


def test_rabbitmq_connections_closed_then_broker_restarted(scenario):
    def break_the_broker(system: FaultStack, load: Load, rng: random.Random) -> None:
        for _ in range(2):
            time.sleep(rng.uniform(2, 4))
            services("rabbitmqctl", "close_all_connections", "--global", "fault injection")
        time.sleep(2)
        services("stop", "rabbitmq")
        time.sleep(3)
        services("start")

    report = scenario.run("rabbitmqctl close_all_connections x2, then RabbitMQ stop/start", break_the_broker)
    # Commands accepted while the broker was down were delivered by the relay.
    assert report.republished > 0, report


def test_postgresql_backends_terminated_then_crashed_and_restarted(scenario, session_factory):
    def break_the_database(system: FaultStack, load: Load, rng: random.Random) -> None:
        for _ in range(3):
            time.sleep(rng.uniform(1.5, 3))
            with session_factory() as session:
                session.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                    {"name": "orderly-worker"},
                )
        time.sleep(2)
        os.environ["PG_STOP_MODE"] = "immediate"  # a crash: no checkpoint, recovery at start
        try:
            services("stop", "postgres")
        finally:
            del os.environ["PG_STOP_MODE"]
        time.sleep(3)
        services("start")

    scenario.run("PostgreSQL: worker backends terminated x3, then stop -m immediate and start", break_the_database)


def test_pgbouncer_killed_then_restarted(scenario):
    # Every app process reaches PostgreSQL through PgBouncer (scripts/services.sh):
    # its death drops every client connection at once, mid-transaction for some.
    def break_the_pooler(system: FaultStack, load: Load, rng: random.Random) -> None:
        for _ in range(2):
            time.sleep(rng.uniform(2, 4))
            os.kill(int(pgbouncer_pid_file().read_text().split()[0]), signal.SIGKILL)
            time.sleep(3)
            services("start", "pgbouncer")

    scenario.run("PgBouncer SIGKILLed and started again 3 s later, twice", break_the_pooler)


def _signal_redis(signum: int) -> None:
    for pid_file in REDIS_PID_FILES:
        os.kill(int(Path(pid_file).read_text().split()[0]), signum)


def test_redis_killed_then_hung_reads_stay_fast(scenario):
    def break_the_cache(system: FaultStack, load: Load, rng: random.Random) -> None:
        time.sleep(rng.uniform(2, 4))
        _signal_redis(signal.SIGKILL)
        time.sleep(3)
        services("start")
        time.sleep(rng.uniform(2, 4))
        _signal_redis(signal.SIGSTOP)
        try:
            time.sleep(5)
        finally:
            _signal_redis(signal.SIGCONT)

    report = scenario.run("Redis SIGKILLed and restarted, then SIGSTOPped 5 s", break_the_cache)
    # Reads fall back to PostgreSQL: one short timeout per Redis server and
    # API process (the users of each server share one guard), never a stall.
    # A guard per user (cache, rate limiter, tenant count) once made it 1.3 s.
    assert report.read_max_ms < 1000, report
