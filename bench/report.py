"""The benchmark's table (medians, min-max, ratios to the floors) and chart."""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

# (phase, system, figure, label, floor as (phase, system, figure) or None)
LINES: list[tuple[str, str, str, str, tuple[str, str, str] | None]] = [
    ("flask_json", "bare", "ok_per_s", "bare Flask JSON, req/s", None),
    ("celery_noop", "bare", "tasks_per_s", "bare Celery no-op, tasks/s", None),
    ("post", "bare", "accepted_per_s", "bare pipeline POST: accepted/s", None),
    ("post", "bare", "completed_per_s", "bare pipeline POST: completed/s", None),
    ("poll", "bare", "client_completed_per_s", "bare pipeline POST+poll: completed/s", None),
    ("lifecycle", "bare", "client_completed_per_s", "bare pipeline lifecycle: commands/s", None),
    ("post", "orderly", "accepted_per_s", "POST only: accepted/s", ("post", "bare", "accepted_per_s")),
    ("post", "orderly", "completed_per_s", "POST only: completed/s", ("post", "bare", "completed_per_s")),
    ("post", "orderly", "completed_per_s", "  of the Celery no-op", ("celery_noop", "bare", "tasks_per_s")),
    ("post_flower", "bare", "completed_per_s", "bare pipeline, task events on, Flower watching: completed/s", None),
    ("post", "orderly", "completed_per_s", "  of the bare pipeline with task events and Flower",
     ("post_flower", "bare", "completed_per_s")),
    ("post", "orderly", "jobs_per_transaction", "  jobs per worker transaction (message)", None),
    ("post_capped", "orderly", "completed_per_s", "POST only, caps as shipped (rate limit raised): completed/s",
     ("post", "orderly", "completed_per_s")),
    ("post_capped", "orderly", "refused_share", "  share of answers refused (429, 503)", None),
    ("drain", "bare", "drain_per_s", "bare worker drains a backlog: jobs/s", None),
    ("drain", "orderly", "drain_per_s", "worker drains a backlog: jobs/s", ("drain", "bare", "drain_per_s")),
    ("drain", "orderly", "drain_per_s", "  of the bare worker with task events and Flower",
     ("drain_flower", "bare", "drain_per_s")),
    ("drain", "orderly", "jobs_per_transaction", "  jobs per worker transaction (message)", None),
    ("poll", "orderly", "client_completed_per_s", "POST+poll: completed/s", ("poll", "bare", "client_completed_per_s")),
    ("poll", "orderly", "polls_per_command", "POST+poll: polls per command", ("poll", "bare", "polls_per_command")),
    # Clients that wait (GET ?wait=20) beside Orderly's own POST-only and polling figures.
    ("wait", "orderly", "client_completed_per_s", "POST then GET ?wait=20: completed/s",
     ("post", "orderly", "completed_per_s")),
    ("wait", "orderly", "polls_per_command", "POST then GET ?wait=20: GETs per command",
     ("poll", "orderly", "polls_per_command")),
    ("wait", "orderly", "finish_p99_ms", "POST then GET ?wait=20: accepted->finished p99 ms",
     ("poll", "orderly", "finish_p99_ms")),
    ("prefer", "orderly", "client_completed_per_s", "POST with Prefer: wait=20: completed/s",
     ("post", "orderly", "completed_per_s")),
    ("prefer", "orderly", "polls_per_command", "POST with Prefer: wait=20: GETs per command",
     ("poll", "orderly", "polls_per_command")),
    ("open_wait_250", "orderly", "accept_p50_ms", "Prefer-waiting POSTs at 250/s: client's wait p50 ms",
     ("open_250", "orderly", "finish_p50_ms")),
    ("open_wait_250", "orderly", "accept_p99_ms", "Prefer-waiting POSTs at 250/s: client's wait p99 ms",
     ("open_250", "orderly", "finish_p99_ms")),
    ("open_wait_250", "orderly", "finished_in_answer", "  answered with the finished job (of 250/s x seconds)", None),
    ("waiters", "orderly", "accepted_per_s_during", "POST accepted/s while 500 requests wait",
     ("waiters", "orderly", "accepted_per_s_alone")),
    ("waiters", "orderly", "p99_ms_during", "POST p99 ms while 500 requests wait",
     ("waiters", "orderly", "p99_ms_alone")),
    ("waiters", "orderly", "paced_p99_ms_during", "POSTs at 125/s (open loop): p99 ms while 500 requests wait",
     ("waiters", "orderly", "paced_p99_ms_alone")),
    ("lifecycle", "orderly", "client_completed_per_s", "lifecycle: commands/s",
     ("lifecycle", "bare", "client_completed_per_s")),
    ("post", "orderly", "p50_us", "POST latency p50 (us, saturated)", ("post", "bare", "p50_us")),
    ("post", "orderly", "p99_us", "POST latency p99 (us, saturated)", ("post", "bare", "p99_us")),
    ("poll", "orderly", "finish_p50_ms", "POST+poll: accepted->finished p50 ms", ("poll", "bare", "finish_p50_ms")),
    ("poll", "orderly", "finish_p99_ms", "POST+poll: accepted->finished p99 ms", ("poll", "bare", "finish_p99_ms")),
    ("open_20", "orderly", "finish_p50_ms", "light load, 20/s open loop: accepted->finished p50 ms",
     ("open_20", "bare", "finish_p50_ms")),
    ("open_20", "orderly", "finish_p99_ms", "light load, 20/s open loop: accepted->finished p99 ms",
     ("open_20", "bare", "finish_p99_ms")),
    ("open_250", "bare", "accept_p99_ms", "bare, open loop 250/s: accept p99 ms", None),
    ("open_250", "orderly", "accept_p50_ms", "open loop 250/s: accept p50 ms", ("open_250", "bare", "accept_p50_ms")),
    ("open_250", "orderly", "accept_p99_ms", "open loop 250/s: accept p99 ms", ("open_250", "bare", "accept_p99_ms")),
    ("open_250", "orderly", "finish_p50_ms", "open loop 250/s: done p50 ms", ("open_250", "bare", "finish_p50_ms")),
    ("open_250", "orderly", "finish_p99_ms", "open loop 250/s: done p99 ms", ("open_250", "bare", "finish_p99_ms")),
    ("open_half", "orderly", "rate", "open loop at half Orderly's sustained max (completed/s): rate/s", None),
    ("open_half", "orderly", "accept_p99_ms", "  accept p99 ms", None),
    ("open_half", "orderly", "finish_p99_ms", "  completion p99 ms", None),
    ("hot_order", "orderly", "drain_s", "100 commands on one order: seconds to drain", None),
    ("hot_order", "orderly", "conflict_retries_per_command", "  conflict retries per command", None),
    ("hot_order", "orderly", "failed_version_conflict", "  failed for lack of retries", None),
    ("get_order", "orderly", "ok_per_s", "GET order (warm cache), req/s", ("flask_json", "bare", "ok_per_s")),
    ("get_order", "orderly", "p99_us", "GET order p99 (us)", ("flask_json", "bare", "p99_us")),
    ("rest_read", "orderly", "ok_per_s", "REST: an order and its events (2 GETs), reads/s", None),
    ("graphql_read", "orderly", "ok_per_s", "GraphQL: the same order and events (1 POST), reads/s",
     ("rest_read", "orderly", "ok_per_s")),
    ("graphql_read", "orderly", "p99_us", "GraphQL read p99 (us)", ("rest_read", "orderly", "p99_us")),
    ("get_job", "orderly", "ok_per_s", "GET job (poll), req/s", ("flask_json", "bare", "ok_per_s")),
    ("get_job", "orderly", "ok_per_s", "  of the bare pipeline's GET job", ("get_job", "bare", "ok_per_s")),
    ("readyz_flood", "orderly", "readyz_per_s", "/readyz at 1,000/s (open loop, no key): answered/s", None),
    ("readyz_flood", "orderly", "p99_during_ms", "  an authenticated GET at 100/s: p99 ms during it",
     ("readyz_flood", "orderly", "p99_alone_ms")),
]  # fmt: skip

