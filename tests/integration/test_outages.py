"""PostgreSQL down: a clear 503, nothing half-accepted, recovery by itself.

RabbitMQ outages are in test_delivery.py."""

from __future__ import annotations

import requests

from tests.integration.client import ORDER
from tests.integration.servers import stopped


def test_postgresql_down_is_503_with_retry_after_then_recovers(api, base_url):
    order_id = api.create_order()
    with stopped("postgres"):
        response = api.post("/api/v1/orders", json=ORDER)
        assert response.status_code == 503
        assert response.headers["Content-Type"] == "application/problem+json"
        assert int(response.headers["Retry-After"]) > 0
        ready = requests.get(f"{base_url}/readyz", timeout=10)
        assert ready.status_code == 503
        assert "postgresql" in ready.json()["down"]
    # Pool pre-ping replaces the connections the restart killed: no error after recovery.
    assert api.order(order_id)["version"] == 1
    assert api.apply(order_id, "pay")["status"] == "succeeded"
    assert api.get("/api/v1/jobs").json()["total"] == 2  # the refused POST left nothing behind
