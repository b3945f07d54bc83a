"""One grep follows a command: the request id (X-Request-ID, given or made)
is on the API's lines, stored with the job, and on the worker's, the
relay's and the CLI's lines about that job. The test stack logs JSON lines
(LOG_FORMAT=json, tests/integration/stack.py)."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import timedelta
from typing import Any

import requests

from models import Job
from models.base import utcnow
from tests.integration.stack import LOGS, free_port, start_api, stop, wait_ready
from tests.integration.test_cli import flask_cli


def lines_with(request_id: str, timeout: float = 10, until: str = "") -> list[dict[str, Any]]:
    """Every JSON log line of the test processes carrying `request_id`, once one
    of them contains `until` (lines are written after the answers)."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for path in LOGS.glob("*.log"):
            for line in path.read_text(errors="replace").splitlines():
                if request_id in line and line.startswith("{"):
                    found.append({**json.loads(line), "file": path.name})
        if any(until in json.dumps(line) for line in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def by_file(lines: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["file"].startswith(prefix)]


def test_a_command_is_followed_from_the_post_to_the_workers_commit(api):
    request_id = f"corr-{uuid.uuid4()}"
    response = api.post("/api/v1/orders", json={"currency": "EUR", "items": [
        {"sku": "A-1", "quantity": 1, "unit_price_cents": 100}]}, headers={"X-Request-ID": request_id})  # fmt: skip
    assert response.headers["X-Request-ID"] == request_id
    job = api.wait(response.json())
    assert job["status"] == "succeeded"

    lines = lines_with(request_id, until="succeeded")
    access = [line for line in by_file(lines, "api-") if line["message"] == "request"]
    assert [(line["method"], line["path"], line["status"]) for line in access] == [("POST", "/api/v1/orders", 202)]
    worker = by_file(lines, "worker-")
    assert worker and all(line["job_id"] == job["id"] for line in worker)
    assert any("succeeded" in line["message"] for line in worker)
    assert all({"time", "level", "logger"} <= line.keys() for line in lines)


def test_the_request_id_survives_a_relay_republish_and_a_cli_retry(api, session_factory):
    order_id = api.create_order()
    request_id = f"corr-{uuid.uuid4()}"
    # A job the API committed but whose message was lost (as after a crash
    # between commit and publish): only the relay can send it. `deliver` on a
    # pending order fails, so that an operator can then retry it.
    lost = {"id": str(uuid.uuid4())}
    with session_factory() as session:
        session.add(Job(id=uuid.UUID(lost["id"]), tenant_id=api.tenant_id, command="deliver",
                        order_id=uuid.UUID(order_id), status="queued", attempts=0,
                        created_at=utcnow() - timedelta(seconds=5), request_id=request_id))  # fmt: skip
        session.commit()
    assert api.wait(lost, timeout=60)["error"]["code"] == "invalid_transition"
    relay = by_file(lines_with(request_id, until="republished"), "relay")
    assert [line["job_id"] for line in relay if "republished" in line["message"]] == [lost["id"]]

    retried = flask_cli("jobs", "retry", lost["id"])
    assert retried.returncode == 0, retried.stderr
    cli = [json.loads(line) for line in retried.stderr.splitlines() if line.startswith("{")]
    assert [(line["request_id"], line["job_id"]) for line in cli if "queued again" in line["message"]] == [
        (request_id, lost["id"])
    ]
    time.sleep(1)
    assert api.wait(lost)["status"] == "failed"
    applied = [line for line in by_file(lines_with(request_id), "worker-") if "failed" in line["message"]]
    assert len(applied) == 2  # the first delivery and the retry, both with the request id


def test_an_unusable_request_id_is_replaced(base_url, api):
    for sent in ("two words", "x" * 129, "ünïcode", "a\\tb", ""):
        response = requests.get(f"{base_url}/healthz", headers={"X-Request-ID": sent.encode("utf-8")}, timeout=10)
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"]), sent
    assert re.fullmatch(r"[0-9a-f]{32}", api.get("/api/v1/jobs").headers["X-Request-ID"])


def test_text_logs_carry_the_request_id_and_no_key(api):
    """`make run`'s readable format (LOG_FORMAT=text, the default)."""
    port = free_port()
    process = start_api(port, workers=1, LOG_FORMAT="text")
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        request_id = f"corr-{uuid.uuid4()}"
        response = requests.get(f"http://127.0.0.1:{port}/api/v1/jobs?api_key={api.key}",
                                headers={"Authorization": f"Bearer {api.key}", "X-Request-ID": request_id},
                                timeout=10)  # fmt: skip
        assert response.status_code == 200
        time.sleep(0.5)
    finally:
        stop(process)
    log = (LOGS / f"api-{port}.log").read_text(errors="replace")
    (access,) = [line for line in log.splitlines() if request_id in line]
    assert access.startswith("127.0.0.1 ") and '"GET /api/v1/jobs HTTP/1.1" 200' in access
    assert access.endswith(f" {request_id}")
    assert api.key.split("_", 2)[2] not in log
