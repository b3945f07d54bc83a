"""The webhook sender: `python -m workers.webhook_sender` (one is enough; more are safe).

Every WEBHOOK_POLL_SECONDS it claims the deliveries that are due, sends them
(WEBHOOK_CONCURRENCY at a time) and records each outcome
(webhooks/delivery.py). It keeps going through database outages,
stops cleanly on SIGTERM/SIGINT, and like the relay writes a heartbeat:
`python -m workers.webhook_sender --check` is its health check.
"""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path

import config
from infra.bootstrap import Role, build
from telemetry import logs, metrics
from webhooks import delivery as webhook_delivery
from webhooks.secrets import SecretBox
from webhooks.urls import UrlPolicy
from workers import liveness

log = logging.getLogger("orderly.webhooks")

HEALTHY_WITHIN_SECONDS = 60.0
WATCHDOG_SECONDS = 300.0


def policy_from(settings: config.Settings) -> webhook_delivery.SenderPolicy:
    return webhook_delivery.SenderPolicy(
        urls=UrlPolicy.from_settings(
            settings.webhook_allowed_networks, settings.webhook_allow_http, testing=config.testing()
        ),
        timeout=settings.webhook_timeout_seconds,
        ca_bundle=settings.webhook_ca_bundle or None,
        retry_for=timedelta(hours=settings.webhook_retry_hours),
        retry_base=timedelta(seconds=settings.webhook_retry_base_seconds),
        disable_after=timedelta(hours=settings.webhook_disable_after_hours),
        lease=timedelta(seconds=settings.webhook_lease_seconds),
    )


def main() -> None:
    settings = config.current()
    heartbeat_file = liveness.default_heartbeat_file("webhook-sender")
    if sys.argv[1:] == ["--check"]:
        healthy, reason = liveness.check(heartbeat_file, HEALTHY_WITHIN_SECONDS)
        print(f"webhook sender {'healthy' if healthy else 'unhealthy'}: {reason}")
        sys.exit(0 if healthy else 1)
    logs.configure()
    box = SecretBox(settings.webhook_secrets_key)
    if not box.configured:
        log.warning("WEBHOOK_SECRETS_KEY is not set: webhooks cannot be registered, and none are sent")
    policy = policy_from(settings)
    clients = build(settings, Role.SENDER)
    stop = liveness.stop_on_signals()
    metrics_port = metrics.serve("webhooks")
    log.info("webhook sender started: %d at once; metrics on port %s", settings.webhook_concurrency, metrics_port)
    heartbeat = liveness.Heartbeat(Path(heartbeat_file), WATCHDOG_SECONDS)
    heartbeat.start_watchdog()
    sender = webhook_delivery.Sender(clients.session_factory, policy, box, settings.webhook_concurrency)
    while not stop.is_set():
        heartbeat.beat()
        try:
            if box.configured:
                sender.round()
        except Exception:
            log.exception("webhook round failed")  # PostgreSQL down, most likely: next round
        stop.wait(settings.webhook_poll_seconds)
    sender.close()
    log.info("webhook sender stopped")


if __name__ == "__main__":
    main()
