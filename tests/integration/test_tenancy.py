"""A tenant never sees or touches another tenant's orders and jobs."""

from __future__ import annotations


def test_other_tenants_orders_and_jobs_answer_404(new_api):
    owner, stranger = new_api(), new_api()
    job = owner.wait(owner.submit_create())
    order_id = job["order_id"]

    assert stranger.get(f"/api/v1/orders/{order_id}").status_code == 404
    assert stranger.get(f"/api/v1/orders/{order_id}/events").status_code == 404
    assert stranger.get(f"/api/v1/jobs/{job['id']}").status_code == 404
    assert stranger.post(f"/api/v1/orders/{order_id}/commands", json={"command": "pay"}).status_code == 404
    assert stranger.delete(f"/api/v1/orders/{order_id}").status_code == 404
    assert stranger.get("/api/v1/orders").json()["total"] == 0
    assert stranger.get("/api/v1/jobs").json()["total"] == 0

    # The owner's order is untouched.
    assert owner.order(order_id)["status"] == "pending"
    assert owner.get("/api/v1/jobs").json()["total"] == 1


def test_cached_order_is_not_served_to_another_tenant(new_api):
    owner, stranger = new_api(), new_api()
    order_id = owner.create_order()
    assert owner.order(order_id)["version"] == 1  # now in the cache
    assert stranger.get(f"/api/v1/orders/{order_id}").status_code == 404


def test_missing_or_wrong_key_is_401(base_url, api):
    import requests

    for headers in [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": f"Basic {api.key}"},
        {"Authorization": f"Bearer {api.key}x"},
    ]:
        response = requests.get(f"{base_url}/api/v1/orders", headers=headers, timeout=10)
        assert response.status_code == 401, headers
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_thousand_of_another_tenants_ids_get_zero_hits(new_api):
    """Broken object level authorization, probed: tenant B asks for 1,000 of
    tenant A's order and job ids, and reuses A's Idempotency-Keys."""
    owner, stranger = new_api(), new_api()
    jobs = [owner.submit_create(headers={"Idempotency-Key": f"a-{i}"}) for i in range(500)]
    for job in jobs[-5:]:
        owner.wait(job)
    paths = [f"/api/v1/orders/{job['order_id']}" for job in jobs] + [f"/api/v1/jobs/{job['id']}" for job in jobs]
    answers = [stranger.get(path).status_code for path in paths]
    assert len(answers) == 1000
    assert set(answers) == {404}
    # Tenant A's Idempotency-Key, sent by B, is B's own key: a new job of B's, not A's.
    reused = stranger.submit_create(headers={"Idempotency-Key": "a-0"})
    assert reused["id"] != jobs[0]["id"]
    assert stranger.get("/api/v1/jobs").json()["total"] == 1
