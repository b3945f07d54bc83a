"""The system under fault: the API, the relay and N Celery workers, started for
one test module on their own RabbitMQ vhost, with the workers reaching
PostgreSQL and RabbitMQ through fault proxies."""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from sqlalchemy.engine import make_url

import config
from infra.batch_sender import BatchSender
from infra.publisher import DirectPublisher
from tests.faults.proxy import FaultProxy
from tests.integration import stack

# Short enough that a frozen or partitioned worker is noticed within seconds
# (production uses 30 s; the mechanism is the same).
HEARTBEAT_SECONDS = 4
VHOST = "orderly_faults"
# Celery's INFO line for each message a worker takes from the broker.
RECEIVED_TASK = re.compile(r"Task [\w.]+\[([0-9a-f-]{36})\] received")


def _amqp_url(url: str, port: int | None = None) -> str:
    parsed = urlparse(url)
    netloc = parsed.netloc if port is None else f"{parsed.netloc.rsplit(':', 1)[0]}:{port}"
    return urlunparse(parsed._replace(netloc=netloc, path=f"/{VHOST}"))


def _database_url(url: str, port: int) -> str:
    return make_url(url).set(port=port).render_as_string(hide_password=False)


def pool_children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Celery's prefork pool children)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


class FaultStack:
    def __init__(self, workers: int = 2, concurrency: int = 2, worker_env: dict[str, str] | None = None) -> None:
        self.settings = config.Settings.from_env(testing=True)
        self.worker_count = workers
        self.concurrency = concurrency
        self.worker_env = worker_env or {}
        self.workers: dict[int, subprocess.Popen[bytes]] = {}
        self.killed: list[subprocess.Popen[bytes]] = []  # kept to reap orphans at the end
        self._generation = 0
        self._logs: dict[int, tuple[Path, int]] = {}  # each worker's log and where its current run starts
        broker_port = urlparse(self.settings.broker_url).port
        database_port = make_url(self.settings.database_url).port
        assert broker_port and database_port
        self.broker_proxy = FaultProxy(broker_port, "rabbitmq").start()
        self.database_proxy = FaultProxy(database_port, "postgres").start()
        self.port = stack.free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------ processes
    def _env(self, through_proxies: bool) -> dict[str, str]:
        broker = _amqp_url(self.settings.broker_url, self.broker_proxy.port if through_proxies else None)
        database = (
            _database_url(self.settings.database_url, self.database_proxy.port)
            if through_proxies
            else self.settings.database_url
        )
        return {
            "TEST_BROKER_URL": broker,
            "BROKER_URL": broker,
            "TEST_DATABASE_URL": database,
            "DATABASE_URL": database,
            "BROKER_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        }

    def start(self) -> FaultStack:
        self.api = stack.start_api(self.port, **self._env(through_proxies=False))
        # The relay as in production (every 1 s, queued jobs after 10 s), not the
        # impatient one of the integration tests.
        relay_settings = {"RELAY_INTERVAL_SECONDS": "1", "RELAY_QUEUED_AFTER_SECONDS": "10"}
        self.relay = stack.start_relay("relay-faults", **relay_settings, **self._env(through_proxies=False))
        for index in range(self.worker_count):
            self.start_worker(index)
        stack.wait_ready(self.url, self.api)
        return self

    def start_worker(self, index: int, **extra_env: str) -> subprocess.Popen[bytes]:
        self._generation += 1
        env = stack.process_env(**self._env(through_proxies=True), **{**self.worker_env, **extra_env})
        stack.LOGS.mkdir(parents=True, exist_ok=True)
        path = stack.LOGS / f"faults-worker-{index}.log"
        log = open(path, "ab")  # noqa: SIM115 - closed with the process
        self._logs[index] = (path, path.stat().st_size)
        self.workers[index] = subprocess.Popen(
            [
                Path(sys.executable).parent / "celery", "-A", "workers", "worker", "--loglevel", "INFO",
                "--concurrency", str(self.concurrency), "--hostname", f"f{index}-{self._generation}@orderly-faults",
                "--without-mingle", "--without-gossip",
            ],
            cwd=stack.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: freeze or kill it whole
        )  # fmt: skip
        return self.workers[index]

    def kill_pool_child(self, rng: random.Random) -> bool:
        """SIGKILL one pool child of a random worker; False if none was found."""
        for index in rng.sample(sorted(self.workers), len(self.workers)):
            children = pool_children(self.workers[index].pid)
            if children:
                os.kill(rng.choice(children), signal.SIGKILL)
                return True
        return False

    def kill_main_and_restart(self, index: int) -> None:
        """SIGKILL the worker's main process (its pool children are orphaned), start a new one."""
        worker = self.workers[index]
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        self.killed.append(worker)
        self.start_worker(index)

    def replace_worker(self, index: int, **extra_env: str) -> None:
        """Stop the worker gracefully and start it again with more settings."""
        stack.stop(self.workers[index])
        self.start_worker(index, **extra_env)

    def received_task_ids(self, index: int) -> set[str]:
        """The ids of the tasks the worker has received since its last start."""
        return set(self.received(index))

    def received(self, index: int) -> Counter[str]:
        """How often the worker has received each task (by id) since its last start."""
        return Counter(RECEIVED_TASK.findall(self.log(index)))

    def log(self, index: int) -> str:
        """What the worker has logged since its last start."""
        path, offset = self._logs[index]
        with open(path, "rb") as file:
            file.seek(offset)
            return file.read().decode(errors="replace")

    def publisher(self) -> DirectPublisher:
        """Publishes job messages to this stack's vhost, as the relay does."""
        settings = self.settings
        return DirectPublisher(BatchSender.for_broker(_amqp_url(settings.broker_url), settings.jobs_per_message))

    def wait_busy(self, index: int, timeout: float = 30) -> bool:
        """Wait until the worker (since its last start) has received a task."""
        return wait_until(lambda: bool(self.received_task_ids(index)), timeout)

    def freeze(self, index: int) -> None:
        os.killpg(self.workers[index].pid, signal.SIGSTOP)

    def thaw(self, index: int) -> None:
        os.killpg(self.workers[index].pid, signal.SIGCONT)

    def stop(self) -> None:
        for worker in self.workers.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGCONT)
        for process in [self.api, self.relay, *self.workers.values()]:
            stack.stop(process)
        for process in [*self.workers.values(), *self.killed]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # orphaned pool children
        self.broker_proxy.stop()
        self.database_proxy.stop()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
