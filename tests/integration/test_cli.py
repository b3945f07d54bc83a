"""Operator CLI: `flask --app web apikey create|list|verify|revoke` and `idempotency purge`."""

from __future__ import annotations

import subprocess
import uuid

from tests.integration.client import Api
from tests.integration.stack import BIN, LOGS, ROOT, process_env


def flask_cli(*args, stdin=None):
    return subprocess.run(
        [BIN / "flask", "--app", "web", *args],
        cwd=ROOT,
        env=process_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_apikey_create_prints_a_working_key_on_the_last_line(base_url):
    tenant = f"cli-{uuid.uuid4().hex[:8]}"
    result = flask_cli("apikey", "create", "--tenant", tenant)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("ok_")
    api = Api(base_url, key, tenant_id=None)
    assert api.get("/api/v1/orders").status_code == 200
    # A second key for the same tenant sees the same orders.
    other = flask_cli("apikey", "create", "--tenant", tenant).stdout.strip().splitlines()[-1]
    assert other != key
    order_id = api.create_order()
    assert Api(base_url, other, tenant_id=None).get(f"/api/v1/orders/{order_id}").status_code == 200


def test_idempotency_purge_refuses_less_than_a_day():
    result = flask_cli("idempotency", "purge", "--older-than-hours", "1")
    assert result.returncode != 0
    ok = flask_cli("idempotency", "purge")
    assert ok.returncode == 0, ok.stderr
    assert "deleted" in ok.stdout


def test_a_revoked_key_answers_401_at_once(base_url):
    tenant = f"revoke-{uuid.uuid4().hex[:8]}"
    key = flask_cli("apikey", "create", "--tenant", tenant).stdout.strip().splitlines()[-1]
    key_id = key.split("_")[1]
    api = Api(base_url, key, tenant_id=None)
    assert api.get("/api/v1/orders").status_code == 200
    assert flask_cli("apikey", "verify", stdin=key + "\n").returncode == 0

    listed = flask_cli("apikey", "list", "--tenant", tenant)
    assert listed.returncode == 0, listed.stderr
    assert f"{key_id}  tenant={tenant}" in listed.stdout
    assert "active" in listed.stdout
    assert key.split("_", 2)[2] not in listed.stdout  # never the secret (which may contain "_")

    revoked = flask_cli("apikey", "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    answer = api.get("/api/v1/orders")
    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert "revoked" in flask_cli("apikey", "list", "--tenant", tenant).stdout
    assert flask_cli("apikey", "revoke", key_id).returncode != 0  # already revoked
    refused = flask_cli("apikey", "verify", stdin=key + "\n")
    assert refused.returncode != 0
    assert "not a valid key" in refused.stderr


def test_keys_never_reach_the_logs(api):
    """Neither the key nor the Authorization header is written by the API or the worker."""
    order_id = api.create_order()
    api.get(f"/api/v1/orders/{order_id}")
    api.get("/api/v1/orders/not-a-uuid")  # an error answer is logged too
    secret = api.key.split("_", 2)[2]  # the secret may contain "_" itself
    logs = list(LOGS.glob("*.log"))
    assert logs
    for log in logs:
        text = log.read_text(errors="replace")
        assert secret not in text, log
        assert "Bearer ok_" not in text, log
