"""Measure the pipeline on this machine and print the figures (`make bench`).

Starts its own API (gunicorn) and Celery worker on the test database, like the
tests, then drives a bounded load over 127.0.0.1:

1. accept: N order creates from C client threads; requests/s and latency.
2. end to end: each client thread sends a command and polls its job until it
   finished; completed commands/s and POST-to-finished latency.

Usage: ORDERLY_TESTING=1 .venv/bin/python scripts/bench.py [--requests N] [--clients C]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["ORDERLY_TESTING"] = "1"

import config
from models.db import make_engine, make_session_factory
from services import apikeys
from tests.integration import stack

ORDER = {"currency": "USD", "items": [{"sku": "B-1", "quantity": 1, "unit_price_cents": 999}]}
PORT = int(os.environ.get("ORDERLY_BENCH_PORT", "18100"))
# More processes than cores: each request waits on PostgreSQL and on RabbitMQ's
# publish confirm, and sync workers overlap that waiting only across processes.
API_WORKERS = 4
POLL_INTERVAL = 0.02  # seconds between polls of one job, as a patient client would


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, count: int, seconds: float, latencies: list[float]) -> None:
    print(
        f"{name:<28} {count:>6} in {seconds:6.2f}s = {count / seconds:8.1f}/s   "
        f"latency ms p50 {1000 * statistics.median(latencies):6.1f}  p99 {1000 * percentile(latencies, 0.99):6.1f}"
        f"  max {1000 * max(latencies):6.1f}"
    )


def new_key() -> str:
    factory = make_session_factory(make_engine(config.current().database_url))
    with factory() as session:
        issued = apikeys.create_key(session, f"bench-{uuid.uuid4().hex[:8]}")
        session.commit()
    return issued.plaintext


def run_clients(clients: int, count: int, one: Callable[[requests.Session], object]) -> tuple[float, list[float]]:
    """Call `one(session)` `count` times from `clients` threads; return elapsed and latencies."""
    per_client = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]

    def client(n: int) -> list[float]:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {KEY}"
        latencies = []
        for _ in range(n):
            started = time.perf_counter()
            one(session)
            latencies.append(time.perf_counter() - started)
        return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(client, per_client))
    return time.perf_counter() - started, [x for r in results for x in r]


def post_create(session: requests.Session) -> dict:
    response = session.post(f"{BASE}/api/v1/orders", json=ORDER, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()


def create_and_wait(session: requests.Session) -> None:
    job = post_create(session)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        current = session.get(f"{BASE}/api/v1/jobs/{job['id']}", timeout=30).json()
        if current["status"] in ("succeeded", "failed"):
            assert current["status"] == "succeeded", current
            created, finished = (datetime.fromisoformat(current[k]) for k in ("created_at", "finished_at"))
            PIPELINE_LATENCIES.append((finished - created).total_seconds())
            return
        time.sleep(POLL_INTERVAL)
    raise RuntimeError(f"job {job['id']} did not finish in 60 s")


def accept_with_wrk(seconds: int = 10) -> None:
    """The accept phase again with wrk, a load generator much lighter than Python threads."""
    if not shutil.which("wrk"):
        print("accept with wrk: skipped (apt-get install wrk)")
        return
    script = Path(__file__).with_name("post_order.lua")
    result = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", str(script), f"{BASE}/api/v1/orders"],
        env={**os.environ, "ORDERLY_KEY": KEY}, capture_output=True, text=True, timeout=seconds + 30,
    )  # fmt: skip
    lines = result.stdout.splitlines()
    figures = [line.strip() for line in lines if line.strip().startswith(("Requests/sec", "50%", "99%", "Non-2xx"))]
    print(f"{'accept with wrk -c16':<28} " + "   ".join(figures))


def unfinished_jobs(session: requests.Session) -> int:
    return sum(
        session.get(f"{BASE}/api/v1/jobs?status={status}&limit=1", timeout=30).json()["total"]
        for status in ("queued", "running")
    )


def wait_drained(timeout: float = 300) -> None:
    """Wait until the worker has applied the backlog; print how fast it went."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {KEY}"
    backlog, started = unfinished_jobs(session), time.perf_counter()
    deadline = time.monotonic() + timeout
    while (left := unfinished_jobs(session)) and time.monotonic() < deadline:
        time.sleep(0.5)
    if left:
        raise RuntimeError(f"{left} jobs still unfinished after {timeout}s")
    elapsed = time.perf_counter() - started
    print(f"{'worker drains the backlog':<28} {backlog:>6} in {elapsed:6.2f}s = {backlog / elapsed:8.1f}/s")


def main() -> None:
    global KEY, BASE
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    BASE = f"http://127.0.0.1:{PORT}"
    api = stack.start_api(PORT, workers=API_WORKERS)
    worker = stack.start_worker("bench")
    try:
        stack.wait_ready(BASE, api)
        KEY = new_key()
        print(
            f"Orderly benchmark: {os.cpu_count()} cores, API {API_WORKERS} gunicorn workers, Celery worker x2, "
            f"{args.clients} client threads on the same machine"
        )
        run_clients(args.clients, 100, post_create)  # warm-up
        elapsed, latencies = run_clients(args.clients, args.requests, post_create)
        report("accept (POST -> 202)", args.requests, elapsed, latencies)
        accept_with_wrk()
        wait_drained()  # the worker must have caught up before the next phase
        elapsed, latencies = run_clients(args.clients, args.requests // 2, create_and_wait)
        report("end to end (POST -> seen done)", args.requests // 2, elapsed, latencies)
        print(
            f"{'  of which accepted -> applied':<28} (server clocks: job created_at to finished_at)"
            f"       p50 {1000 * statistics.median(PIPELINE_LATENCIES):6.1f}"
            f"  p99 {1000 * percentile(PIPELINE_LATENCIES, 0.99):6.1f}"
        )
    finally:
        stack.stop(api)
        stack.stop(worker)


KEY = BASE = ""
PIPELINE_LATENCIES: list[float] = []

if __name__ == "__main__":
    main()
