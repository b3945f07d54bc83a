"""Fixtures that run the API under gunicorn, a Celery worker and the relay
against the real servers (shared fixtures: tests/conftest.py)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from access import api_keys
from tests.integration import stack
from tests.integration.client import Api

API_PORT = int(os.environ.get("ORDERLY_TEST_API_PORT", "18000"))


@pytest.fixture(scope="session")
def running() -> Iterator[stack.Running]:
    """The API, one worker and the relay, for the whole session."""
    ports = {component: stack.free_port() for component in ("api", "worker", "relay")}
    running = stack.Running(
        url=f"http://127.0.0.1:{API_PORT}",
        api=stack.start_api(API_PORT, API_METRICS_PORT=str(ports["api"])),
        worker=stack.start_worker(WORKER_METRICS_PORT=str(ports["worker"])),
        relay=stack.start_relay(RELAY_METRICS_PORT=str(ports["relay"])),
        metrics={component: f"http://127.0.0.1:{port}/metrics" for component, port in ports.items()},
    )
    try:
        stack.wait_ready(running.url, running.api)
        yield running
    finally:
        for process in (running.api, running.worker, running.relay):
            stack.stop(process)


@pytest.fixture(scope="session")
def base_url(running: stack.Running) -> str:
    return running.url


@pytest.fixture(scope="session")
def new_api(base_url: str, session_factory: sessionmaker[Session]) -> Callable[[], Api]:
    """Make a client for a brand-new tenant: tests never see each other's data."""

    def make() -> Api:
        with session_factory() as session:
            issued = api_keys.create_key(session, f"tenant-{uuid.uuid4().hex[:12]}")
            session.commit()
        return Api(base_url, issued.plaintext, issued.tenant_id)

    return make


@pytest.fixture
def api(new_api: Callable[[], Api]) -> Api:
    return new_api()
