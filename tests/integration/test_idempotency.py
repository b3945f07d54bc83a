"""Idempotency-Key: one job per key and request, per tenant."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from tests.integration.client import ORDER


def jobs_total(api):
    return api.get("/api/v1/jobs?limit=1").json()["total"]


def test_same_key_and_body_returns_the_same_job(api):
    headers = {"Idempotency-Key": "order-1"}
    first = api.post("/api/v1/orders", json=ORDER, headers=headers)
    second = api.post("/api/v1/orders", json=ORDER, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["Location"] == first.headers["Location"]
    assert jobs_total(api) == 1


def test_same_key_with_another_body_is_422(api):
    headers = {"Idempotency-Key": "order-2"}
    assert api.post("/api/v1/orders", json=ORDER, headers=headers).status_code == 202
    other = api.post("/api/v1/orders", json={**ORDER, "customer_ref": "someone-else"}, headers=headers)
    assert other.status_code == 422
    assert other.headers["Content-Type"] == "application/problem+json"
    assert "Idempotency-Key" in other.json()["detail"]
    assert jobs_total(api) == 1


def test_same_key_on_another_route_is_422(api):
    order_id = api.create_order()
    headers = {"Idempotency-Key": "shared"}
    assert api.post(f"/api/v1/orders/{order_id}/commands", json={"command": "pay"}, headers=headers).status_code == 202
    assert api.delete(f"/api/v1/orders/{order_id}", headers=headers).status_code == 422


def test_commands_and_deletes_are_idempotent_too(api, session_factory):
    order_id = api.create_order()
    path = f"/api/v1/orders/{order_id}/commands"
    pay = [api.post(path, json={"command": "pay"}, headers={"Idempotency-Key": "p"}) for _ in range(2)]
    assert pay[0].json()["id"] == pay[1].json()["id"]
    assert api.wait(pay[0].json())["status"] == "succeeded"

    deletes = [api.delete(f"/api/v1/orders/{order_id}", headers={"Idempotency-Key": "d"}) for _ in range(2)]
    assert deletes[0].json()["id"] == deletes[1].json()["id"]
    assert api.wait(deletes[0].json())["status"] == "succeeded"
    # A replay after the order is gone still answers the original job.
    replay = api.delete(f"/api/v1/orders/{order_id}", headers={"Idempotency-Key": "d"})
    assert replay.status_code == 202
    assert replay.json()["id"] == deletes[0].json()["id"]
    # The order is deleted (its events answer 404): read its history from the database.
    with session_factory() as session:
        commands = session.scalars(
            text("SELECT command FROM order_events WHERE order_id = :id ORDER BY version"), {"id": order_id}
        ).all()
    assert commands == ["create", "pay", "delete"]


def test_keys_are_per_tenant(new_api):
    a, b = new_api(), new_api()
    job_a = a.submit_create(headers={"Idempotency-Key": "same"})
    job_b = b.submit_create(headers={"Idempotency-Key": "same"})
    assert job_a["id"] != job_b["id"]
    assert b.get(f"/api/v1/jobs/{job_a['id']}").status_code == 404


def test_concurrent_duplicates_create_one_job(api):
    headers = {"Idempotency-Key": "burst"}
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(lambda _: api.post("/api/v1/orders", json=ORDER, headers=headers), range(5)))
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["id"] for r in responses}) == 1
    assert jobs_total(api) == 1
    assert api.wait(responses[0].json())["status"] == "succeeded"
    assert api.get("/api/v1/orders").json()["total"] == 1


def test_bad_idempotency_keys_are_400(api):
    for key in ["", "x" * 256]:
        response = api.post("/api/v1/orders", json=ORDER, headers={"Idempotency-Key": key})
        assert response.status_code == 400, key
    assert jobs_total(api) == 0
