"""Flame graphs of Orderly's API and worker during a phase (py-spy), and a
short text summary of where the time went."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

PY_SPY = Path(sys.executable).parent / "py-spy"


class Profiler:
    """py-spy record on each root pid (with its subprocesses) while a phase runs."""

    def __init__(self, out: Path, targets: dict[str, int], seconds: int) -> None:
        self.out, self.targets, self.seconds = out, targets, seconds
        self.running: list[tuple[Path, subprocess.Popen[bytes]]] = []

    @staticmethod
    def available() -> bool:
        return PY_SPY.exists() or shutil.which("py-spy") is not None

    def start(self, phase: str) -> None:
        """Two samplers per process: an SVG flame graph to look at, collapsed
        stacks to summarise."""
        for name, pid in self.targets.items():
            for fmt, suffix in (("flamegraph", "svg"), ("raw", "txt")):
                output = self.out / f"profile-{phase}-{name}.{suffix}"
                # --gil: only the thread holding the GIL, i.e. where the CPU goes.
                command = [str(PY_SPY), "record", "--subprocesses", "--nonblocking", "--gil", "--pid", str(pid),
                           "--rate", "100", "--duration", str(self.seconds), "--format", fmt,
                           "--output", str(output)]  # fmt: skip
                process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                self.running.append((output, process))

    def stop(self) -> None:
        for output, process in self.running:
            process.wait(timeout=self.seconds + 60)
            if output.suffix == ".txt" and output.exists():
                summarise(output, output.with_suffix(".summary"))
        self.running.clear()


def summarise(raw: Path, out: Path, top: int = 25) -> None:
    """The functions with the most samples, inclusive (anywhere on the stack)."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        for frame in set(stack.split(";")):
            inclusive[frame.split(" (")[0] + " (" + frame.rsplit("/", 1)[-1]] += samples
    lines = [f"{100 * n / max(1, total):5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    out.write_text(f"{total} samples\n" + "\n".join(lines) + "\n")
