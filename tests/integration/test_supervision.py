"""`make run` keeps the system up: a process that dies is started again, the
others keep running, and Ctrl-C still stops everything (supervisord, as
scripts/run.sh starts it)."""

from __future__ import annotations

import os
import signal
import time

import requests

from tests.integration import stack


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


def test_a_killed_worker_is_started_again_and_ctrl_c_stops_everything(tmp_path):
    supervised = stack.start_supervised(tmp_path)
    try:
        programs = ("web", "worker", "relay", "webhooks", "stream", "flower")
        first = {name: supervised.pid(name) for name in programs}
        assert all(first.values()), supervised.status()
        os.kill(first["worker"], signal.SIGKILL)  # as the OOM killer would

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pid = supervised.pid("worker")
            if pid and pid != first["worker"] and "worker                           RUNNING" in supervised.status():
                break
            time.sleep(0.5)
        log = supervised.log.read_text()
        assert supervised.pid("worker") not in (0, first["worker"]), supervised.status()
        assert "exited: worker (terminated by SIGKILL; not expected)" in log
        # Nobody else was stopped: same API, relay, webhook sender, stream publisher and Flower, still answering.
        others = ("web", "relay", "webhooks", "stream", "flower")
        assert {name: supervised.pid(name) for name in others} == {name: first[name] for name in others}
        assert requests.get(f"{supervised.api_url}/healthz", timeout=10).status_code == 200
        children = [*(first[name] for name in others), supervised.pid("worker")]
    finally:
        stack.stop_supervised(supervised)
    assert supervised.supervisord.returncode == 0
    assert [pid for pid in children if _alive(pid)] == []
