"""Health checks of the processes other than the API: the relay's heartbeat
(`python -m workers.relay --check`) and its watchdog, which ends a relay
whose loop is stuck so that supervisord or compose restarts it; a worker
answers `celery inspect ping`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.integration import stack
from tests.integration.stack import BIN, ROOT, process_env


def relay_check(heartbeat, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workers.relay", "--check"], cwd=ROOT, capture_output=True, text=True,
                          env=process_env(RELAY_HEARTBEAT_FILE=str(heartbeat), **env), timeout=60)  # fmt: skip


def test_the_relay_check_follows_its_heartbeat(tmp_path):
    heartbeat = tmp_path / "relay.heartbeat"
    assert relay_check(heartbeat).returncode == 1  # no relay has run yet
    relay = stack.start_relay("relay-health", RELAY_HEARTBEAT_FILE=str(heartbeat))
    try:
        deadline = time.monotonic() + 30
        while not heartbeat.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        healthy = relay_check(heartbeat)
        assert healthy.returncode == 0, healthy.stdout
        assert healthy.stdout.startswith("relay healthy")
        os.kill(relay.pid, signal.SIGSTOP)  # frozen: no more heartbeats
        time.sleep(3)
        frozen = relay_check(heartbeat, RELAY_HEALTHY_WITHIN_SECONDS="2")
        assert frozen.returncode == 1 and "unhealthy" in frozen.stdout
        os.kill(relay.pid, signal.SIGCONT)
    finally:
        stack.stop(relay)


def test_a_relay_whose_loop_is_stuck_exits_so_that_it_is_restarted(tmp_path):
    relay = stack.start_relay("relay-stuck", RELAY_WATCHDOG_SECONDS="2", ORDERLY_FAULTS="relay.round=sleep:60",
                              RELAY_HEARTBEAT_FILE=str(tmp_path / "relay.heartbeat"))  # fmt: skip
    try:
        assert relay.wait(30) == 70
    finally:
        stack.stop(relay)
    log = (stack.LOGS / "relay-stuck.log").read_text(errors="replace")
    assert "has not gone round" in log


def test_a_running_worker_answers_celery_inspect_ping(running):
    command = [BIN / "celery", "-A", "workers", "inspect", "ping", "-d", "w1@orderly-test", "--timeout", "10"]
    ping = subprocess.run(command, cwd=ROOT, env=process_env(), capture_output=True, text=True, timeout=60)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert "pong" in ping.stdout
