"""CPU time per process group, read from /proc (no dependency, Linux only)."""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process and of its reaped children (a recycled
    gunicorn worker or pool child), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return sum(int(x) for x in fields[11:15]) / TICKS


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            ppid = int(Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(root: int) -> list[int]:
    """`root` and every process below it."""
    tree, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class CpuSample:
    """CPU shares of named process groups over one interval."""

    groups: dict[str, list[int]]  # group name -> root pids (descendants included)
    started: float = 0.0
    before: dict[str, float] = field(default_factory=dict)
    machine_before: tuple[float, float] = (0.0, 0.0)
    children_before: float = 0.0

    def _read(self) -> dict[str, float]:
        return {
            name: sum(_cpu_seconds(pid) for root in roots for pid in descendants(root))
            for name, roots in self.groups.items()
        }

    def start(self) -> None:
        self.before = self._read()
        self.machine_before = _machine_busy()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.children_before = usage.ru_utime + usage.ru_stime
        self.started = time.monotonic()

    def stop(self) -> dict[str, float]:
        """Share of one core per group (1.0 = a whole core) and `machine`, the
        share of all cores busy (1.0 = saturated). `loadgen` is the CPU of the
        child processes that exited meanwhile (wrk)."""
        elapsed = time.monotonic() - self.started
        after = self._read()
        shares = {name: round((after[name] - self.before.get(name, 0.0)) / elapsed, 3) for name in after}
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        shares["loadgen"] = round((usage.ru_utime + usage.ru_stime - self.children_before) / elapsed, 3)
        busy, total = _machine_busy()
        shares["machine"] = round((busy - self.machine_before[0]) / max(1.0, total - self.machine_before[1]), 3)
        return shares
