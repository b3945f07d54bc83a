"""Kafka clients from the settings (confluent-kafka, librdkafka underneath)."""

from __future__ import annotations

from typing import Any

from confluent_kafka.admin import AdminClient, NewTopic

from config import Settings


def client_config(settings: Settings) -> dict[str, Any]:
    if not settings.kafka_bootstrap_servers:
        raise RuntimeError(
            "KAFKA_BOOTSTRAP_SERVERS is not set: start Kafka (scripts/services.sh) or EVENT_STREAM_ENABLED=false"
        )
    found: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "security.protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol.startswith("SASL"):
        found.update({"sasl.mechanism": "PLAIN", "sasl.username": settings.kafka_username,
                      "sasl.password": settings.kafka_password})  # fmt: skip
    return found


def producer_config(settings: Settings) -> dict[str, Any]:
    """The idempotent producer: acks from every in-sync replica, retries that
    never reorder nor duplicate within a producer session."""
    return {
        **client_config(settings),
        "enable.idempotence": True,
        "acks": "all",
        "max.in.flight.requests.per.connection": 5,
        "linger.ms": 5,
        "compression.type": "lz4",
        # A round gives up after this and is sent again (at least once).
        "delivery.timeout.ms": 10_000,
        "message.timeout.ms": 10_000,
    }


def ensure_topic(settings: Settings, timeout: float = 10) -> None:
    """Create the topic if it is missing (idempotent; replication 1 on one broker)."""
    admin = AdminClient(client_config(settings))
    cluster = admin.list_topics(timeout=timeout)  # one metadata request: topics and brokers
    if settings.event_stream_topic in cluster.topics:
        return
    replication = min(3, len(cluster.brokers))
    futures = admin.create_topics(
        [NewTopic(settings.event_stream_topic, settings.event_stream_partitions, replication)], request_timeout=timeout
    )
    for future in futures.values():
        try:
            future.result(timeout)
        except Exception as exc:  # created by another process meanwhile
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
