"""PostgreSQL or RabbitMQ down: clear answers, and nothing accepted is lost."""

from __future__ import annotations

import subprocess
import time

import requests

from tests.integration.client import ORDER
from tests.integration.servers import rabbitmq_app_stopped, stopped
from tests.integration.stack import BIN, ROOT, process_env


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


def test_broker_down_still_accepts_and_republish_delivers(api, base_url):
    with rabbitmq_app_stopped():
        started = time.monotonic()
        response = api.post("/api/v1/orders", json=ORDER)
        answered_in = time.monotonic() - started
        assert response.status_code == 202  # the job is committed; only the message is missing
        job = response.json()
        assert answered_in < 10, answered_in
        assert api.get(f"/api/v1/jobs/{job['id']}").json()["status"] == "queued"
        assert "rabbitmq" in requests.get(f"{base_url}/readyz", timeout=10).json()["down"]

    republish = subprocess.run(
        [BIN / "flask", "--app", "web", "jobs", "republish", "--older-than-seconds", "1"],
        cwd=ROOT, env=process_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert republish.returncode == 0, republish.stderr
    assert "republished" in republish.stdout
    # The worker reconnects to the restarted broker by itself and applies the job.
    assert api.wait(job, timeout=60)["status"] == "succeeded"
    assert api.order(job["order_id"])["status"] == "pending"
