"""Issue 9's live probes, run against the real stack: slow clients, malformed
numbers, secrets in logs, the Werkzeug debugger, guessing keys, a flood of
/readyz; and what keys must do: expire, rotate, leave an audit trail
(docs/security.md)."""

from __future__ import annotations

import base64
import http.client
import json
import secrets
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import datetime

import pytest
import requests
from sqlalchemy import event, text
from sqlalchemy.exc import ProgrammingError

import config
from access import audit
from access.key_verifier import KeyVerifier
from infra.db import make_autocommit_session_factory, make_engine, make_session_factory
from infra.redis_client import FailFast, make_redis
from tests.integration.stack import BIN, LOGS, ROOT, free_port, process_env, start_api, stop, wait_ready
from tests.integration.test_cli import flask_cli

STALLED_CONNECTIONS = 64
KEEPALIVE_SECONDS = 5  # gunicorn.conf.py: the deadline for a request's head


@contextmanager
def stalled_clients(base_url: str, count: int) -> Iterator[list[socket.socket]]:
    """Connections that send half a request (line and one header) and then wait."""
    host, port = base_url.removeprefix("http://").split(":")
    with ExitStack() as stack:
        sockets = []
        for _ in range(count):
            client = stack.enter_context(socket.create_connection((host, int(port)), timeout=10))
            client.sendall(b"GET /api/v1/orders HTTP/1.1\r\nHost: orderly\r\n")
            sockets.append(client)
        yield sockets


def timed_get(url: str, **kwargs: object) -> tuple[int, float]:
    started = time.monotonic()
    response = requests.get(url, timeout=10, **kwargs)  # type: ignore[arg-type]
    return response.status_code, time.monotonic() - started


def test_stalled_clients_do_not_starve_the_api_and_are_dropped(api, base_url):
    with stalled_clients(base_url, STALLED_CONNECTIONS) as sockets:
        time.sleep(0.5)  # every one of them accepted and waiting in a read
        assert timed_get(f"{base_url}/healthz")[0] == 200
        status, seconds = timed_get(f"{base_url}/healthz")
        assert (status, seconds < 1) == (200, True), seconds
        status, seconds = timed_get(f"{base_url}/api/v1/orders", headers={"Authorization": f"Bearer {api.key}"})
        assert (status, seconds < 1) == (200, True), seconds
        # The server hangs up on a client that has not finished its request
        # head within the deadline: an idle connection is not held forever.
        sockets[0].settimeout(KEEPALIVE_SECONDS + 5)
        started = time.monotonic()
        assert sockets[0].recv(1024) == b""
        assert time.monotonic() - started < KEEPALIVE_SECONDS + 2


@pytest.mark.parametrize("query", ["page=%C2%B2", "limit=%E2%91%A0", "page=" + "4" * 4400, "page=%D9%A3"])
def test_unicode_and_huge_numbers_in_the_query_are_400(api, query):
    response = api.get(f"/api/v1/orders?{query}")
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] in ("page", "limit")


def every_way_a_client_could_send(key: str, marker: str) -> list[tuple[str, dict[str, str]]]:
    """(path, headers): the key as it belongs, and everywhere it does not."""
    basic_user = base64.b64encode(f"{key}:".encode()).decode()
    basic_password = base64.b64encode(f"user:{key}".encode()).decode()
    path = f"/api/v1/orders/{marker}"
    return [
        (path, {"Authorization": f"Bearer {key}"}),
        (path, {"Authorization": f"Basic {basic_user}"}),
        (path, {"Authorization": f"Basic {basic_password}"}),
        (path, {"Authorization": f"Token {key}"}),
        (path, {"Authorization": key}),
        (path, {"X-API-Key": key}),
        (f"{path}?api_key={key}", {}),
        (f"{path}?key={key}&page=1", {}),
        (path, {"Referer": f"https://example.com/?key={key}"}),
        (path, {"Authorization": f"Bearer {key}x"}),  # a near miss: a wrong key
    ]


