"""`jobs ...` and `orders show`: what operators ask about commands."""

from __future__ import annotations

import io
import re
import sys
import uuid
from datetime import datetime, timedelta
from typing import Any

import click
from flask import Flask

from models import JobStatus
from models.base import iso, utcnow
from orders import maintenance
from orders.operations import JobFilter
from web.cli.context import CommandGroup, clients, orders_uow
from web.cli.output import emit, emit_one, json_option

_RELATIVE = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
STATUSES = [str(status) for status in JobStatus]
MAX_BULK_RETRY = 100_000


def parse_since(value: str | None) -> datetime | None:
    """`30m`, `2h`, `7d` ago, or an ISO 8601 time (UTC when it has no offset)."""
    if value is None:
        return None
    relative = _RELATIVE.fullmatch(value.strip())
    if relative:
        return utcnow() - timedelta(**{_UNITS[relative[2]]: int(relative[1])})
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give 30m, 2h, 7d or an ISO time like 2026-11-28T06:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=utcnow().tzinfo)


def job_row(job: Any, tenant: str) -> dict[str, Any]:
    return {
        "id": job.id,
        "tenant": tenant,
        "command": job.command,
        "status": job.status,
        "code": (job.error or {}).get("code"),
        "order_id": job.order_id,
        "accepted_at": job.created_at,
        "finished_at": job.finished_at,
    }


def _retry_all(job_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Queue each failed job again (a progress bar on a terminal, for many); the ids that were not failed."""
    not_failed: list[uuid.UUID] = []
    shown = len(job_ids) > 1 and sys.stderr.isatty()
    with click.progressbar(job_ids, label="queueing again", file=sys.stderr if shown else io.StringIO()) as bar:
        for job_id in bar:
            if not maintenance.retry_failed_job(orders_uow(), clients().publisher, job_id):
                not_failed.append(job_id)
    return not_failed


def _event_lines(events: list[Any], as_json: bool) -> list[Any]:
    if as_json:
        return [{"version": e.version, "command": e.command, "from_status": e.from_status, "to_status": e.to_status,
                 "job_id": str(e.job_id), "at": iso(e.created_at)} for e in events]  # fmt: skip
    return [f"v{e.version} {e.command}: {e.from_status or '-'} -> {e.to_status} at {iso(e.created_at)} (job {e.job_id})"
            for e in events]  # fmt: skip


def register(app: Flask) -> None:
    @app.cli.group("jobs", cls=CommandGroup)
    def jobs() -> None:
        """Inspect, count and retry jobs (all tenants)."""

    @jobs.command("list")
    @click.option("--status", type=click.Choice(STATUSES), default=None)
    @click.option("--tenant", default=None, help="A tenant's name or id.")
    @click.option("--since", default=None, help="Accepted since: 30m, 2h, 7d or an ISO time.")
    @click.option("--command", "command_name", default=None, help="create, pay, ship, deliver, cancel or delete.")
    @click.option("--code", default=None, help="Failed with this error code (e.g. invalid_transition).")
    @click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
    @json_option
    def list_jobs(status: str | None, tenant: str | None, since: str | None, command_name: str | None,
                  code: str | None, limit: int, as_json: bool) -> None:  # fmt: skip
        """The newest jobs first, filtered."""
        where = JobFilter(JobStatus(status) if status else None, tenant, parse_since(since), command_name, code, limit)
        with orders_uow() as uow:
            rows = [job_row(row.Job, row.tenant) for row in uow.operations.find_jobs(where)]
        emit(rows, as_json)

    @jobs.command("show")
    @click.argument("job_id", type=click.UUID)
    @json_option
    def show(job_id: uuid.UUID, as_json: bool) -> None:
        """One job: its command, outcome, attempts, republishes and error."""
        with orders_uow() as uow:
            row = uow.operations.job_with_tenant(job_id)
        if row is None:
            raise click.ClickException(f"no job {job_id}")
        job = row.Job
        record = job_row(job, row.tenant) | {
            "tenant_id": job.tenant_id,
            "request_id": job.request_id,
            "expected_version": job.expected_version,
            "attempts": job.attempts,
            "started_at": job.started_at,
            "last_attempt_at": job.last_attempt_at,
            "republish_count": job.republish_count,
            "republished_at": job.republished_at,
            "error": job.error,
            "payload": job.payload,
        }
        emit_one(record, as_json)

    @jobs.command("stats")
    @json_option
    def stats(as_json: bool) -> None:
        """Jobs by status, and the age of the oldest queued one."""
        with orders_uow() as uow:
            counts = uow.operations.count_jobs_by_status()
            backlog = uow.relay.backlog()
        record = {status: counts.get(status, 0) for status in STATUSES} | {
            "oldest_queued_age_seconds": round(backlog.oldest_queued_age_seconds, 1),
            "pending_cache_invalidations": backlog.pending_invalidations,
        }
        emit_one(record, as_json)

    @jobs.command("retry")
    @click.argument("job_ids", nargs=-1, type=click.UUID)
    @click.option("--code", default=None, help="Every failed job with this error code (with --since).")
    @click.option("--since", default=None, help="Failed jobs accepted since: 30m, 2h, 7d or an ISO time.")
    @click.option("--tenant", default=None, help="Only this tenant's jobs (name or id), with --code.")
    @click.option("--dry-run", is_flag=True, help="Say which jobs would be queued again; change nothing.")
    def retry(job_ids: tuple[uuid.UUID, ...], code: str | None, since: str | None, tenant: str | None,
              dry_run: bool) -> None:  # fmt: skip
        """Queue failed jobs again, by id or all of one error code since a time;
        the worker applies them as if new (their request id is kept)."""
        if bool(job_ids) == bool(code):
            raise click.UsageError("give job ids, or --code CODE --since TIME")
        if code and not since:
            raise click.UsageError("--code needs --since (how far back to look)")
        if code:
            where = JobFilter(JobStatus.FAILED, tenant, parse_since(since), None, code, MAX_BULK_RETRY)
            with orders_uow() as uow:
                job_ids = tuple(row.Job.id for row in uow.operations.find_jobs(where))
        if dry_run:
            click.echo(f"would queue {len(job_ids)} failed jobs again:", err=True)
            for job_id in job_ids:
                click.echo(str(job_id))
            return
        not_failed = _retry_all(list(job_ids))
        if len(job_ids) > len(not_failed):
            click.echo(f"queued {len(job_ids) - len(not_failed)} jobs again")
        if not_failed:
            raise click.ClickException(f"not failed or unknown: {', '.join(map(str, not_failed))}")

    @app.cli.group("orders", cls=CommandGroup)
    def orders() -> None:
        """Inspect orders (all tenants)."""

    @orders.command("show")
    @click.argument("order_id", type=click.UUID)
    @json_option
    def show_order(order_id: uuid.UUID, as_json: bool) -> None:
        """One order, soft-deleted or not, with every event (its history)."""
        with orders_uow() as uow:
            found = uow.operations.order_with_events(order_id)
        if found is None:
            raise click.ClickException(f"no order {order_id}")
        order, events = found
        record = {
            "id": order.id, "tenant_id": order.tenant_id, "status": order.status, "version": order.version,
            "currency": order.currency, "total_cents": order.total_cents, "customer_ref": order.customer_ref,
            "created_at": order.created_at, "updated_at": order.updated_at, "deleted_at": order.deleted_at,
            "events": _event_lines(events, as_json),
        }  # fmt: skip
        emit_one(record, as_json)
