"""Prometheus multiprocess mode, chosen before prometheus_client is imported.

prometheus-client decides at its import whether values go to per-process
files (PROMETHEUS_MULTIPROC_DIR set) or stay in memory. The API (gunicorn)
and the worker (Celery prefork) run several processes, so their first
process calls `prepare` before Orderly's metrics are created; the children
inherit the variable. When something imported prometheus_client earlier
(the celery command loads Flower's plugin, which does), `prepare` switches
its value class, which metrics read when they are created.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import config

ENV = "PROMETHEUS_MULTIPROC_DIR"


def base_dir() -> Path:
    """METRICS_DIR, or .local/metrics in the checkout."""
    configured = config.current().metrics_dir
    return Path(configured) if configured else config.ROOT / ".local" / "metrics"


def prepare(component: str) -> None:
    """Give this process (and its future children) a fresh folder of their own,
    <base>/<component>-<pid>, and delete the folders of that component's
    processes that are gone (the files of dead processes)."""
    if ENV in os.environ:
        return
    if "telemetry.metrics" in sys.modules:
        raise RuntimeError("multiproc.prepare() must run before telemetry.metrics is imported")
    base = base_dir()
    base.mkdir(parents=True, exist_ok=True)
    for old in base.glob(f"{component}-*"):
        pid = old.name.rsplit("-", 1)[1]
        if not pid.isdigit() or not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    directory = base / f"{component}-{os.getpid()}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    os.environ[ENV] = str(directory)
    values = sys.modules.get("prometheus_client.values")
    if values is not None:
        values.ValueClass = values.MultiProcessValue()  # type: ignore[attr-defined]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