def test_an_api_key_never_reaches_a_log(api, running):
    marker = str(uuid.uuid4())
    secret = api.key.split("_", 2)[2]  # the secret may contain "_" itself
    for path, headers in every_way_a_client_could_send(api.key, marker):
        response = requests.get(f"{api.base_url}{path}", headers=headers, timeout=10)
        assert response.status_code in (401, 404), (path, headers, response.status_code)
    time.sleep(1)  # the access log is written after each answer
    logs = {path: path.read_text(errors="replace") for path in LOGS.glob("*.log")}
    # The requests were logged (the grep looks where they went) ...
    assert sum(text.count(marker) for text in logs.values()) >= 10
    # ... and not one log line of any process holds the key or its secret part.
    leaked = [path.name for path, text in logs.items() if secret in text]
    assert leaked == []


@pytest.mark.parametrize("flags", [["--debug"], ["--debugger"], ["--debug", "--reload"]])
def test_flask_run_refuses_the_werkzeug_debugger(flags):
    result = subprocess.run(
        [BIN / "flask", "--app", "web", "run", *flags, "--port", "1"],
        cwd=ROOT, env=process_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "refuses to run under the Werkzeug debugger" in result.stderr
    assert "Debugger is active" not in result.stderr + result.stdout


# ---------------------------------------------------------------- pre-auth throttle
THROTTLE_LIMIT = 5


@pytest.fixture(scope="module")
def throttled_api() -> Iterator[str]:
    """An API of its own with a low failed-authentication limit (the shared
    test API lifts it: every test client is 127.0.0.1)."""
    port = free_port()
    process = start_api(port, FAILED_AUTH_LIMIT=str(THROTTLE_LIMIT))
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def made_up_key() -> str:
    return f"ok_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"


class Answer:
    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self.status_code, self.headers = status, headers


def fresh_address() -> str:
    return f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"


def get_from(address: str, base_url: str, path: str, key: str | None = None) -> Answer:
    """GET from a source address of our choosing: all of 127/8 is this machine,
    so each test is a client address no other test has used."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(address, 0))
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {key}"} if key else {})
        response = connection.getresponse()
        response.read()
        return Answer(response.status, dict(response.getheaders()))
    finally:
        connection.close()


def test_a_flood_of_made_up_keys_costs_no_lookup_per_request(settings):
    """The API's key check, in this process against the real servers: 16
    clients present 400 made-up keys at once. None is looked up; the only
    statements are refreshes of the known key ids, at most one per 0.2 s,
    each shared by every request waiting meanwhile (statements counted with
    SQLAlchemy's cursor events)."""
    engine = make_engine(settings.database_url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    client = make_redis(settings.redis_url)
    verifier = KeyVerifier(make_autocommit_session_factory(engine), client, FailFast("test"))
    started = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: verifier.verify(made_up_key()), range(400)))
    seconds = time.monotonic() - started
    assert results == [None] * 400
    assert statements, "the known key ids were never loaded"
    assert all("created_at" in statement for statement in statements), statements  # no lookup by id
    assert len(statements) <= seconds / 0.2 + 2, (len(statements), seconds)
    engine.dispose()


def test_failed_authentication_is_throttled_per_address(throttled_api, api):
    client, neighbour = fresh_address(), fresh_address()
    answers = [get_from(client, throttled_api, "/api/v1/orders", made_up_key()) for _ in range(40)]
    statuses = [a.status_code for a in answers]
    # The first failures answer 401; past the limit (shared by both processes
    # through Redis, give or take one per process) every answer is 429.
    assert set(statuses[:THROTTLE_LIMIT]) == {401}, statuses
    assert statuses.count(401) <= THROTTLE_LIMIT + 2, statuses
    assert set(statuses[THROTTLE_LIMIT + 2 :]) == {429}, statuses
    refused = answers[-1]
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Missing credentials from that address are refused too; another address is not.
    assert get_from(client, throttled_api, "/api/v1/orders").status_code == 429
    assert get_from(neighbour, throttled_api, "/api/v1/orders").status_code == 401
    # A valid key a process already holds still works from the throttled
    # address (a shared NAT address is not locked out by a neighbour).
    assert requests.get(f"{throttled_api}/api/v1/orders", headers=api.http.headers, timeout=10).status_code == 200
    from_client = [get_from(client, throttled_api, "/api/v1/orders", api.key).status_code for _ in range(8)]
    assert 200 in from_client and set(from_client) <= {200, 429}, from_client
    # The burst is in the audit log, once, with the address.
    bursts = [e for e in audit_events("auth.failures") if e.detail.get("address") == client]
    assert len(bursts) == 1, bursts


def audit_events(action: str) -> list:
    with make_session_factory(make_engine(config.current().database_url))() as session:
        return audit.recent(session, 20, action)


def test_readiness_checks_run_at_most_once_a_second_per_process(base_url):
    answers = [requests.get(f"{base_url}/readyz", timeout=10) for _ in range(60)]
    assert {a.status_code for a in answers} == {200}
    checked = {a.json()["checked_at"] for a in answers}
    seconds = 1 + (datetime.fromisoformat(max(checked)) - datetime.fromisoformat(min(checked))).total_seconds()
    assert len(checked) <= 2 * (seconds + 1), (len(checked), seconds)  # two API processes


# ---------------------------------------------------------------- keys: expiry, rotation, audit
def test_a_rotated_key_works_beside_its_successor_until_the_overlap_ends(api, base_url):
    key_id = api.key.split("_")[1]
    assert api.get("/api/v1/orders").status_code == 200  # held by the process now
    rotated = flask_cli("apikey", "rotate", key_id, "--overlap-hours", "0.001")  # 3.6 s
    assert rotated.returncode == 0, rotated.stderr
    successor = rotated.stdout.strip().splitlines()[-1]
    new = {"Authorization": f"Bearer {successor}"}
    assert requests.get(f"{base_url}/api/v1/orders", headers=new, timeout=10).status_code == 200
    assert api.get("/api/v1/orders").status_code == 200  # the overlap
    time.sleep(4)
    assert [api.get("/api/v1/orders").status_code for _ in range(4)] == [401] * 4
    assert requests.get(f"{base_url}/api/v1/orders", headers=new, timeout=10).status_code == 200
    listed = flask_cli("apikey", "list").stdout
    assert f"{key_id}" in listed and "expired" in next(line for line in listed.splitlines() if key_id in line)


def test_keys_can_expire_and_every_key_change_is_audited(base_url):
    tenant = f"audit-{uuid.uuid4().hex[:8]}"
    created = flask_cli("apikey", "create", "--tenant", tenant, "--expires-in-days", "30")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    key_id = key.split("_")[1]
    assert requests.get(f"{base_url}/api/v1/orders", headers={"Authorization": f"Bearer {key}"},
                        timeout=10).status_code == 200  # fmt: skip
    assert "active until" in next(line for line in flask_cli("apikey", "list").stdout.splitlines() if key_id in line)
    assert flask_cli("apikey", "revoke", key_id).returncode == 0
    listed = flask_cli("audit", "list", "--limit", "200", "--json").stdout
    mine = [event for event in json.loads(listed) if event["key_id"] == key_id]
    assert any(event["action"] == "key.created" and event["actor"].startswith("cli:") for event in mine), listed
    assert any(event["action"] == "key.revoked" for event in mine), listed


def test_the_audit_log_is_append_only_for_the_app(session_factory):
    with session_factory() as session:
        session.execute(text("INSERT INTO audit_events (action, actor) VALUES ('test.probe', 'test')"))
        session.commit()
        for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events", "TRUNCATE audit_events"):
            with pytest.raises(ProgrammingError, match="permission denied"):
                session.execute(text(statement))
            session.rollback()


# ---------------------------------------------------------------- requests gunicorn itself refuses
def raw_request(base_url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as client:
        client.sendall(request)
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /api/v1/orders/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad\x01Name: 1\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n", 400),
        (b"BR\xc3\x9cH /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ],
)
def test_requests_the_server_cannot_parse_get_a_problem_json_4xx(base_url, request_bytes, status):
    answered, headers, body = raw_request(base_url, request_bytes)
    assert answered == status
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == status and problem["type"].startswith("https://orderly.dev/problems/")


def test_a_key_in_a_malformed_header_is_not_logged(api, base_url):
    secret = api.key.split("_", 2)[2]
    malformed = (
        f"Authorization: Bearer {api.key}\x01",
        f"X-Key\x01: {api.key}",
        f"Authorization\x7f: Bearer {api.key}",
    )
    for line in malformed:
        answered, _, _ = raw_request(base_url, f"GET /api/v1/orders HTTP/1.1\r\nHost: x\r\n{line}\r\n\r\n".encode())
        assert answered == 400
    time.sleep(1)
    leaked = [path.name for path in LOGS.glob("*.log") if secret in path.read_text(errors="replace")]
    assert leaked == []
