"""The relay process: `python -m workers.relay` (one is enough; more are safe).

Every RELAY_INTERVAL_SECONDS it runs one round of services/relay.py. It keeps
going through database and broker outages and stops cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from types import FrameType

import config
from models.db import make_engine, make_session_factory
from services.cache import OrderCache
from services.redis_client import make_redis
from services.relay import RelayPolicy, run_round
from telemetry import logs
from workers.tasks import publish_job

log = logging.getLogger("orderly.relay")


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
    log.info("relay started: every %ss, %s", settings.relay_interval_seconds, policy)
    while not stop.is_set():
        try:
            run_round(session_factory, publish_job, cache, policy)
        except Exception:
            # PostgreSQL down, most likely: try again next round.
            log.exception("relay round failed")
        stop.wait(settings.relay_interval_seconds)
    log.info("relay stopped")


if __name__ == "__main__":
    main()
