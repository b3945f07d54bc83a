"""Settings and tables of the bare pipeline (its own tables in the bench database)."""

from __future__ import annotations

import os
import threading

import psycopg
import redis

# Set by bench/stacks.py; a libpq URL (postgresql://...) for the database.
DATABASE_URL = os.environ.get("BARE_DATABASE_URL", "")
REDIS_URL = os.environ.get("BARE_REDIS_URL", "")
BROKER_URL = os.environ.get("BARE_BROKER_URL", "")

SCHEMA = """
CREATE TABLE IF NOT EXISTS bare_orders (
    id uuid PRIMARY KEY, status text NOT NULL, version int NOT NULL
);
CREATE TABLE IF NOT EXISTS bare_jobs (
    id uuid PRIMARY KEY, order_id uuid NOT NULL, command text NOT NULL,
    status text NOT NULL DEFAULT 'queued', expected_version int NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz
);
-- The benchmark's drain and statistics queries filter on created_at, as
-- Orderly's use its (tenant_id, created_at) index: neither side scans.
CREATE INDEX IF NOT EXISTS bare_jobs_created_at ON bare_jobs (created_at);
"""

_local = threading.local()


def connection(autocommit: bool) -> psycopg.Connection:
    """One connection per thread, kept open."""
    name = f"conn_{autocommit}"
    conn = getattr(_local, name, None)
    if conn is None or conn.closed:
        conn = psycopg.connect(DATABASE_URL, autocommit=autocommit)
        setattr(_local, name, conn)
    return conn


def redis_client() -> redis.Redis:
    client = getattr(_local, "redis", None)
    if client is None:
        client = _local.redis = redis.Redis.from_url(REDIS_URL)
    return client
