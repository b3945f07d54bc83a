"""schemathesis against the running API and worker: every check, every phase
(examples, coverage, fuzzing, and the stateful phase that follows the
document's links). Configuration: schemathesis.toml; hooks:
schemathesis_hooks.py."""

from __future__ import annotations

import subprocess

from tests.integration.stack import BIN, ROOT
from tests.integration.test_job_waits import stuck_job
from web.openapi import document


def test_schemathesis_finds_nothing(api, base_url, session_factory):
    endpoint = api.post(
        "/api/v1/webhooks", json={"url": "https://hooks.example.com/orderly", "events": ["job.finished"]}
    )
    api.wait(api.submit_create())  # a delivery for the endpoint (pending: no sender runs here)
    (delivery,) = api.get(f"/api/v1/webhooks/{endpoint.json()['id']}/deliveries").json()["data"]
    env = {
        "ORDERLY_ENDPOINT_ID": endpoint.json()["id"],
        "ORDERLY_DELIVERY_ID": delivery["id"],
        "ORDERLY_QUEUED_JOB_ID": stuck_job(session_factory, api),
        "ORDERLY_API_KEY": api.key,
        "SCHEMATHESIS_HOOKS": "tests.integration.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
        "PATH": str(BIN),
    }
    result = subprocess.run(
        [
            BIN / "st", "run", f"{base_url}/api/v1/openapi.json",
            "--checks", "all", "--max-examples", "50", "--seed", "1", "--request-timeout", "15",
            "--no-color",
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    # Failures and errors fail the run; warnings do not. The one expected here:
    # a webhook delivery to resend needs a job finished after its endpoint was
    # made, within one scenario, which the stateful phase rarely reaches (the
    # resend is still tested by the other phases and by test_webhooks.py).
    assert result.returncode == 0, result.stdout[-6000:]
    assert "Failures:" not in result.stdout and "Errors:" not in result.stdout
    # Every operation of the document ran, but the one serving the document
    # itself, which schemathesis leaves out.
    operations = sum(method != "parameters" for item in document()["paths"].values() for method in item)
    assert f"Tested: {operations - 1}" in result.stdout
