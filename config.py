"""Orderly's settings: one typed object read from the environment (pydantic-settings).

Values already in the environment win. For the local stack, the file written by
`scripts/services.sh` (.local/orderly.env, or $ORDERLY_ENV_FILE) fills the gaps,
so `celery -A workers worker` or `./orderly ...` work without exporting
anything by hand. Each field's environment variable is its name in capitals
(`cache_ttl_seconds` is CACHE_TTL_SECONDS); a bad value stops the process with
one line naming the variable and what it expects. README's settings table
lists them all (tests/unit/test_config.py keeps it complete).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values, load_dotenv
from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent
ENV_FILE = Path(os.environ.get("ORDERLY_ENV_FILE", ROOT / ".local" / "orderly.env"))
# The schema owner's and the brokers' administrators' credentials, for
# operator commands only (never loaded into the API's or a worker's environment).
ADMIN_ENV_FILE = Path(os.environ.get("ORDERLY_ADMIN_ENV_FILE", ROOT / ".local" / "admin.env"))

# Test runs (ORDERLY_TESTING=1) take these from TEST_<NAME> instead.
URL_FIELDS = ("database_url", "migration_database_url", "redis_url", "cache_redis_url", "broker_url")
SECRET_FIELDS = {*URL_FIELDS, "webhook_secrets_key", "kafka_password"}
# What the tests keep apart from `make run`'s data: TEST_<NAME> replaces <NAME>.
TEST_FIELDS = (*URL_FIELDS, "event_stream_topic")


class ConfigError(RuntimeError):
    """A setting is missing or has a value of the wrong kind."""


def load_env_file() -> None:
    """Fill unset variables from the local stack's env file, if there is one."""
    if ENV_FILE.is_file():
        load_dotenv(ENV_FILE, override=False)


