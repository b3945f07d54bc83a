"""Operator commands: `flask --app web apikey ...`, `flask --app web idempotency ...`."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask

from models import repository as repo
from models.base import utcnow
from services import apikeys, maintenance
from web.resources import resources


def register_cli(app: Flask) -> None:
    @app.cli.group("apikey")
    def apikey() -> None:
        """Manage API keys."""

    @apikey.command("create")
    @click.option("--tenant", required=True, help="Tenant name; created if new.")
    def create(tenant: str) -> None:
        """Create an API key; the key itself is printed once, on the last line."""
        with resources().session_factory() as session:
            issued = apikeys.create_key(session, tenant)
            session.commit()
        click.echo(f"created key {issued.key_id} for tenant {tenant} ({issued.tenant_id}); store it now:", err=True)
        click.echo(issued.plaintext)

    @app.cli.group("idempotency")
    def idempotency() -> None:
        """Maintain Idempotency-Key records."""

    @idempotency.command("purge")
    @click.option("--older-than-hours", default=24, show_default=True, type=click.IntRange(min=24))
    def purge(older_than_hours: int) -> None:
        """Delete Idempotency-Key records older than the given age (never under 24 h)."""
        with resources().session_factory() as session:
            deleted = repo.purge_idempotency_keys(session, utcnow() - timedelta(hours=older_than_hours))
            session.commit()
        click.echo(f"deleted {deleted} idempotency keys")

    @app.cli.group("jobs")
    def jobs() -> None:
        """Maintain jobs."""

    @jobs.command("republish")
    @click.option("--older-than-seconds", default=30, show_default=True, type=click.IntRange(min=1))
    @click.option("--limit", default=1000, show_default=True, type=click.IntRange(min=1))
    def republish(older_than_seconds: int, limit: int) -> None:
        """Publish again jobs still queued after a while (e.g. after a broker outage)."""
        res = resources()
        count = maintenance.republish_stale_jobs(
            res.session_factory, res.enqueue, timedelta(seconds=older_than_seconds), limit
        )
        click.echo(f"republished {count} jobs")