CPU_PHASES = [(p, s) for p in ("post", "drain", "poll") for s in ("bare", "orderly")] + [
    ("post_flower", "bare"),
    ("drain_flower", "bare"),
]
# The POST-only phases whose CPU per command is printed: bare, bare watched by Flower, Orderly.
PER_COMMAND_PHASES = [("post", "bare"), ("post_flower", "bare"), ("post", "orderly")]


def _values(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], list[float]]:
    values: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for row in rows:
        for name, value in row.items():
            if isinstance(value, int | float) and name != "repeat":
                values[(row.get("phase", ""), row.get("system", ""), name)].append(float(value))
    return values


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def _spread(values: list[float]) -> str:
    return f"{_fmt(statistics.median(values))} ({_fmt(min(values))}-{_fmt(max(values))})"


def table(rows: list[dict[str, Any]]) -> str:
    values = _values(rows)
    lines = ["| figure | median (min-max) | floor median (min-max) | ratio |", "| --- | --- | --- | --- |"]
    for phase, system, figure, label, floor in LINES:
        mine = values.get((phase, system, figure))
        if not mine:
            continue
        floor_values = values.get(floor) if floor else None
        ratio = ""
        if floor_values and statistics.median(floor_values):
            ratio = f"{statistics.median(mine) / statistics.median(floor_values):.2f}"
        floor_text = _spread(floor_values) if floor_values else ""
        lines.append(f"| {label} | {_spread(mine)} | {floor_text} | {ratio} |")
    lines += ["", "CPU, share of one core (median of the rounds); machine = share of both cores busy:", ""]
    for phase, system in CPU_PHASES:
        shares: dict[str, list[float]] = defaultdict(list)
        for row in rows:
            if row.get("phase") == phase and row.get("system") == system:
                for group, share in row["cpu"].items():
                    shares[group].append(share)
        if not shares:
            continue
        busy = {g: statistics.median(s) for g, s in shares.items() if statistics.median(s) >= 0.01}
        lines.append(f"- {phase} {system}: " + ", ".join(f"{g} {s:.2f}" for g, s in sorted(busy.items())))
    lines += ["", "CPU milliseconds per command, POST-only phase until drained (median of the rounds):", ""]
    for phase, system in PER_COMMAND_PHASES:
        per_command: dict[str, list[float]] = defaultdict(list)
        for row in rows:
            if row.get("phase") == phase and row.get("system") == system and row.get("jobs"):
                for group, share in row["cpu"].items():
                    if group not in ("machine", "loadgen"):
                        per_command[group].append(1000 * share * row["elapsed_s"] / row["jobs"])
        if not per_command:
            continue
        busy = {g: statistics.median(v) for g, v in per_command.items() if statistics.median(v) >= 0.01}
        total = sum(busy.values())
        groups = ", ".join(f"{g} {v:.2f}" for g, v in sorted(busy.items()))
        lines.append(f"- {phase} {system}: {total:.2f} in all; {groups}")
    rss = next((row for row in rows if row.get("phase") == "rss_mib"), None)
    if rss:
        lines += ["", "RSS MiB before -> after the rounds: "
                  + ", ".join(f"{g} {rss['before'][g]} -> {rss['after'].get(g)}" for g in rss["before"])]  # fmt: skip
    return "\n".join(lines)


