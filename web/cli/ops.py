"""`queue stats`, `db upgrade|backup|restore|purge`: the broker's queue and the database's upkeep."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
import urllib.request
from base64 import b64encode
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy.engine import URL, make_url

import config
from infra.messaging import COMMANDS_QUEUE
from infra.unit_of_work import UnitOfWork
from orders import retention
from web.cli.context import CommandGroup, clients
from web.cli.output import emit_one, json_option


def management_api(path: str) -> Any:
    """GET from RabbitMQ's management API as its administrator (RABBITMQ_ADMIN_URL)."""
    admin_url = config.admin_setting("RABBITMQ_ADMIN_URL")
    if not admin_url:
        raise click.ClickException(
            "RABBITMQ_ADMIN_URL is not set (http://user:password@host:port of the management API)"
        )
    parts = urllib.parse.urlsplit(admin_url)
    request = urllib.request.Request(f"{parts.scheme}://{parts.hostname}:{parts.port}{path}")
    credentials = f"{urllib.parse.unquote(parts.username or '')}:{urllib.parse.unquote(parts.password or '')}"
    request.add_header("Authorization", "Basic " + b64encode(credentials.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)
    except OSError as exc:
        raise click.ClickException(f"RabbitMQ's management API did not answer: {exc}") from None


def _owner_url() -> URL:
    prefix = "TEST_" if os.environ.get("ORDERLY_TESTING") == "1" else ""
    owner_url = config.admin_setting(f"{prefix}MIGRATION_DATABASE_URL")
    return make_url(owner_url or clients().settings.migration_database_url)


def _pg_tool(command: list[str], url: URL) -> subprocess.CompletedProcess[str]:
    """pg_dump / pg_restore against `url`; the password goes in the tool's
    environment (PGPASSWORD), never on its command line."""
    target = ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432), "--username", url.username or "",
              "--dbname", url.database or ""]  # fmt: skip
    env = {**os.environ, "PGPASSWORD": url.password or "", "PGCONNECT_TIMEOUT": "10"}
    return subprocess.run([*command, *target], env=env, capture_output=True, text=True, timeout=3600)


def register(app: Flask) -> None:
    @app.cli.group("queue", cls=CommandGroup)
    def queue() -> None:
        """The command queue in RabbitMQ."""

    @queue.command("stats")
    @json_option
    def stats(as_json: bool) -> None:
        """Depth, consumers, unacknowledged messages and rates (management API)."""
        vhost = urllib.parse.urlsplit(clients().settings.broker_url).path.lstrip("/") or "/"
        found = management_api(f"/api/queues/{urllib.parse.quote(vhost, safe='')}/{COMMANDS_QUEUE}")
        details = found.get("message_stats", {})
        emit_one({
            "queue": found["name"], "vhost": found["vhost"], "ready": found.get("messages_ready", 0),
            "unacknowledged": found.get("messages_unacknowledged", 0), "consumers": found.get("consumers", 0),
            "max_length": (found.get("effective_policy_definition") or {}).get("max-length"),
            "publish_per_second": details.get("publish_details", {}).get("rate", 0.0),
            "ack_per_second": details.get("ack_details", {}).get("rate", 0.0),
        }, as_json)  # fmt: skip

    @app.cli.group("db", cls=CommandGroup)
    def db() -> None:
        """Schema migrations and retention."""

    @db.command("upgrade")
    def upgrade() -> None:
        """Apply every migration (as the schema owner, MIGRATION_DATABASE_URL)."""
        from alembic import command
        from alembic.config import Config

        prefix = "TEST_" if os.environ.get("ORDERLY_TESTING") == "1" else ""
        owner_url = config.admin_setting(f"{prefix}MIGRATION_DATABASE_URL")
        if owner_url:
            os.environ[f"{prefix}MIGRATION_DATABASE_URL"] = owner_url
        command.upgrade(Config(str(config.ROOT / "alembic.ini")), "head")
        click.echo("database at the latest migration")

    @db.command("backup")
    @click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
    def backup(file: Path) -> None:
        """A consistent copy of the database (pg_dump, custom format), taken
        while it serves: one snapshot, no lock that stops writers."""
        url = _owner_url()
        result = _pg_tool(["pg_dump", "--format=custom", "--file", str(file)], url)
        if result.returncode != 0:
            raise click.ClickException(f"pg_dump failed: {result.stderr.strip()}")
        click.echo(f"backed up {url.database} to {file} ({file.stat().st_size:,} bytes)")

    @db.command("restore")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--into", "database", required=True, help="An empty database on the same server (never a live one).")
    def restore(file: Path, database: str) -> None:
        """Restore a backup into an empty database, in one transaction (all or
        nothing), as the schema owner (MIGRATION_DATABASE_URL's server and role)."""
        url = _owner_url().set(database=database)
        command = ["pg_restore", "--no-owner", "--single-transaction", "--exit-on-error"]
        result = _pg_tool([*command, str(file)], url)
        if result.returncode != 0:
            raise click.ClickException(f"pg_restore failed: {result.stderr.strip()}")
        click.echo(f"restored {file} into {database}; run the relay on it to publish the jobs it had queued")

    @db.command("purge")
    @click.option(
        "--keys-older-than-hours",
        type=click.IntRange(min=24),
        default=24,
        show_default=True,
        help="Idempotency-Keys older than this are deleted (a client's retry window).",
    )
    @click.option(
        "--payloads-older-than-days",
        type=click.IntRange(min=1),
        default=30,
        show_default=True,
        help="Finished jobs older than this lose their payload (the order keeps its data).",
    )
    @click.option("--batch", type=click.IntRange(1, 100_000), default=retention.BATCH, show_default=True)
    @json_option
    def purge(keys_older_than_hours: int, payloads_older_than_days: int, batch: int, as_json: bool) -> None:
        """Retention: delete old Idempotency-Keys, drop old finished jobs'
        payloads and delete finished webhook deliveries older than 30 days, in
        bounded batches. Jobs and events stay (order history)."""
        policy = retention.Policy(timedelta(hours=keys_older_than_hours), timedelta(days=payloads_older_than_days),
                                  batch)  # fmt: skip
        done = retention.purge(UnitOfWork(clients().session_factory), policy)
        emit_one({"idempotency_keys_deleted": done.keys_deleted, "job_payloads_dropped": done.payloads_dropped,
                  "webhook_deliveries_deleted": done.deliveries_deleted}, as_json)  # fmt: skip
