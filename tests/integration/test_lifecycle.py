"""The happy path over HTTP: POST, 202 + job, poll, the worker applied it."""

from __future__ import annotations

import json

from orders import accept
from orders.apply import INTERNAL_ERROR_DETAIL
from tests.integration.client import ORDER

ORDER_PAYLOAD = dict(ORDER)


def test_create_answers_202_with_a_job_to_poll(api):
    response = api.post("/api/v1/orders", json=ORDER)
    assert response.status_code == 202
    job = response.json()
    assert response.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    assert job["command"] == "create"
    assert job["status"] in ("queued", "running", "succeeded")
    assert job["order_id"]

    finished = api.wait(job)
    assert finished["status"] == "succeeded"
    assert finished["error"] is None
    assert finished["attempts"] == 1
    assert finished["started_at"] and finished["finished_at"]

    order = api.order(job["order_id"])
    assert order["status"] == "pending"
    assert order["version"] == 1
    assert order["total_cents"] == 2500
    assert order["currency"] == "USD"
    assert order["customer_ref"] == "c-42"
    assert order["items"] == ORDER["items"]


def test_order_goes_from_pending_to_delivered(api):
    order_id = api.create_order()
    for command, status, version in [("pay", "paid", 2), ("ship", "shipped", 3), ("deliver", "delivered", 4)]:
        job = api.apply(order_id, command)
        assert job["status"] == "succeeded", job
        order = api.order(order_id)
        assert (order["status"], order["version"]) == (status, version)

    events = api.get(f"/api/v1/orders/{order_id}/events").json()["data"]
    path = [(e["version"], e["command"], e["from_status"], e["to_status"]) for e in events]
    assert path == [
        (1, "create", None, "pending"),
        (2, "pay", "pending", "paid"),
        (3, "ship", "paid", "shipped"),
        (4, "deliver", "shipped", "delivered"),
    ]


def test_unfinished_job_tells_the_client_when_to_poll_again(api, orders_uow):
    # Accepted but never published: the job stays queued, as after a broker outage.
    job = accept.submit_create(orders_uow, api.tenant_id, ORDER_PAYLOAD, enqueue=lambda _: None)
    response = api.get(f"/api/v1/jobs/{job.id}")
    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    assert response.headers["Retry-After"] == "1"


def test_finished_job_has_no_retry_after(api):
    job = api.wait(api.submit_create())
    assert "Retry-After" not in api.get(f"/api/v1/jobs/{job['id']}").headers


def test_health_endpoints_need_no_key(base_url):
    import requests

    assert requests.get(f"{base_url}/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(f"{base_url}/readyz", timeout=5)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["checks"] == {"postgresql": "ok", "redis": "ok", "rabbitmq": "ok"}


def test_a_job_the_worker_cannot_apply_fails_with_a_reason(api, orders_uow, publish):
    """A corrupt job (no items) published to the real worker: failed, not stuck running."""
    job = accept.submit_create(orders_uow, api.tenant_id, {"currency": "USD"}, publish)
    finished = api.wait({"id": str(job.id)})
    assert finished["status"] == "failed"
    assert finished["error"] == {"code": "internal_error", "detail": INTERNAL_ERROR_DETAIL}
    assert "KeyError" not in json.dumps(finished)  # no class names of the code
    assert api.get(f"/api/v1/orders/{job.order_id}").status_code == 404