def one_line(figures: dict[str, Any]) -> str:
    keys = ("accepted_per_s", "completed_per_s", "client_completed_per_s", "drain_per_s", "ok_per_s", "tasks_per_s",
            "rate", "accept_p99_ms", "finish_p99_ms", "drain_s", "p99_us", "jobs_per_transaction",
            "refused_share")  # fmt: skip
    return "  ".join(f"{k} {_fmt(figures[k])}" for k in keys if k in figures) + (
        f"  unexpected {figures['unexpected']}" if figures.get("unexpected") else ""
    )


def chart(rows: list[dict[str, Any]], path: Path) -> Path | None:
    """Throughput beside the floors and latency percentiles; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    values = _values(rows)
    # Each group: (label, {series: (phase, system, figure)}); groups the run lacks are left out.
    series = ("bare", "bare + Flower", "orderly")
    groups = [
        ("POST only completed/s", {"bare": ("post", "bare", "completed_per_s"),
                                   "bare + Flower": ("post_flower", "bare", "completed_per_s"),
                                   "orderly": ("post", "orderly", "completed_per_s")}),
        ("worker draining jobs/s", {"bare": ("drain", "bare", "drain_per_s"),
                                    "bare + Flower": ("drain_flower", "bare", "drain_per_s"),
                                    "orderly": ("drain", "orderly", "drain_per_s")}),
        ("POST+poll completed/s", {"bare": ("poll", "bare", "client_completed_per_s"),
                                   "orderly": ("poll", "orderly", "client_completed_per_s")}),
        ("POST+wait completed/s", {"orderly": ("wait", "orderly", "client_completed_per_s")}),
    ]  # fmt: skip
    groups = [(label, keys) for label, keys in groups if any(values.get(k) for k in keys.values())]
    latencies = [
        ("20/s p50", "open_20", "finish_p50_ms"),
        ("20/s p99", "open_20", "finish_p99_ms"),
        ("POST+poll p50", "poll", "finish_p50_ms"),
        ("POST+poll p99", "poll", "finish_p99_ms"),
        ("250/s p50", "open_250", "finish_p50_ms"),
        ("250/s p99", "open_250", "finish_p99_ms"),
    ]
    latencies = [item for item in latencies if values.get((item[1], "orderly", item[2]))]
    if not groups:
        return None
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    width = 0.27
    for index, name in enumerate(series):
        offset = (index - 1) * width
        medians = [statistics.median(values.get(keys.get(name, ("", "", "")), [0])) for _, keys in groups]
        left.bar([i + offset for i in range(len(groups))], medians, width, label=name)
    left.set_xticks(range(len(groups)), [label for label, _ in groups], rotation=12)
    left.set_ylabel("per second (median of the rounds)")
    left.set_title("Throughput: Orderly beside its floors, same run")
    left.legend()
    for index, name in enumerate(("bare", "orderly")):
        offset = (index - 0.5) * width
        medians = [
            statistics.median(values.get((phase, name, figure_name), [0])) for _, phase, figure_name in latencies
        ]
        right.bar([i + offset for i in range(len(latencies))], medians, width, label=name)
    right.set_xticks(range(len(latencies)), [label for label, _, _ in latencies], rotation=12)
    right.set_yscale("log")
    right.set_ylabel("ms, accepted -> finished (log scale)")
    right.set_title("Completion latency")
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path
