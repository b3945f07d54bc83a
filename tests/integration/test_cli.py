"""Operator CLI: `flask --app web apikey create` and `idempotency purge`."""

from __future__ import annotations

import subprocess
import uuid

from tests.integration.client import Api
from tests.integration.stack import BIN, ROOT, process_env


def flask_cli(*args):
    return subprocess.run(
        [BIN / "flask", "--app", "web", *args], cwd=ROOT, env=process_env(), capture_output=True, text=True, timeout=60
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
