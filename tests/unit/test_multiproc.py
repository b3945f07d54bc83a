"""The metrics folders of processes that are gone are deleted at the next start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PREPARE = """
import os
from telemetry import multiproc
multiproc.prepare("api")
from telemetry import metrics
metrics.JOBS_ACCEPTED.labels("create").inc()
print(os.environ["PROMETHEUS_MULTIPROC_DIR"])
"""


def test_a_start_gets_a_fresh_folder_and_deletes_those_of_dead_processes(tmp_path):
    dead = tmp_path / "api-999999999"  # no such process
    alive = tmp_path / f"api-{os.getpid()}"  # another API still running
    other = tmp_path / "worker-999999999"  # another component's: not ours to judge
    for folder in (dead, alive, other):
        folder.mkdir()
        (folder / "counter_1.db").write_bytes(b"")
    env = {**os.environ, "METRICS_DIR": str(tmp_path)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    result = subprocess.run([sys.executable, "-c", PREPARE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60, check=True)  # fmt: skip
    mine = Path(result.stdout.strip())
    assert mine.parent == tmp_path and mine.name.startswith("api-")
    assert f"counter_{mine.name.split('-')[1]}.db" in {path.name for path in mine.iterdir()}  # values in files
    assert not dead.exists()
    assert alive.exists() and other.exists()
