"""A bounded load of order commands, sent over HTTP from several threads while
faults are injected, with every request and answer recorded.

Each client thread creates an order, waits until it exists, then fires a short
sequence of commands at it without waiting, and reads it back. Every command
carries an Idempotency-Key and is retried with that same key when the API does
not answer or answers 502/503/504, as a careful client would. Now and then a
create is sent five times at once with one key (a client racing itself).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.integration.client import ORDER

SEQUENCES = [
    ["pay", "ship", "deliver"],
    ["pay", "ship", "deliver", "delete"],
    ["pay", "cancel"],
    ["cancel", "delete"],
    ["ship"],  # invalid from pending: the job fails with invalid_transition
    ["pay", "pay"],  # the second fails
]
RETRYABLE = (502, 503, 504)
MAX_ATTEMPTS = 12
CONCURRENT_DUPLICATES = 5


@dataclass
class Command:
    """One logical command and what the API answered to each attempt."""

    key: str
    path: str
    answers: list[int | None] = field(default_factory=list)  # None: no answer (connection error, timeout)
    job_ids: set[str] = field(default_factory=set)  # from 202 answers

    @property
    def accepted(self) -> bool:
        return 202 in self.answers


def _session(api_key: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api_key}"
    return session


@dataclass
class Load:
    base_url: str
    api_keys: list[str]  # one per tenant; client threads take turns
    commands: int  # stop once this many were accepted
    threads: int = 8
    seed: int = 1
    duplicate_rate: float = 0.05
    max_seconds: float = 240
    sent: list[Command] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    read_latencies: list[float] = field(default_factory=list)
    order_ids: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._accepted = 0
        self._workers = [
            threading.Thread(target=self._client_loop, args=(i,), name=f"load-{i}", daemon=True)
            for i in range(self.threads)
        ]

    # ------------------------------------------------------------ control
    def start(self) -> Load:
        self.started = time.monotonic()
        for thread in self._workers:
            thread.start()
        return self

    @property
    def accepted(self) -> int:
        with self._lock:
            return self._accepted

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._workers)

    def join(self) -> None:
        deadline = self.started + self.max_seconds + 30
        for thread in self._workers:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._stop.set()
        assert not self.running, "load threads did not stop"

    def accepted_job_ids(self) -> set[str]:
        return {job_id for command in self.sent for job_id in command.job_ids}

    # ------------------------------------------------------------ client threads
    def _done(self) -> bool:
        return (
            self._stop.is_set() or self.accepted >= self.commands or time.monotonic() - self.started > self.max_seconds
        )

    def _client_loop(self, index: int) -> None:
        rng = random.Random(self.seed * 1000 + index)
        api_key = self.api_keys[index % len(self.api_keys)]
        http = _session(api_key)
        while not self._done():
            if rng.random() < self.duplicate_rate:
                job = self._send_concurrently(api_key, "/api/v1/orders", ORDER)
            else:
                job = self._send(http, "/api/v1/orders", ORDER)
            if job is None or not self._wait_created(http, job):
                continue
            order_id = job["order_id"]
            with self._lock:
                self.order_ids.add(order_id)
            for command in rng.choice(SEQUENCES):
                if self._done():
                    break
                if command == "delete":
                    self._send(http, f"/api/v1/orders/{order_id}", None, method="DELETE")
                else:
                    self._send(http, f"/api/v1/orders/{order_id}/commands", {"command": command})
            self._read(http, order_id)

    def _send(
        self,
        http: requests.Session,
        path: str,
        body: dict[str, Any] | None,
        key: str | None = None,
        method: str = "POST",
    ) -> dict[str, Any] | None:
        """Send one logical command, retrying with the same key; the job if accepted."""
        command = Command(key=key or str(uuid.uuid4()), path=path)
        with self._lock:
            self.sent.append(command)
        job = None
        for attempt in range(MAX_ATTEMPTS):
            try:
                response = http.request(
                    method, f"{self.base_url}{path}", json=body, headers={"Idempotency-Key": command.key}, timeout=15
                )
            except requests.RequestException:
                command.answers.append(None)
            else:
                command.answers.append(response.status_code)
                if response.status_code == 202:
                    job = response.json()
                    command.job_ids.add(job["id"])
                    with self._lock:
                        self._accepted += 1
                    return job
                if response.status_code not in RETRYABLE:
                    self._unexpected(f"{method} {path}: {response.status_code} {response.text[:200]}")
                    return None
            time.sleep(min(2.0, 0.1 * 2**attempt))
        return job

    def _send_concurrently(self, api_key: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """The same request, same key, five times at once: one job for all."""
        key = str(uuid.uuid4())
        sessions = [_session(api_key) for _ in range(CONCURRENT_DUPLICATES)]
        with ThreadPoolExecutor(CONCURRENT_DUPLICATES) as pool:
            jobs = list(pool.map(lambda http: self._send(http, path, body, key), sessions))
        answered = {job["id"] for job in jobs if job is not None}
        if len(answered) > 1:
            self._unexpected(f"key {key}: {len(answered)} different jobs for one key")
        with self._lock:
            self._accepted -= sum(job is not None for job in jobs) - bool(answered)  # one command, not five
        return next((job for job in jobs if job is not None), None)

    def _wait_created(self, http: requests.Session, job: dict[str, Any]) -> bool:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not self._stop.is_set():
            try:
                response = http.get(f"{self.base_url}/api/v1/jobs/{job['id']}", timeout=15)
            except requests.RequestException:
                time.sleep(0.2)
                continue
            if response.status_code == 200 and response.json()["status"] in ("succeeded", "failed"):
                return bool(response.json()["status"] == "succeeded")
            if response.status_code not in (200, *RETRYABLE):
                self._unexpected(f"GET job: {response.status_code} {response.text[:200]}")
                return False
            time.sleep(0.05)
        return False

    def _read(self, http: requests.Session, order_id: str) -> None:
        started = time.monotonic()
        try:
            response = http.get(f"{self.base_url}/api/v1/orders/{order_id}", timeout=15)
        except requests.RequestException:
            return
        with self._lock:
            self.read_latencies.append(time.monotonic() - started)
        if response.status_code not in (200, 404, 503):
            self._unexpected(f"GET order: {response.status_code} {response.text[:200]}")

    def _unexpected(self, what: str) -> None:
        with self._lock:
            self.unexpected.append(what)
