"""A background thread that must run once in each process that uses it.

gunicorn builds the app, then forks its workers: a thread started before the
fork does not exist in the children. So the API's background threads (the
publisher, the job-waits subscriber) start on first use, once per process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable


class ProcessThread:
    def __init__(self, name: str, target: Callable[[], None], on_start: Callable[[], None] | None = None) -> None:
        """`on_start` runs, under the lock, in each process before its thread starts."""
        self._name = name
        self._target = target
        self._on_start = on_start
        self._owner_pid: int | None = None
        self._lock = threading.Lock()

    def ensure_started(self) -> None:
        if self._owner_pid == os.getpid():  # the common case: no lock
            return
        with self._lock:
            if self._owner_pid == os.getpid():
                return
            self._owner_pid = os.getpid()
            if self._on_start is not None:
                self._on_start()
            threading.Thread(target=self._target, name=self._name, daemon=True).start()
