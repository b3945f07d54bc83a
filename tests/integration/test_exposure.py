"""Nothing of the dev stack listens beyond loopback, and Flower is never open."""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from pathlib import Path

import requests

from tests.integration.stack import BIN, LOGS, ROOT, free_port, process_env, stop

# The processes of the stack: the three servers, epmd, the API, Celery/Flower.
STACK_PROCESSES = ("postgres", "redis-server", "beam.smp", "epmd", "gunicorn", "celery", "python")
LOOPBACK = ("127.0.0.1", "[::1]")


def listening() -> list[tuple[str, int, str]]:
    """(address, port, process name) of every listening TCP socket with a known owner."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True, timeout=10).stdout
    sockets = []
    for line in out.splitlines():
        fields = line.split()
        address, _, port = fields[3].rpartition(":")
        for name in re.findall(r'\("([^"]+)",pid=', line):
            sockets.append((address, int(port), name))
    return sockets


def test_no_server_of_the_stack_listens_beyond_loopback(running, settings):
    sockets = listening()
    ours = [s for s in sockets if s[2] in STACK_PROCESSES]
    exposed = [s for s in ours if s[0] not in LOOPBACK]
    assert exposed == [], exposed
    # The check saw the real servers (it is not vacuous).
    seen = {name for _, _, name in ours}
    assert {"postgres", "redis-server", "beam.smp", "epmd", "gunicorn"} <= seen, seen


def test_flower_as_make_run_starts_it_is_on_loopback_and_asks_for_a_password():
    """Flower is started exactly as the Procfile says."""
    command = next(
        line.split(":", 1)[1] for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("flower:")
    )
    port = free_port()
    env = process_env(VENV_BIN=str(BIN), FLOWER_PORT=str(port), FLOWER_BASIC_AUTH="ops:a-test-password")
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / "flower.log", "ab") as log:
        flower = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(p == port for _, p, _ in listening()):
            time.sleep(0.3)
        addresses = {address for address, p, _ in listening() if p == port}
        assert addresses and addresses <= set(LOOPBACK), addresses
        for page in ("/", "/metrics", "/api/workers", "/tasks"):
            assert requests.get(f"http://127.0.0.1:{port}{page}", timeout=10).status_code == 401, page
            wrong = requests.get(f"http://127.0.0.1:{port}{page}", auth=("ops", "wrong"), timeout=10)
            assert wrong.status_code == 401, page
        for page in ("/", "/metrics"):
            assert requests.get(f"http://127.0.0.1:{port}{page}", auth=("ops", "a-test-password"), timeout=10).ok
        # Not on Flower's command line, where any local user could read it.
        assert "a-test-password" not in (Path("/proc") / str(flower.pid) / "cmdline").read_text()
    finally:
        stop(flower)


# ---------------------------------------------------------------- what answers without credentials
# The documented allow-list (docs/security.md, "Public endpoints"): every
# other route of the API answers 401 without a key.
PUBLIC_ROUTES = {
    "/healthz": "the process answers",
    "/readyz": "which dependency is down; checks cached for a second",
    "/api/v1/openapi.json": "the API's description",
    "/api/v1/docs": "Swagger UI, served by the API itself",
    "/api/v1/docs/<asset>": "Swagger UI's files",
}


def concrete(rule: str) -> str:
    """A request path for a URL rule: every variable filled with something plausible."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: "index.html" if m[1] == "asset" else str(uuid.uuid4()), rule)


def test_every_route_without_a_key_answers_401_unless_it_is_listed_public(base_url):
    from web import create_app

    app = create_app()
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    assert len(rules) > 8, rules  # the whole URL map, not a handful
    for rule in rules:
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = requests.request(method, base_url + concrete(rule.rule), timeout=10, json={})
            if rule.rule in PUBLIC_ROUTES:
                assert response.status_code != 401, (method, rule.rule)
            else:
                assert response.status_code == 401, (method, rule.rule, response.status_code)
    assert set(PUBLIC_ROUTES) <= {rule.rule for rule in rules}  # the list names real routes


# Every TCP port the stack listens on, by owner, and what guards it. A port
# that is not here fails the test: a new listener must be added with its guard.
KNOWN_PORTS = {
    "postgres": "password (scram-sha-256) for every TCP client",
    "redis-server": "ACL: default user off",
    "beam.smp": "AMQP (users; guest deleted), management API (users), Erlang distribution (cookie)",
    "epmd": "Erlang port mapper: names only, loopback",
    "gunicorn": "the API: a key for every route not listed public; its master's metrics exporter (loopback)",
    "celery": "Flower: basic auth on every page; a worker's metrics exporter (loopback)",
    "python": "the relay's and the webhook sender's metrics exporters (loopback)",
}


def test_every_listening_port_of_the_stack_is_known_and_refuses_anonymous_http(running):
    ours = [(address, port, name) for address, port, name in listening() if name in STACK_PROCESSES]
    assert {name for _, _, name in ours} >= {"postgres", "redis-server", "beam.smp", "gunicorn"}, ours
    unknown = [socket for socket in ours if socket[2] not in KNOWN_PORTS]
    assert unknown == [], unknown
    exporters = {int(url.split(":")[2].split("/")[0]) for url in running.metrics.values()}
    for _, port, name in ours:
        if port in exporters:
            # Prometheus exposition only (counts, no data, no secrets), on loopback.
            response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=3)
            assert response.headers["Content-Type"].startswith("text/plain"), port
            assert "orderly_" in response.text or "process_" in response.text
            continue
        try:
            response = requests.get(f"http://127.0.0.1:{port}/api/overview", timeout=3)
        except requests.RequestException:
            continue  # not HTTP: PostgreSQL, Redis, AMQP, Erlang (their own tests: test_privileges.py)
        if name == "gunicorn":
            assert response.status_code in (401, 404), (port, response.status_code)  # no such API route
            assert requests.get(f"http://127.0.0.1:{port}/api/v1/orders", timeout=3).status_code == 401
        else:  # RabbitMQ's management API (its login page is static and holds no data)
            assert response.status_code == 401, (name, port, response.status_code)
