"""SIGTERM (a deploy, a scale-down) lets the worker finish the job in hand."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import requests
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from access import api_keys
from tests.faults.harness import FaultStack, wait_until
from tests.integration.client import ORDER


@pytest.fixture(scope="module")
def fault_stack() -> Iterator[FaultStack]:
    # One worker, one process, and every job takes 3 s between its write and its commit.
    system = FaultStack(workers=1, concurrency=1, worker_env={"ORDERLY_FAULTS": "apply.before_commit=sleep:3"})
    system.start()
    try:
        yield system
    finally:
        system.stop()


def test_sigterm_finishes_the_job_in_flight_before_exiting(fault_stack, session_factory):
    with session_factory() as session:
        issued = api_keys.create_key(session, f"graceful-{uuid.uuid4().hex[:12]}")
        session.commit()
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {issued.plaintext}"
    job = http.post(f"{fault_stack.url}/api/v1/orders", json=ORDER, timeout=10).json()

    def job_status() -> str:
        return str(http.get(f"{fault_stack.url}/api/v1/jobs/{job['id']}", timeout=10).json()["status"])

    def worker_holds_the_job() -> bool:
        """The worker's transaction has the job's row locked (it is applying it)."""
        with session_factory() as session:
            try:
                session.execute(text("SELECT 1 FROM jobs WHERE id = :id FOR UPDATE NOWAIT"), {"id": job["id"]})
            except OperationalError as error:
                return isinstance(error.orig, psycopg.errors.LockNotAvailable)
            finally:
                session.rollback()
        return False

    assert wait_until(worker_holds_the_job, timeout=20)
    assert job_status() == "queued"  # in flight, not yet committed
    worker = fault_stack.workers[0]
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    # No other worker exists: the one that was told to stop finished the job first.
    assert job_status() == "succeeded"
