"""Fixtures of the fault-injection suite: a system of its own per test module
(tests/faults/harness.py) and a runner that drives load, injects, heals, checks."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session, sessionmaker

import config
from access import api_keys
from tests.faults.harness import FaultStack
from tests.faults.load import Load
from tests.faults.verify import DRAIN_SECONDS, Report, verify

# Fault injection: given the system and the running load, inject faults and
# return once every fault has healed.
Inject = Callable[[FaultStack, Load, random.Random], None]

# ORDERLY_SOAK=N runs N times the commands and N times the faults: a soak run on
# demand (`ORDERLY_SOAK=10 .venv/bin/pytest tests/faults` after `make test`).
SOAK = int(os.environ.get("ORDERLY_SOAK", "1"))


@pytest.fixture(scope="module")
def fault_stack() -> Iterator[FaultStack]:
    system = FaultStack().start()
    try:
        yield system
    finally:
        system.stop()


@pytest.fixture(scope="module")
def lone_worker() -> Iterator[FaultStack]:
    """One worker with one pool process: a batch is surely where a fault lands,
    and a message that arrives meanwhile must wait (and be merged)."""
    system = FaultStack(workers=1, concurrency=1).start()
    try:
        yield system
    finally:
        system.stop()


@dataclass
class Scenario:
    system: FaultStack
    session_factory: sessionmaker[Session]
    settings: config.Settings
    scale: int = SOAK

    def run(self, name: str, inject: Inject, commands: int = 2000, seed: int = 7) -> Report:
        commands *= self.scale
        tenants = []
        with self.session_factory() as session:
            for _ in range(2):
                tenants.append(api_keys.create_key(session, f"faults-{uuid.uuid4().hex[:12]}"))
            session.commit()
        load = Load(
            self.system.url, [t.plaintext for t in tenants], commands, seed=seed, max_seconds=240 * self.scale
        ).start()
        inject(self.system, load, random.Random(seed))
        healed_after = time.monotonic() - load.started
        load.join()
        quiet_since = time.monotonic()  # the last fault has healed and the last command was sent
        report = verify(
            name, load, self.session_factory, self.settings, [t.tenant_id for t in tenants], quiet_since, healed_after
        )
        assert report.problems == [], report
        assert report.lost == 0 and report.applied_twice == 0, report
        assert report.drain_seconds < DRAIN_SECONDS, report
        # A transient fault is waited out, not turned into a failed command.
        assert "internal_error" not in report.failed, report
        assert report.accepted >= commands * 0.9, report  # the load really ran
        return report


@pytest.fixture
def scenario(fault_stack: FaultStack, session_factory: sessionmaker[Session], settings: config.Settings) -> Scenario:
    return Scenario(fault_stack, session_factory, settings)
