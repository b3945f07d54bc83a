"""The workers' network links fail while commands flow, through the TCP fault
proxy (tests/faults/proxy.py): partitions that hold traffic, then resets."""

from __future__ import annotations

import random
import time

from tests.faults.harness import HEARTBEAT_SECONDS, FaultStack
from tests.faults.load import Load


def test_workers_partitioned_from_postgresql_then_rabbitmq_then_reset(scenario):
    def partition(system: FaultStack, load: Load, rng: random.Random) -> None:
        time.sleep(rng.uniform(2, 4))
        system.database_proxy.blackhole()  # queries hang mid-transaction
        time.sleep(5)
        system.database_proxy.heal()
        time.sleep(rng.uniform(2, 4))
        system.broker_proxy.blackhole()  # heartbeats stop: the broker drops the workers
        time.sleep(HEARTBEAT_SECONDS * 4)
        system.broker_proxy.heal()
        time.sleep(2)
        assert system.database_proxy.reset_all() > 0
        assert system.broker_proxy.reset_all() > 0

    scenario.run("workers' links: PostgreSQL held 5 s, RabbitMQ held 16 s, then all reset", partition)