def admin_setting(name: str) -> str | None:
    """An operator's setting: from the environment, else the local stack's admin.env."""
    value = os.environ.get(name)
    if value is None and ADMIN_ENV_FILE.is_file():
        value = dotenv_values(ADMIN_ENV_FILE).get(name)
    return value or None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    # ------------------------------------------------ servers (URLs carry passwords: kept out of repr())
    database_url: str = Field(repr=False, description="PostgreSQL, as the app's role (required)")
    redis_url: str = Field(repr=False, description="Redis for counters and key markers, never evicts (required)")
    broker_url: str = Field(repr=False, description="RabbitMQ, as the app's user (required)")
    cache_redis_url: str = Field("", repr=False, description="Redis for the order cache (default: REDIS_URL)")
    migration_database_url: str = Field(
        "", repr=False, description="PostgreSQL as the schema owner, for migrations (default: DATABASE_URL)"
    )

    # ------------------------------------------------ API behaviour
    cache_ttl_seconds: int = Field(300, gt=0, description="How long an order stays cached")
    job_retry_after_seconds: int = Field(1, ge=1, description="Retry-After on an unfinished job")
    max_body_bytes: int = Field(1024 * 1024, gt=0, description="Largest request body (413 beyond)")
    rate_limit_per_key: str = Field("3000/minute", description="Requests per API key (`limits` notation)")
    tenant_max_unfinished_jobs: int = Field(10_000, gt=0, description="Queued + running jobs per tenant")
    failed_auth_limit: int = Field(20, gt=0, description="Failed authentications per client address and minute")
    max_waits_per_key: int = Field(200, gt=0, description="`?wait=` requests one API key may hold at once, per process")

    # ------------------------------------------------ GraphQL (docs/graphql.md)
    graphql_introspection: bool = Field(False, description="Answer introspection queries (__schema, __type)")
    graphql_max_depth: int = Field(8, gt=0, description="Deepest field nesting of a GraphQL operation")
    graphql_max_aliases: int = Field(20, ge=0, description="Aliased fields in a GraphQL operation, fragments expanded")
    graphql_max_cost: int = Field(25_000, gt=0, description="Fields a GraphQL answer may hold (lists counted in full)")
    graphql_max_tokens: int = Field(2_000, gt=0, description="Tokens of a GraphQL document (parsing stops past them)")
    graphql_max_body_bytes: int = Field(64 * 1024, gt=0, description="Largest GraphQL request body (413 beyond)")

    # ------------------------------------------------ processes
    api_host: str = Field("127.0.0.1", description="The API's listening address")
    api_port: int = Field(8000, gt=0, lt=65536, description="The API's port")
    web_concurrency: int = Field(2, gt=0, description="gunicorn processes (one per core)")
    web_connections: int = Field(1000, gt=0, description="Connections one gunicorn process serves at once")
    gunicorn_keepalive: int = Field(5, gt=0, description="Keep-alive, and the deadline for a request's head (s)")
    gunicorn_max_requests: int = Field(
        10_000, ge=0, description="Requests before a gunicorn process is recycled (0 never)"
    )
    worker_concurrency: int = Field(2, gt=0, description="Celery prefork processes (one per core)")
    worker_prefetch_multiplier: int = Field(
        16, gt=0, description="Messages each worker process reserves (what a busy worker can merge)"
    )
    worker_send_task_events: bool = Field(True, description="Task events for Flower")
    jobs_per_message: int = Field(
        32, gt=0, le=1000, description="Jobs one command message carries at most (applied in one transaction)"
    )
    worker_merge_jobs: int = Field(
        128, gt=0, le=1000, description="Jobs a worker applies at most in one transaction, merging waiting messages"
    )
    broker_heartbeat_seconds: int = Field(30, ge=0, description="AMQP heartbeat of the workers")
    log_format: Literal["text", "json"] = Field("text", description="`text` lines, or one JSON object per line")

    # ------------------------------------------------ relay and retention
    relay_interval_seconds: float = Field(1.0, gt=0, description="How often the relay runs a round")
    relay_queued_after_seconds: float = Field(10.0, gt=0, description="Untouched queued job republished after")
    relay_heartbeat_file: str = Field("", description="The relay's heartbeat (default: /tmp/orderly-relay.heartbeat)")
    relay_healthy_within_seconds: float = Field(60.0, gt=0, description="`relay --check` passes within this")
    relay_watchdog_seconds: float = Field(300.0, gt=0, description="A relay loop stuck this long exits")
    retention_keys_hours: float = Field(24.0, ge=24, description="Idempotency-Keys kept this long")
    retention_payloads_days: float = Field(30.0, gt=0, description="Succeeded jobs' payloads kept this long")
    retention_every_seconds: float = Field(3600.0, gt=0, description="How often the relay purges")

    # ------------------------------------------------ webhooks (docs/webhooks.md)
    webhook_secrets_key: str = Field(
        "", repr=False, description="Encrypts endpoint secrets at rest; comma-separated, newest first, to rotate it"
    )
    webhook_allowed_networks: str = Field(
        "", description="CIDRs a webhook may reach although private or loopback (comma-separated)"
    )
    webhook_allow_http: bool = Field(False, description="Plain http to loopback (honoured with ORDERLY_TESTING=1 only)")
    webhook_ca_bundle: str = Field("", description="CA certificates for https endpoints (default: the system's)")
    webhook_timeout_seconds: float = Field(5.0, gt=0, le=30, description="Connect and read timeout of a delivery")
    webhook_retry_hours: float = Field(72.0, ge=24, description="A delivery is retried this long, then failed")
    webhook_retry_base_seconds: float = Field(
        30.0, gt=0, description="First retry delay; doubled per attempt, capped at 6 h"
    )
    webhook_disable_after_hours: float = Field(
        72.0, gt=0, description="An endpoint failing for this long is disabled, with the reason"
    )
    webhook_concurrency: int = Field(8, gt=0, le=64, description="Deliveries the sender makes at once")
    webhook_lease_seconds: float = Field(60.0, gt=0, description="A claimed delivery is sent again after this")
    webhook_poll_seconds: float = Field(0.5, gt=0, description="How often the sender looks for due deliveries")
    max_webhooks_per_tenant: int = Field(10, gt=0, description="Endpoints one tenant may register")

    # ------------------------------------------------ the event stream to Kafka (docs/events.md)
    event_stream_enabled: bool = Field(
        True, description="Write order events and job.finished for Kafka, and publish them"
    )
    kafka_bootstrap_servers: str = Field("", description="Kafka brokers, host:port,... (required with the stream)")
    kafka_security_protocol: str = Field("SASL_PLAINTEXT", description="PLAINTEXT, SASL_PLAINTEXT or SASL_SSL")
    kafka_username: str = Field("", description="The app's Kafka user (SASL PLAIN)")
    kafka_password: str = Field("", repr=False, description="Its password")
    event_stream_topic: str = Field("orderly.order-events", description="The topic of order events")
    event_stream_partitions: int = Field(6, gt=0, description="Partitions of the topic when the publisher creates it")
    stream_batch_size: int = Field(500, gt=0, description="Events the publisher sends per round at most")
    stream_poll_seconds: float = Field(0.2, gt=0, description="How often an idle publisher looks for events")

    # ------------------------------------------------ metrics
    metrics_host: str = Field("127.0.0.1", description="Where the metrics exporters listen")
    api_metrics_port: int = Field(9101, ge=0, lt=65536, description="The API's exporter (0: off)")
    worker_metrics_port: int = Field(9102, ge=0, lt=65536, description="A worker's exporter (0: off)")
    relay_metrics_port: int = Field(9103, ge=0, lt=65536, description="The relay's exporter (0: off)")
    webhooks_metrics_port: int = Field(9104, ge=0, lt=65536, description="The webhook sender's exporter (0: off)")
    stream_metrics_port: int = Field(9105, ge=0, lt=65536, description="The stream publisher's exporter (0: off)")
    metrics_dir: str = Field("", description="Per-process metric files (default: .local/metrics)")

    @model_validator(mode="after")
    def _defaults_from_other_urls(self) -> Settings:
        if not self.cache_redis_url:  # one Redis for both (no eviction guarantee then)
            object.__setattr__(self, "cache_redis_url", self.redis_url)
        if not self.migration_database_url:  # one role for both
            object.__setattr__(self, "migration_database_url", self.database_url)
        return self

    @classmethod
    def from_env(cls, *, testing: bool = False) -> Settings:
        """Build settings from the environment; `testing` selects the TEST_* URLs."""
        load_env_file()
        overrides: dict[str, str] = {}
        if testing:
            for name in TEST_FIELDS:
                value = os.environ.get(f"TEST_{name.upper()}")
                if value:
                    overrides[name] = value
        try:
            return cls(**overrides)  # type: ignore[arg-type]
        except ValidationError as exc:
            raise ConfigError(explain(exc, "TEST_" if testing else "")) from None


def explain(exc: ValidationError, url_prefix: str = "") -> str:
    """One line per bad setting: its variable and what it expects (never a secret's value)."""
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        variable = (url_prefix if field in URL_FIELDS else "") + field.upper()
        if error["type"] == "missing":
            lines.append(
                f"{variable} is not set: export it, or run `scripts/services.sh start` to start the local stack "
                f"and write {ENV_FILE}"
            )
        else:
            shown = "" if field in SECRET_FIELDS else f" (got {error.get('input')!r})"
            lines.append(f"{variable}: {error['msg']}{shown}")
    return "; ".join(lines)


def testing() -> bool:
    """ORDERLY_TESTING=1: the test databases, and what only tests may loosen."""
    return os.environ.get("ORDERLY_TESTING") == "1"


def current() -> Settings:
    """Settings of this process: the TEST_* ones when ORDERLY_TESTING=1."""
    return Settings.from_env(testing=testing())
