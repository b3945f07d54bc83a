"""`apikey ...`, `audit list`, `idempotency purge`: keys and their trail."""

from __future__ import annotations

import sys
from datetime import timedelta

import click
from flask import Flask

from access import api_keys, audit, key_verifier
from infra.unit_of_work import UnitOfWork
from models.base import iso, utcnow
from orders import retention
from web.cli.context import CommandGroup, clients
from web.cli.output import emit, json_option


def register(app: Flask) -> None:
    @app.cli.group("apikey", cls=CommandGroup)
    def apikey() -> None:
        """Manage API keys."""

    @apikey.command("create")
    @click.option("--tenant", required=True, help="Tenant name; created if new.")
    @click.option("--expires-in-days", type=click.IntRange(min=1), default=None, help="The key stops working then.")
    def create(tenant: str, expires_in_days: int | None) -> None:
        """Create an API key; the key itself is printed once, on the last line."""
        expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
        with UnitOfWork(clients().session_factory) as uow:
            issued = api_keys.create_key(uow.session, tenant, expires_at)
            audit.record(uow.session, "key.created", audit.operator(), issued.key_id, issued.tenant_id,
                         expires_at=iso(expires_at))  # fmt: skip
            uow.commit()
        click.echo(f"created key {issued.key_id} for tenant {tenant} ({issued.tenant_id}); store it now:", err=True)
        click.echo(issued.plaintext)

    @apikey.command("rotate")
    @click.argument("key_id")
    @click.option("--overlap-hours", type=click.FloatRange(min=0), default=24.0, show_default=True,
                  help="How long the old key keeps working beside the new one.")  # fmt: skip
    def rotate(key_id: str, overlap_hours: float) -> None:
        """Issue a new key for the key's tenant; the old one expires after the
        overlap. The new key is printed once, on the last line."""
        with UnitOfWork(clients().session_factory) as uow:
            rotation = api_keys.rotate_key(uow.session, key_id, timedelta(hours=overlap_hours))
            if rotation is None:
                raise click.ClickException(f"no active key {key_id}")
            issued, ends = rotation.successor, rotation.old_key_expires_at
            audit.record(uow.session, "key.rotated", audit.operator(), key_id, issued.tenant_id,
                         new_key_id=issued.key_id, old_key_expires_at=iso(ends))  # fmt: skip
            uow.commit()
        if not key_verifier.announce_revoked(clients().redis, key_id, at=ends):
            click.echo(f"warning: Redis could not be told; the old key may work up to "
                       f"{key_verifier.KEEP_SECONDS:.0f} s past its end", err=True)  # fmt: skip
        click.echo(f"key {key_id} stops working at {iso(ends)}; its successor {issued.key_id}, store it now:",
                   err=True)  # fmt: skip
        click.echo(issued.plaintext)

    @apikey.command("list")
    @click.option("--tenant", default=None, help="Only this tenant's keys.")
    @json_option
    def list_keys(tenant: str | None, as_json: bool) -> None:
        """List keys: id, tenant, created, last used, state. Secrets are never shown."""
        with UnitOfWork(clients().session_factory) as uow:
            keys = api_keys.list_keys(uow.session, tenant)
        now = utcnow()
        rows = []
        for key in keys:
            if key.revoked_at:
                state = f"revoked {iso(key.revoked_at)}"
            elif key.expires_at and key.expires_at <= now:
                state = f"expired {iso(key.expires_at)}"
            else:
                state = f"active until {iso(key.expires_at)}" if key.expires_at else "active"
            rows.append({"key_id": key.key_id, "tenant": key.tenant, "created_at": key.created_at,
                         "last_used_at": key.last_used_at, "state": state})  # fmt: skip
        emit(rows, as_json)

    @apikey.command("revoke")
    @click.argument("key_id")
    def revoke(key_id: str) -> None:
        """Revoke a key by its id (the part after `ok_`); it answers 401 from now on."""
        revocation = key_verifier.revoke(
            UnitOfWork(clients().session_factory), clients().redis, key_id, audit.operator()
        )
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
        with UnitOfWork(clients().session_factory) as uow:
            principal = api_keys.authenticate(uow.session, presented)
            uow.commit()
        if principal is None:
            raise click.ClickException("not a valid key (malformed, unknown or revoked)")
        click.echo(f"key {principal.key_id} is valid for tenant {principal.tenant_id}")

    @app.cli.group("audit", cls=CommandGroup)
    def audit_group() -> None:
        """Read the audit log: key creation, rotation, revocation; failed-auth bursts."""

    @audit_group.command("list")
    @click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
    @click.option("--action", default=None, help="Only this action, e.g. auth.failures or key.revoked.")
    @json_option
    def audit_list(limit: int, action: str | None, as_json: bool) -> None:
        """The newest events first."""
        with UnitOfWork(clients().session_factory) as uow:
            events = audit.recent(uow.session, limit, action)
        rows = [{"at": event.at, "action": event.action, "actor": event.actor, "key_id": event.key_id,
                 "tenant_id": event.tenant_id, "detail": event.detail} for event in events]  # fmt: skip
        emit(rows, as_json)

    @app.cli.group("idempotency", cls=CommandGroup)
    def idempotency() -> None:
        """Maintain Idempotency-Key records."""

    @idempotency.command("purge")
    @click.option("--older-than-hours", default=24, show_default=True, type=click.IntRange(min=24))
    def purge(older_than_hours: int) -> None:
        """Delete Idempotency-Key records older than the given age (never under 24 h)."""
        policy = retention.Policy(keys_after=timedelta(hours=older_than_hours), payloads_after=None)
        deleted = retention.purge(UnitOfWork(clients().session_factory), policy).keys_deleted
        click.echo(f"deleted {deleted} idempotency keys")
