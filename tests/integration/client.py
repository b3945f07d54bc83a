"""A small HTTP client for the tests: one tenant's view of the API."""

from __future__ import annotations

import time
import uuid
from typing import Any

import requests

FINISHED = ("succeeded", "failed", "cancelled")

ORDER = {"currency": "USD", "items": [{"sku": "A-1", "quantity": 2, "unit_price_cents": 1250}], "customer_ref": "c-42"}


class Api:
    def __init__(self, base_url: str, key: str, tenant_id: uuid.UUID) -> None:
        self.base_url = base_url
        self.key = key
        self.tenant_id = tenant_id
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {key}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.http.request(method, f"{self.base_url}{path}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    # -- the flows most tests need
    def submit_create(self, order: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        response = self.post("/api/v1/orders", json=order or ORDER, **kwargs)
        assert response.status_code == 202, response.text
        return response.json()

    def submit_command(self, order_id: str, command: str, **kwargs: Any) -> dict[str, Any]:
        response = self.post(f"/api/v1/orders/{order_id}/commands", json={"command": command}, **kwargs)
        assert response.status_code == 202, response.text
        return response.json()

    def wait(self, job: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        """Poll the job until it has finished (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.get(f"/api/v1/jobs/{job['id']}")
            assert response.status_code == 200, response.text
            current = response.json()
            if current["status"] in FINISHED:
                return current
            time.sleep(0.02)
        raise AssertionError(f"job {job['id']} did not finish within {timeout}s: {current}")

    def create_order(self, order: dict[str, Any] | None = None) -> str:
        """Create an order and wait until it exists; return its id."""
        job = self.wait(self.submit_create(order))
        assert job["status"] == "succeeded", job
        return job["order_id"]

    def apply(self, order_id: str, command: str, **kwargs: Any) -> dict[str, Any]:
        """Send a command and wait for its job to finish."""
        return self.wait(self.submit_command(order_id, command, **kwargs))

    def order(self, order_id: str) -> dict[str, Any]:
        response = self.get(f"/api/v1/orders/{order_id}")
        assert response.status_code == 200, response.text
        return response.json()
