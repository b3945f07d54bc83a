"""If-Match (412 / version_conflict) and If-None-Match (304)."""

from __future__ import annotations

import uuid

from models import Command
from orders import accept, apply


def test_if_match_with_the_current_version_is_accepted(api):
    order_id = api.create_order()
    job = api.apply(order_id, "pay", headers={"If-Match": '"1"'})
    assert job["status"] == "succeeded"
    assert api.order(order_id)["version"] == 2


def test_if_match_with_a_stale_version_is_412(api):
    order_id = api.create_order()
    api.apply(order_id, "pay")
    response = api.post(f"/api/v1/orders/{order_id}/commands", json={"command": "ship"}, headers={"If-Match": '"1"'})
    assert response.status_code == 412
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 412
    assert api.order(order_id)["status"] == "paid"
    assert api.get("/api/v1/jobs?limit=100").json()["total"] == 2  # no job for the refused command


def test_expected_version_is_enforced_by_the_worker(api, orders_uow, order_cache, finished):
    """Two commands accepted against version 1: the second to run fails, never retries."""
    order_id = api.create_order()
    oid = uuid.UUID(order_id)
    no_publish = lambda _: None  # noqa: E731 - the test applies the jobs itself
    pay = accept.submit_command(orders_uow, api.tenant_id, oid, Command.PAY, no_publish, 1)
    cancel = accept.submit_command(orders_uow, api.tenant_id, oid, Command.CANCEL, no_publish, 1)

    assert apply.apply_job(orders_uow, pay.id, order_cache.invalidate_many, finished).result == "succeeded"
    outcome = apply.apply_job(orders_uow, cancel.id, order_cache.invalidate_many, finished)
    assert (outcome.result, outcome.error_code) == ("failed", "version_conflict")

    job = api.get(f"/api/v1/jobs/{cancel.id}").json()
    assert job["status"] == "failed"
    assert job["error"]["code"] == "version_conflict"
    assert api.order(order_id)["status"] == "paid"


def test_etag_and_if_none_match(api):
    order_id = api.create_order()
    response = api.get(f"/api/v1/orders/{order_id}")
    assert response.headers["ETag"] == '"1"'

    not_modified = api.get(f"/api/v1/orders/{order_id}", headers={"If-None-Match": '"1"'})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["ETag"] == '"1"'

    api.apply(order_id, "pay")
    changed = api.get(f"/api/v1/orders/{order_id}", headers={"If-None-Match": '"1"'})
    assert changed.status_code == 200
    assert changed.headers["ETag"] == '"2"'
    assert changed.json()["status"] == "paid"


def test_order_answers_are_not_stored_by_caches(api):
    order_id = api.create_order()
    assert api.get(f"/api/v1/orders/{order_id}").headers["Cache-Control"] == "no-store"
