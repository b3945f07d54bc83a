"""Webhooks: the tenant's endpoints, the outbox that records events with the
changes they report, and the sender that delivers them (docs/webhooks.md)."""
