"""Nothing of the dev stack listens beyond loopback, and Flower is never open."""

from __future__ import annotations

import re
import subprocess
import time

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
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 401
        assert requests.get(f"http://127.0.0.1:{port}/", auth=("ops", "a-test-password"), timeout=10).ok
    finally:
        stop(flower)
