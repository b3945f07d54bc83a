"""The relay process: `python -m workers.relay` (one is enough; more are safe).

Every RELAY_INTERVAL_SECONDS it runs one round of services/relay.py. It keeps
going through database and broker outages and stops cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import timedelta
from types import FrameType

import config
from models.db import make_engine, make_session_factory
from services.cache import OrderCache
from services.redis_client import make_redis
from services.relay import RelayPolicy, measure_backlog, run_round
from telemetry import logs, metrics
from workers.tasks import publish_job

log = logging.getLogger("orderly.relay")

# The backlog gauges (counts over the unfinished jobs) every few seconds,
# not every round: cheap, but a scrape every 15 s needs no more.
BACKLOG_EVERY_SECONDS = 5.0


def main() -> None:
    logs.configure()
    settings = config.current()
    policy = RelayPolicy(
        queued_after=timedelta(seconds=settings.relay_queued_after_seconds),
        running_after=timedelta(seconds=settings.relay_running_after_seconds),
    )
    session_factory = make_session_factory(
        make_engine(settings.database_url, pool_size=1, application_name="orderly-relay")
    )
    cache = OrderCache(make_redis(settings.cache_redis_url), settings.cache_ttl_seconds)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    metrics_port = metrics.serve("relay")
    log.info("relay started: every %ss, %s; metrics on port %s", settings.relay_interval_seconds, policy, metrics_port)
    next_measure = 0.0
    while not stop.is_set():
        try:
            run_round(session_factory, publish_job, cache, policy)
            if time.monotonic() >= next_measure:
                measure_backlog(session_factory)
                next_measure = time.monotonic() + BACKLOG_EVERY_SECONDS
        except Exception:
            # PostgreSQL down, most likely: try again next round.
            log.exception("relay round failed")
        stop.wait(settings.relay_interval_seconds)
    log.info("relay stopped")


if __name__ == "__main__":
    main()
