"""The relay process: `python -m workers.relay` (one is enough; more are safe).

Every RELAY_INTERVAL_SECONDS it runs one round of orders/relay.py. It keeps
going through database and broker outages and stops cleanly on SIGTERM/SIGINT.
Each turn of its loop writes a heartbeat (RELAY_HEARTBEAT_FILE); a loop stuck
for RELAY_WATCHDOG_SECONDS ends the process so that it is restarted, and
`python -m workers.relay --check` is its health check (exit 0 when the last
heartbeat is under RELAY_HEALTHY_WITHIN_SECONDS old). Every
RETENTION_EVERY_SECONDS (an hour) it also runs the retention purge
(orders/retention.py: RETENTION_KEYS_HOURS, RETENTION_PAYLOADS_DAYS).
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import timedelta
from pathlib import Path

import config
from infra.bootstrap import Role, build
from infra.faults import fault_point
from infra.unit_of_work import UnitOfWork
from orders import retention
from orders.cache import OrderCache
from orders.relay import RelayPolicy, measure_backlog, run_round
from orders.unit_of_work import OrdersUnitOfWork
from telemetry import logs, metrics
from workers import liveness

log = logging.getLogger("orderly.relay")

# The backlog gauges (counts over the unfinished jobs) every few seconds,
# not every round: cheap, but a scrape every 15 s needs no more.
BACKLOG_EVERY_SECONDS = 5.0


def main() -> None:
    settings = config.current()
    heartbeat_file = Path(settings.relay_heartbeat_file or liveness.default_heartbeat_file("relay"))
    if sys.argv[1:] == ["--check"]:
        healthy, reason = liveness.check(heartbeat_file, settings.relay_healthy_within_seconds)
        print(f"relay {'healthy' if healthy else 'unhealthy'}: {reason}")
        sys.exit(0 if healthy else 1)
    logs.configure()
    policy = RelayPolicy(queued_after=timedelta(seconds=settings.relay_queued_after_seconds))
    clients = build(settings, Role.RELAY)
    uow = OrdersUnitOfWork(clients.session_factory)
    cache = OrderCache.from_clients(clients)
    stop = liveness.stop_on_signals()
    metrics_port = metrics.serve("relay")
    log.info("relay started: every %ss, %s; metrics on port %s", settings.relay_interval_seconds, policy, metrics_port)
    heartbeat = liveness.Heartbeat(heartbeat_file, settings.relay_watchdog_seconds)
    heartbeat.start_watchdog()
    retention_policy = retention.Policy(
        keys_after=timedelta(hours=settings.retention_keys_hours),
        payloads_after=timedelta(days=settings.retention_payloads_days),
    )
    retention_every = settings.retention_every_seconds
    next_measure = next_purge = 0.0
    while not stop.is_set():
        heartbeat.beat()
        try:
            fault_point("relay.round")
            run_round(uow, clients.publisher.publish, cache, policy)
            if time.monotonic() >= next_measure:
                measure_backlog(uow)
                next_measure = time.monotonic() + BACKLOG_EVERY_SECONDS
            if time.monotonic() >= next_purge:
                next_purge = time.monotonic() + retention_every
                purged = retention.purge(UnitOfWork(clients.session_factory), retention_policy)
                if purged.keys_deleted or purged.payloads_dropped or purged.deliveries_deleted:
                    log.info("retention: %d idempotency keys deleted, %d job payloads dropped, "
                             "%d webhook deliveries deleted",
                             purged.keys_deleted, purged.payloads_dropped, purged.deliveries_deleted)  # fmt: skip
        except Exception:
            # PostgreSQL down, most likely: try again next round.
            log.exception("relay round failed")
        stop.wait(settings.relay_interval_seconds)
    log.info("relay stopped")


if __name__ == "__main__":
    main()
