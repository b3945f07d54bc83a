"""Operator CLI: `flask --app web apikey ...`, `idempotency purge`, `jobs ...`,
`orders show`, `queue stats`, `db ...`: tables for people, --json for scripts,
a clear error and a non-zero exit otherwise."""

from __future__ import annotations

import json
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

    listed = flask_cli("apikey", "list", "--tenant", tenant, "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(k["key_id"], k["tenant"], k["state"]) for k in json.loads(listed.stdout)] == [(key_id, tenant, "active")]
    assert key.split("_", 2)[2] not in listed.stdout  # never the secret (which may contain "_")
    table = flask_cli("apikey", "list", "--tenant", tenant).stdout.splitlines()
    assert table[0].split() == ["KEY_ID", "TENANT", "CREATED_AT", "LAST_USED_AT", "STATE"]
    assert table[1].split()[:2] == [key_id, tenant]

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


def cli_json(*args):
    result = flask_cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_command_has_help_and_errors_exit_non_zero_with_one_clear_line():
    from web import create_app

    app = create_app()
    commands = []
    for name, group in app.cli.commands.items():
        if name in {"run", "shell", "routes"}:
            continue
        for sub in getattr(group, "commands", {}):
            commands.append((name, sub))
    assert len(commands) >= 15, commands
    for command in commands:
        helped = flask_cli(*command, "--help")
        assert helped.returncode == 0 and "Usage:" in helped.stdout, command
    missing = flask_cli("jobs", "show", str(uuid.uuid4()))
    assert missing.returncode == 1
    assert missing.stderr.strip().startswith("Error: no job") and "Traceback" not in missing.stderr
    bad = flask_cli("jobs", "list", "--since", "yesterday-ish")
    assert bad.returncode == 2 and "30m, 2h, 7d" in bad.stderr


def orderly(*args):
    """The CLI as the README has operators run it."""
    return subprocess.run(
        [ROOT / "orderly", *args], cwd=ROOT, env=process_env(), capture_output=True, text=True, timeout=60
    )


def test_usage_and_lookup_errors_are_one_line_that_names_the_orderly_command():
    for args, help_for in [
        (("jobs", "show", "not-a-uuid"), "./orderly jobs show --help"),
        (("orders", "show", "nope"), "./orderly orders show --help"),
        (("jobs", "nope"), "./orderly jobs --help"),
        (("jobs", "show"), "./orderly jobs show --help"),
    ]:
        result = orderly(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("Error: ") and help_for in result.stderr, result.stderr
    unknown = str(uuid.uuid4())
    retried = orderly("jobs", "retry", unknown)
    assert retried.returncode == 1
    assert retried.stderr.strip() == f"Error: not failed or unknown: {unknown}"
    assert retried.stdout == ""


def test_jobs_list_show_stats_and_orders_show(api):
    order_id = api.create_order()
    assert api.apply(order_id, "deliver")["status"] == "failed"  # pending orders cannot be delivered
    paid = api.apply(order_id, "pay")
    listed = cli_json("jobs", "list", "--tenant", str(api.tenant_id), "--since", "10m")
    assert [(job["command"], job["status"], job["code"]) for job in listed] == [
        ("pay", "succeeded", None),
        ("deliver", "failed", "invalid_transition"),
        ("create", "succeeded", None),
    ]
    only_failed = cli_json("jobs", "list", "--tenant", str(api.tenant_id), "--code", "invalid_transition")
    assert [job["command"] for job in only_failed] == ["deliver"]
    shown = cli_json("jobs", "show", paid["id"])
    assert (shown["status"], shown["attempts"], shown["order_id"], shown["republish_count"]) == (
        "succeeded", 1, order_id, 0)  # fmt: skip
    assert shown["request_id"]
    stats = cli_json("jobs", "stats")
    assert stats["succeeded"] >= 2 and stats["failed"] >= 1 and stats["oldest_queued_age_seconds"] >= 0
    order = cli_json("orders", "show", order_id)
    assert (order["status"], order["version"]) == ("paid", 2)
    assert [(e["version"], e["command"], e["to_status"]) for e in order["events"]] == [
        (1, "create", "pending"), (2, "pay", "paid")]  # fmt: skip
    table = flask_cli("jobs", "list", "--tenant", str(api.tenant_id)).stdout.splitlines()
    assert table[0].split()[:4] == ["ID", "TENANT", "COMMAND", "STATUS"] and len(table) == 4


def test_jobs_retry_by_code_and_time_with_a_dry_run_first(api):
    order_id = api.create_order()
    failed = [api.apply(order_id, "ship") for _ in range(2)]  # pending orders cannot be shipped
    assert {job["error"]["code"] for job in failed} == {"invalid_transition"}
    mine = ["--code", "invalid_transition", "--since", "1m", "--tenant", str(api.tenant_id)]
    dry = flask_cli("jobs", "retry", *mine, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert set(dry.stdout.split()) == {job["id"] for job in failed}
    assert all(api.get(f"/api/v1/jobs/{job['id']}").json()["status"] == "failed" for job in failed)  # unchanged
    api.apply(order_id, "pay")  # now ship can succeed
    retried = flask_cli("jobs", "retry", *mine)
    assert retried.returncode == 0, retried.stderr
    assert "queued 2 jobs again" in retried.stdout
    outcomes = sorted(api.wait(job)["status"] for job in failed)
    # Both were applied again: the first ships the order, the second finds it shipped.
    assert outcomes == ["failed", "succeeded"]
    assert flask_cli("jobs", "retry", "--code", "x").returncode == 2  # --since is required


def test_queue_stats_and_db_upgrade(running):
    stats = cli_json("queue", "stats")
    assert stats["queue"] == "orderly.commands" and stats["vhost"] == "orderly_test"
    assert stats["consumers"] >= 1 and stats["max_length"] > 0
    upgraded = flask_cli("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "latest migration" in upgraded.stdout
