"""The order-event stream: the outbox rows the commands write, and the
publisher that hands them to Kafka (docs/events.md)."""
