"""Fill the bench database with `count` finished commands of another tenant
(orders, their create events and succeeded jobs), so the phases run against
tables of production size. As the schema owner; one statement per table."""

from __future__ import annotations

import time

import sqlalchemy as sa

PRELOAD_TENANT = "bench-history"

_STATEMENTS = [
    """INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), :tenant) ON CONFLICT (name) DO NOTHING""",
    """CREATE TEMP TABLE preload AS
       SELECT gen_random_uuid() AS order_id, gen_random_uuid() AS job_id,
              now() - make_interval(secs => n) AS at
       FROM generate_series(1, :count) AS n""",
    """INSERT INTO orders (id, tenant_id, status, version, currency, items, total_cents, created_at, updated_at)
       SELECT order_id, (SELECT id FROM tenants WHERE name = :tenant), 'pending', 1, 'USD',
              '[{"sku": "H-1", "quantity": 1, "unit_price_cents": 500}]', 500, at, at
       FROM preload""",
    """INSERT INTO jobs (id, tenant_id, command, order_id, payload, status, attempts, created_at, started_at,
                        finished_at, republish_count)
       SELECT job_id, (SELECT id FROM tenants WHERE name = :tenant), 'create', order_id,
              '{"currency": "USD", "items": [{"sku": "H-1", "quantity": 1, "unit_price_cents": 500}]}',
              'succeeded', 1, at, at, at, 0
       FROM preload""",
    """INSERT INTO order_events (order_id, version, command, from_status, to_status, job_id, created_at)
       SELECT order_id, 1, 'create', NULL, 'pending', job_id, at FROM preload""",
]


def preload(owner_url: str, count: int) -> float:
    """Insert the history unless the tenant already has it; seconds taken."""
    started = time.monotonic()
    engine = sa.create_engine(owner_url)
    with engine.begin() as conn:
        have = conn.execute(
            sa.text("SELECT count(*) FROM jobs WHERE tenant_id = (SELECT id FROM tenants WHERE name = :tenant)"),
            {"tenant": PRELOAD_TENANT},
        ).scalar_one()
        if have < count:
            for statement in _STATEMENTS:
                conn.execute(sa.text(statement), {"tenant": PRELOAD_TENANT, "count": count - have})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE orders, jobs, order_events"))
    engine.dispose()
    return time.monotonic() - started
