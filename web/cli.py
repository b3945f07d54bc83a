"""Operator commands: `flask --app web apikey ...`, `flask --app web idempotency ...`."""

from __future__ import annotations

import sys
import uuid
from datetime import timedelta

import click
from flask import Flask

from models import repository as repo
from models.base import utcnow
from services import apikeys, key_verifier, maintenance
from services.views import iso
from web.resources import publish_job, resources


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

    @apikey.command("list")
    @click.option("--tenant", default=None, help="Only this tenant's keys.")
    def list_keys(tenant: str | None) -> None:
        """List keys: id, tenant, created, last used, revoked. Secrets are never shown."""
        with resources().session_factory() as session:
            keys = apikeys.list_keys(session, tenant)
        for key in keys:
            revoked = f"revoked {iso(key.revoked_at)}" if key.revoked_at else "active"
            click.echo(
                f"{key.key_id}  tenant={key.tenant}  created {iso(key.created_at)}  "
                f"last used {iso(key.last_used_at) or 'never'}  {revoked}"
            )

    @apikey.command("revoke")
    @click.argument("key_id")
    def revoke(key_id: str) -> None:
        """Revoke a key by its id (the part after `ok_`); it answers 401 from now on."""
        res = resources()
        revocation = key_verifier.revoke(res.session_factory, res.redis, key_id)
        if not revocation.revoked:
            raise click.ClickException(f"no active key {key_id}")
        if not revocation.announced:
            raise click.ClickException(
                f"revoked key {key_id} in the database, but Redis could not be told: API processes that "
                f"hold the key accept it for up to {key_verifier.KEEP_SECONDS:.0f} s more"
            )
        click.echo(f"revoked key {key_id}")

    @apikey.command("verify")
    def verify() -> None:
        """Check the key given on standard input (never as an argument, which
        other users could read): exit 0 if it is valid and not revoked."""
        presented = sys.stdin.readline().strip()
        with resources().session_factory() as session:
            principal = apikeys.authenticate(session, presented)
        if principal is None:
            raise click.ClickException("not a valid key (malformed, unknown or revoked)")
        click.echo(f"key {principal.key_id} is valid for tenant {principal.tenant_id}")

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

    @jobs.command("failed")
    @click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
    def failed(limit: int) -> None:
        """List the newest failed jobs: id, tenant, command, order, error, when."""
        with resources().session_factory() as session:
            for job in repo.failed_jobs(session, limit):
                error = job.error or {}
                click.echo(
                    f"{job.id}  tenant={job.tenant_id}  {job.command}  order={job.order_id}  "
                    f"{error.get('code')}: {error.get('detail')}  at {iso(job.finished_at)}"
                )

    @jobs.command("retry")
    @click.argument("job_ids", nargs=-1, required=True, type=click.UUID)
    def retry(job_ids: tuple[uuid.UUID, ...]) -> None:
        """Queue failed jobs again; the worker applies them as if new."""
        res = resources()
        not_failed = [
            job_id for job_id in job_ids if not maintenance.retry_failed_job(res.session_factory, publish_job, job_id)
        ]
        click.echo(f"queued {len(job_ids) - len(not_failed)} jobs again")
        if not_failed:
            raise click.ClickException(f"not failed or unknown: {', '.join(map(str, not_failed))}")
