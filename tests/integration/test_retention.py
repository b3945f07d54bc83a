"""Retention (`db purge`, and the relay every hour): old Idempotency-Keys go,
old succeeded jobs lose their payload, in small batches; every order keeps
its whole history (events still name their jobs) and failed jobs stay
retryable."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import text

from models import Job
from models.base import utcnow
from tests.integration.test_cli import flask_cli


def test_purge_drops_old_keys_and_payloads_and_keeps_every_history(api, session_factory):
    keys = [f"old-{uuid.uuid4()}" for _ in range(3)]
    created = [api.submit_create(headers={"Idempotency-Key": key}) for key in keys]
    for job in created:
        assert api.wait(job)["status"] == "succeeded"
    failed_create = uuid.uuid4()
    with session_factory() as session:
        session.add(Job(id=failed_create, tenant_id=api.tenant_id, command="create", order_id=uuid.uuid4(),
                        payload={"currency": "EUR", "items": []}, status="failed", attempts=1,
                        error={"code": "internal_error", "detail": "test"}, created_at=utcnow()))  # fmt: skip
        ids = [uuid.UUID(job["id"]) for job in created] + [failed_create]
        session.execute(text("UPDATE jobs SET created_at = now() - interval '31 days' WHERE id = ANY(:ids)"),
                        {"ids": ids})  # fmt: skip
        session.execute(text("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' "
                             "WHERE tenant_id = :tenant"), {"tenant": api.tenant_id})  # fmt: skip
        session.commit()

    endpoint = api.post("/api/v1/webhooks", json={"url": "https://hooks.example.com/r", "events": ["job.finished"]})
    endpoint_id = endpoint.json()["id"]
    with session_factory() as session:
        insert = text(
            "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, status, created_at) "
            "VALUES (:e, gen_random_uuid(), 'job.finished', '{}', :s, now() - make_interval(days => :d))"
        )
        for status, age in (("delivered", 31), ("failed", 31), ("pending", 31), ("delivered", 1)):
            session.execute(insert, {"e": endpoint_id, "s": status, "d": age})
        session.commit()

    purged = flask_cli("db", "purge", "--batch", "1", "--json")  # several batches of one
    assert purged.returncode == 0, purged.stderr
    counts = json.loads(purged.stdout)
    assert counts["idempotency_keys_deleted"] >= 3 and counts["job_payloads_dropped"] >= 3
    assert counts["webhook_deliveries_deleted"] >= 2
    kept = api.get(f"/api/v1/webhooks/{endpoint_id}/deliveries").json()["data"]
    assert sorted(d["status"] for d in kept) == ["delivered", "pending"]  # the recent one, and the pending one

    with session_factory() as session:
        payloads = dict(session.execute(text("SELECT id, payload FROM jobs WHERE id = ANY(:ids)"), {"ids": ids}).all())
        remaining_keys = session.execute(text("SELECT count(*) FROM idempotency_keys WHERE tenant_id = :t"),
                                         {"t": api.tenant_id}).scalar()  # fmt: skip
        orphans = session.execute(text("SELECT count(*) FROM order_events e LEFT JOIN jobs j ON j.id = e.job_id "
                                       "WHERE j.id IS NULL")).scalar()  # fmt: skip
    assert all(payloads[uuid.UUID(job["id"])] is None for job in created)
    assert payloads[failed_create] is not None  # a failed job may still be retried
    assert remaining_keys == 0
    assert orphans == 0
    for job in created:  # the orders and their jobs still read as before
        assert api.get(f"/api/v1/jobs/{job['id']}").json()["status"] == "succeeded"
        order = api.get(f"/api/v1/orders/{job['order_id']}")
        assert order.status_code == 200 and order.json()["items"]
    # A reused key is now a new command (its window has passed).
    again = api.submit_create(headers={"Idempotency-Key": keys[0]})
    assert again["id"] != created[0]["id"]
