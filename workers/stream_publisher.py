"""The stream publisher: `python -m workers.stream_publisher` (docs/events.md).

Rounds of stream/publisher.py: back to back while they come back full
(STREAM_BATCH_SIZE), otherwise every STREAM_POLL_SECONDS. It keeps going through Kafka
and PostgreSQL outages (the events wait in the outbox), runs as a standby
while another publisher holds the lock, and stops cleanly on SIGTERM. Its
heartbeat and watchdog are the relay's (workers/liveness.py); `--check` is
its health check.
"""

from __future__ import annotations

import logging
import sys
import time

from confluent_kafka import Producer

import config
from infra.bootstrap import Role, build
from stream import kafka
from stream.publisher import publish_round, record_backlog
from stream.unit_of_work import StreamUnitOfWork
from telemetry import logs, metrics
from workers import liveness

log = logging.getLogger("orderly.stream")

ACK_TIMEOUT_SECONDS = 10.0
BACKLOG_EVERY_SECONDS = 5.0
# After a failed round (Kafka or PostgreSQL down): wait, doubling up to this.
MAX_BACKOFF_SECONDS = 10.0


def main() -> None:
    settings = config.current()
    heartbeat_file = liveness.default_heartbeat_file("stream")
    if sys.argv[1:] == ["--check"]:
        healthy, reason = liveness.check(heartbeat_file, settings.relay_healthy_within_seconds)
        print(f"stream publisher {'healthy' if healthy else 'unhealthy'}: {reason}")
        sys.exit(0 if healthy else 1)
    logs.configure()
    stop = liveness.stop_on_signals()
    if not settings.event_stream_enabled:
        # Idle rather than gone: a supervisor would keep restarting it.
        log.info("EVENT_STREAM_ENABLED is false: nothing to publish; idle until stopped")
        stop.wait()
        return
    clients = build(settings, Role.STREAM)
    uow = StreamUnitOfWork(clients.session_factory)
    producer = Producer(kafka.producer_config(settings))
    port = metrics.serve("stream")
    heartbeat = liveness.Heartbeat(heartbeat_file, settings.relay_watchdog_seconds)
    heartbeat.start_watchdog()
    topic_ready = False
    backoff, next_measure = 0.0, 0.0
    log.info("stream publisher started: topic %s on %s; metrics on port %s",
             settings.event_stream_topic, settings.kafka_bootstrap_servers, port)  # fmt: skip
    while not stop.is_set():
        heartbeat.beat()
        try:
            if not topic_ready:
                kafka.ensure_topic(settings)
                topic_ready = True
            result = publish_round(uow, producer, settings.event_stream_topic, settings.stream_batch_size,
                                   ACK_TIMEOUT_SECONDS)  # fmt: skip
            backoff = _longer(backoff) if result.errors else 0.0
            if time.monotonic() >= next_measure:
                record_backlog(uow)
                next_measure = time.monotonic() + BACKLOG_EVERY_SECONDS
            if result.published >= settings.stream_batch_size:
                continue  # a full round: more wait, no pause
            # Otherwise wait a little, so that rounds carry what a moment
            # brings rather than one command's events each: fewer statements
            # and Kafka requests per event, at STREAM_POLL_SECONDS of latency.
        except Exception:
            log.exception("stream round failed")  # PostgreSQL or Kafka down: the events wait
            backoff = _longer(backoff)
        stop.wait(backoff or settings.stream_poll_seconds)
    producer.flush(5)
    log.info("stream publisher stopped")


def _longer(backoff: float) -> float:
    return min(max(2 * backoff, 0.5), MAX_BACKOFF_SECONDS)


if __name__ == "__main__":
    main()
