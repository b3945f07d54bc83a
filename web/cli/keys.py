"""Operator commands: `flask --app web apikey ...`, `flask --app web idempotency ...`."""

from __future__ import annotations

import sys
import uuid
from datetime import timedelta

import click
from flask import Flask

from models import repository as repo
from models.base import utcnow
from services import apikeys, audit, key_verifier, maintenance
from services.views import iso
from web.resources import publish_job, resources


def register_cli(app: Flask) -> None:
    @app.cli.group("apikey")
    def apikey() -> None:
        """Manage API keys."""

    @apikey.command("create")
    @click.option("--tenant", required=True, help="Tenant name; created if new.")
    @click.option("--expires-in-days", type=click.IntRange(min=1), default=None, help="The key stops working then.")
    def create(tenant: str, expires_in_days: int | None) -> None:
        """Create an API key; the key itself is printed once, on the last line."""
        expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
        with resources().session_factory() as session:
            issued = apikeys.create_key(session, tenant, expires_at)
            audit.record(session, "key.created", audit.operator(), issued.key_id, issued.tenant_id,
                         expires_at=iso(expires_at))  # fmt: skip
            session.commit()
        click.echo(f"created key {issued.key_id} for tenant {tenant} ({issued.tenant_id}); store it now:", err=True)
        click.echo(issued.plaintext)

    @apikey.command("rotate")
    @click.argument("key_id")
    @click.option("--overlap-hours", type=click.FloatRange(min=0), default=24.0, show_default=True,
                  help="How long the old key keeps working beside the new one.")  # fmt: skip
    def rotate(key_id: str, overlap_hours: float) -> None:
        """Issue a new key for the key's tenant; the old one expires after the
        overlap. The new key is printed once, on the last line."""
        with resources().session_factory() as session:
            rotation = apikeys.rotate_key(session, key_id, timedelta(hours=overlap_hours))
            if rotation is None:
                raise click.ClickException(f"no active key {key_id}")
            issued, ends = rotation.successor, rotation.old_key_expires_at
            audit.record(session, "key.rotated", audit.operator(), key_id, issued.tenant_id,
                         new_key_id=issued.key_id, old_key_expires_at=iso(ends))  # fmt: skip
            session.commit()
        if not key_verifier.announce_revoked(resources().redis, key_id, at=ends):
            click.echo(f"warning: Redis could not be told; the old key may work up to "
                       f"{key_verifier.KEEP_SECONDS:.0f} s past its end", err=True)  # fmt: skip
        click.echo(f"key {key_id} stops working at {iso(ends)}; its successor {issued.key_id}, store it now:",
                   err=True)  # fmt: skip
        click.echo(issued.plaintext)

    @apikey.command("list")
    @click.option("--tenant", default=None, help="Only this tenant's keys.")
    def list_keys(tenant: str | None) -> None:
        """List keys: id, tenant, created, last used, revoked. Secrets are never shown."""
        with resources().session_factory() as session:
            keys = apikeys.list_keys(session, tenant)
        now = utcnow()
        for key in keys:
            if key.revoked_at:
                state = f"revoked {iso(key.revoked_at)}"
            elif key.expires_at and key.expires_at <= now:
                state = f"expired {iso(key.expires_at)}"
            else:
                state = f"active until {iso(key.expires_at)}" if key.expires_at else "active"
            click.echo(
                f"{key.key_id}  tenant={key.tenant}  created {iso(key.created_at)}  "
                f"last used {iso(key.last_used_at) or 'never'}  {state}"
            )

    @apikey.command("revoke")
    @click.argument("key_id")
    def revoke(key_id: str) -> None:
        """Revoke a key by its id (the part after `ok_`); it answers 401 from now on."""
        res = resources()
        revocation = key_verifier.revoke(res.session_factory, res.redis, key_id, audit.operator())
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

    @app.cli.group("audit")
    def audit_group() -> None:
        """Read the audit log: key creation, rotation, revocation; failed-auth bursts."""

    @audit_group.command("list")
    @click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
    @click.option("--action", default=None, help="Only this action, e.g. auth.failures or key.revoked.")
    def audit_list(limit: int, action: str | None) -> None:
        """The newest events first, one line each."""
        with resources().session_factory() as session:
            events = audit.recent(session, limit, action)
        for event in events:
            subject = f"key={event.key_id}  " if event.key_id else ""
            tenant = f"tenant={event.tenant_id}  " if event.tenant_id else ""
            click.echo(f"{iso(event.at)}  {event.action}  by {event.actor}  {subject}{tenant}{event.detail}")

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
