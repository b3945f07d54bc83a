"""Orderly's settings, read from the environment in one place.

Values already in the environment win. For the local stack, the file written by
`scripts/services.sh` (.local/orderly.env, or $ORDERLY_ENV_FILE) fills the gaps,
so `celery -A workers worker` or `flask --app web ...` work without exporting
anything by hand.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values, load_dotenv

ROOT = Path(__file__).resolve().parent
ENV_FILE = Path(os.environ.get("ORDERLY_ENV_FILE", ROOT / ".local" / "orderly.env"))
# The schema owner's and the brokers' administrators' credentials, for
# operator commands only (never loaded into the API's or a worker's environment).
ADMIN_ENV_FILE = Path(os.environ.get("ORDERLY_ADMIN_ENV_FILE", ROOT / ".local" / "admin.env"))


class ConfigError(RuntimeError):
    """A required setting is missing."""


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


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ConfigError(
            f"{name} is not set: export it, or run `scripts/services.sh start` "
            f"to start the local stack and write {ENV_FILE}"
        )
    return value


@dataclass(frozen=True)
class Settings:
    # URLs carry passwords: kept out of repr(), which tracebacks and pytest print.
    database_url: str = field(repr=False)
    redis_url: str = field(repr=False)
    broker_url: str = field(repr=False)
    # The order cache's own Redis (evicts entries under memory pressure); the
    # counters' Redis (redis_url) never evicts. Defaults to redis_url.
    cache_redis_url: str = field(default="", repr=False)
    # Migrations run as the role that owns the schema; the app's role may only
    # read and write rows. Defaults to database_url where there is one role.
    migration_database_url: str = field(default="", repr=False)
    # Seconds an order stays in the cache; bounds how stale a read can be if an
    # invalidation is ever lost.
    cache_ttl_seconds: int = 300
    # Seconds a client is told to wait before polling an unfinished job again.
    job_retry_after_seconds: int = 1
    max_body_bytes: int = 1024 * 1024
    # Requests per API key (the `limits` notation), and queued + running jobs
    # per tenant; past either the API answers 429 with Retry-After.
    rate_limit_per_key: str = "3000/minute"
    tenant_max_unfinished_jobs: int = 10_000
    # Failed authentications per client address and minute; past it the address
    # gets 429 until the minute ends (services/auth_throttle.py).
    failed_auth_limit: int = 20
    # The relay (python -m workers.relay): how often it looks, and after how
    # long an untouched queued / running job is published again.
    relay_interval_seconds: float = 1.0
    relay_queued_after_seconds: float = 10.0
    relay_running_after_seconds: float = 150.0

    def __post_init__(self) -> None:
        if not self.cache_redis_url:  # one Redis for both (no eviction guarantee then)
            object.__setattr__(self, "cache_redis_url", self.redis_url)

    @classmethod
    def from_env(cls, *, testing: bool = False) -> Settings:
        """Build settings from the environment; `testing` selects the TEST_* URLs."""
        load_env_file()
        prefix = "TEST_" if testing else ""
        return cls(
            database_url=_required(prefix + "DATABASE_URL"),
            migration_database_url=os.environ.get(prefix + "MIGRATION_DATABASE_URL")
            or _required(prefix + "DATABASE_URL"),
            redis_url=_required(prefix + "REDIS_URL"),
            cache_redis_url=os.environ.get(prefix + "CACHE_REDIS_URL") or _required(prefix + "REDIS_URL"),
            broker_url=_required(prefix + "BROKER_URL"),
            cache_ttl_seconds=int(os.environ.get("CACHE_TTL_SECONDS", "300")),
            rate_limit_per_key=os.environ.get("RATE_LIMIT_PER_KEY", "3000/minute"),
            tenant_max_unfinished_jobs=int(os.environ.get("TENANT_MAX_UNFINISHED_JOBS", "10000")),
            failed_auth_limit=int(os.environ.get("FAILED_AUTH_LIMIT", "20")),
            relay_interval_seconds=float(os.environ.get("RELAY_INTERVAL_SECONDS", "1")),
            relay_queued_after_seconds=float(os.environ.get("RELAY_QUEUED_AFTER_SECONDS", "10")),
            relay_running_after_seconds=float(os.environ.get("RELAY_RUNNING_AFTER_SECONDS", "150")),
        )


def current() -> Settings:
    """Settings of this process: the TEST_* ones when ORDERLY_TESTING=1."""
    return Settings.from_env(testing=os.environ.get("ORDERLY_TESTING") == "1")
