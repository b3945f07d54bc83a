"""Liveness for a loop process (the relay): a heartbeat file that a health
check reads, and a watchdog that ends a process whose loop is stuck.

docker-compose restarts a container that exits, not one that is merely
unhealthy, and supervisord (`make run`) likewise restarts only what exits:
so a stuck loop must end its own process. The health check
(`python -m workers.relay --check`) tells an orchestrator the same thing
from outside.
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType

log = logging.getLogger(__name__)

STUCK_EXIT_CODE = 70


def default_heartbeat_file(name: str) -> Path:
    return Path(tempfile.gettempdir()) / f"orderly-{name}.heartbeat"


class Heartbeat:
    def __init__(self, path: Path, stuck_after_seconds: float) -> None:
        self.path = path
        self.stuck_after = stuck_after_seconds
        self._last = time.monotonic()
        self._warned = False

    def beat(self) -> None:
        """The loop went round: note it in memory and in the file (atomically)."""
        self._last = time.monotonic()
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            partial.write_text(f"{time.time():.3f}\n")
            partial.replace(self.path)
        except OSError as exc:  # the loop goes on; the health check will say so
            if not self._warned:
                log.warning("cannot write the heartbeat file %s: %s", self.path, exc)
                self._warned = True

    def start_watchdog(self) -> None:
        threading.Thread(target=self._watch, name="watchdog", daemon=True).start()

    def _watch(self) -> None:
        while True:
            time.sleep(min(5.0, self.stuck_after / 4))
            silent = time.monotonic() - self._last
            if silent > self.stuck_after:
                log.critical("the loop has not gone round for %.0f s: exiting so that it is restarted", silent)
                logging.shutdown()
                os._exit(STUCK_EXIT_CODE)


def check(path: Path, healthy_within_seconds: float) -> tuple[bool, str]:
    """(healthy, reason) from the heartbeat file's age."""
    try:
        age = time.time() - float(path.read_text())
    except (OSError, ValueError):
        return False, f"no heartbeat in {path}"
    if age > healthy_within_seconds:
        return False, f"last heartbeat {age:.0f} s ago (more than {healthy_within_seconds:.0f} s)"
    return True, f"last heartbeat {age:.1f} s ago"


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT: a loop process's cue to finish its
    round and exit cleanly (compose and supervisord stop with SIGTERM)."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop
