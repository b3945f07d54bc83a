"""`make bench` still works: one short round of two phases (seconds, not a
measurement; the benchmark itself is never a timed test)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.integration.stack import ROOT, free_port, process_env


def test_the_benchmark_runs_and_reports_orderly_beside_its_floor():
    if shutil.which("wrk") is None:
        pytest.fail("wrk is missing: scripts/test.sh installs it (apt-get install wrk)")
    ports = {
        name: str(free_port())
        for name in (
            "ORDERLY_BENCH_PORT",
            "ORDERLY_BENCH_BARE_PORT",
            "ORDERLY_BENCH_FLOWER_PORT",
            "ORDERLY_BENCH_BARE_FLOWER_PORT",
        )
    }
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--only", "flask_json,post"],
        cwd=ROOT, env=process_env(**ports), capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "| POST only: completed/s |" in result.stdout
    raw = next(line for line in result.stdout.splitlines() if line.startswith("make bench:")).rsplit(" ", 1)[-1]
    rows = [json.loads(line) for line in (ROOT / raw.removeprefix(str(ROOT) + "/") / "results.jsonl").open()]
    posts = {row["system"]: row for row in rows if row["phase"] == "post"}
    for system in ("bare", "orderly"):
        assert posts[system]["accepted"] > 0 and posts[system]["unexpected"] == 0
        assert posts[system]["jobs_succeeded"] == posts[system]["jobs"] > 0  # every accepted job was drained
