"""`make bench`: Orderly beside its floors, measured in one run on this machine.

Floors, measured in the same run: a bare Flask JSON endpoint, a bare Celery
no-op task (publish and consume together), and the bare pipeline (bench/bare:
insert a job and publish; a worker doing one compare-and-set, the job update
and a cache DEL). Every Orderly figure is printed as a ratio to its floor.

Phases (wrk with bench/lua/pipeline.lua, one connection per thread), each run
--repeats times, interleaved so drift hits every system alike:
  post       closed-loop POST creates; accepted/s (202 only), then the backlog
             drained: completed/s from the first accept to the last finish
  post_capped  POST only against an API with the caps as shipped (the rate
             limit raised): the share of answers refused
  post_flower, drain_flower  the bare pipeline as Celery is usually deployed:
             its worker's task events on and a Flower watching it
  poll       POST a create then poll its job back to back; completed/s
  wait       POST a create then GET its job with ?wait=20 (answered when it finishes)
  prefer     POST a create with `Prefer: respond-async, wait=20`: one request, answered with the finished job
  waiters    POST-only accepts alone, and while 500 requests hold a ?wait=20
  open_wait_250  Prefer-waiting POSTs at 250/s, open loop: the client's latency to the finished job
  open_20    POSTs at 20/s, open loop: accepted -> finished at light load (what batching costs in latency)
  lifecycle  create, pay, ship, deliver one order, polling each job
  get_order  warm-cache GET of one order;  get_job  GET of a finished job
  readyz_flood  an authenticated GET's p99 alone, then during a /readyz flood

Raw figures go to .local/bench/<time>/results.jsonl with the table and a chart.
Usage: ORDERLY_TESTING=1 .venv/bin/python -m bench.run [--seconds S] [--repeats R] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ["ORDERLY_TESTING"] = "1"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "client"))  # the Python client drives the correctness phases

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from celery import Celery  # noqa: E402
from dotenv import dotenv_values  # noqa: E402
from orderly_client import Client, ProblemError  # noqa: E402

import config  # noqa: E402
from access import api_keys  # noqa: E402
from bench import report, stacks  # noqa: E402
from bench.preload import preload  # noqa: E402
from bench.processes import CpuSample, descendants, rss_mib  # noqa: E402
from bench.profile import Profiler  # noqa: E402
from infra.db import make_engine, make_session_factory  # noqa: E402

LUA = Path(__file__).with_name("lua") / "pipeline.lua"
CONNECTIONS = 16
CREATE_BODY = '{"currency":"USD","items":[{"sku":"B-1","quantity":1,"unit_price_cents":999}]}'
DRAIN_TIMEOUT = 300.0
PORTS = (("ORDERLY_BENCH_PORT", "18200"), ("ORDERLY_BENCH_FLOWER_PORT", "18255"))
WORKER_METRICS_PORT = int(os.environ.get("ORDERLY_BENCH_WORKER_METRICS_PORT", "18290"))
# Phases of the bare pipeline as Celery is usually deployed: task events on, Flower watching.
WATCHED = "_flower"


class Bench:
    def __init__(
        self,
        seconds: int,
        out: Path,
        profile: bool,
        pause_flower: bool = False,
        batching: dict[str, str] | None = None,
        event_stream: bool = True,
    ) -> None:
        self.seconds = seconds
        self.batching = batching or {}  # JOBS_PER_MESSAGE, WORKER_MERGE_JOBS when not as shipped
        self.event_stream = event_stream
        self.profile = profile
        self.pause_flower = pause_flower
        self.out = out
        self.rows: list[dict[str, Any]] = []
        # The benchmark's own queries (drains, statistics) go to PostgreSQL
        # directly: they are not the app's traffic, and must not load PgBouncer.
        self.engine = sa.create_engine(stacks.direct_database_url())
        self.orderly: stacks.Stack
        self.bare: stacks.Stack
        self.key = ""
        # The sustainable rate (completed/s, backlog drained), until a post phase measured it.
        self.last_completed_rate = {"bare": 500.0, "orderly": 250.0}
        self.tenant_id: uuid.UUID

    # ---------------------------------------------------------------- set-up
    def start(self) -> None:
        self.bare = stacks.start_bare(
            int(os.environ.get("ORDERLY_BENCH_BARE_PORT", "18201")),
            int(os.environ.get("ORDERLY_BENCH_BARE_FLOWER_PORT", "18256")),
        )
        self.bare.processes["flower"].send_signal(signal.SIGSTOP)  # until a watched phase
        self.bare_control = Celery("bench-control", broker=stacks.bare_broker_url(), set_as_current=False).control
        self.orderly = stacks.start_orderly(
            int(os.environ.get("ORDERLY_BENCH_PORT", "18200")),
            int(os.environ.get("ORDERLY_BENCH_FLOWER_PORT", "18255")),
            {
                **self.batching,
                # Without Flower, no task events either: what watching costs is both.
                **({"WORKER_SEND_TASK_EVENTS": "false"} if self.pause_flower else {}),
                **({} if self.event_stream else {"EVENT_STREAM_ENABLED": "false"}),
                "WORKER_METRICS_PORT": str(WORKER_METRICS_PORT),
            },
        )
        factory = make_session_factory(make_engine(config.current().database_url))
        with factory() as session:
            issued = api_keys.create_key(session, f"bench-{uuid.uuid4().hex[:8]}")
            session.commit()
        self.key, self.tenant_id = issued.plaintext, issued.tenant_id
        self.groups = {**self.bare.pids(), **self.orderly.pids(), **stacks.server_pids()}
        self.profiler = None
        if self.profile and Profiler.available():
            targets = {role: self.orderly.processes[role].pid for role in ("api", "worker", "flower")}
            self.profiler = Profiler(self.out, targets, self.seconds)

    def stop(self) -> None:
        for running in (getattr(self, "orderly", None), getattr(self, "bare", None)):
            if running is not None:
                running.stop()

    # ---------------------------------------------------------------- tools
    def wrk(
        self,
        url: str,
        mode: str,
        target: str,
        seconds: int,
        path: str = "/",
        connections: int = CONNECTIONS,
        body: str = "",
    ) -> dict[str, Any]:
        env = {**os.environ, "BENCH_MODE": mode, "BENCH_TARGET": target, "BENCH_PATH": path, "BENCH_BODY": body}
        if target == "orderly":
            env["BENCH_KEY"] = self.key
        # A ?wait= answer may take up to 20 s: wrk's own 2 s timeout would count it an error.
        command = ["wrk", f"-t{connections}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(LUA),
                   url + path]  # fmt: skip
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=True)
        line = next((x for x in result.stdout.splitlines() if x.startswith("BENCH ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no figures:\n{result.stdout}\n{result.stderr}")
        figures: dict[str, Any] = json.loads(line[len("BENCH ") :])
        figures["seconds"] = figures["duration_us"] / 1e6
        return figures

    def paced(self, url: str, path: str, rate: float, **env: str) -> dict[str, Any]:
        """bench/paced.py: requests at a fixed rate (open loop); its figures.
        `env`: BENCH_METHOD, BENCH_BODY, BENCH_KEY (default: the bench key), BENCH_PREFER."""
        environment = {**os.environ, "BENCH_KEY": self.key, **env}
        result = subprocess.run(
            [sys.executable, "-m", "bench.paced", url, path, str(rate), str(self.seconds)],
            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=self.seconds + 120, check=True,
        )  # fmt: skip
        figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
        return figures

    def watch_bare(self, on: bool) -> None:
        """The bare worker's task events on (Celery's remote control) and its Flower running, or both off."""
        flower = self.bare.processes["flower"]
        if on:
            flower.send_signal(signal.SIGCONT)
            self.bare_control.enable_events(destination=["bare@bench"])
        else:
            flower.send_signal(signal.SIGSTOP)
            self.bare_control.disable_events(destination=["bare@bench"])

    def measured(self, phase: str, system: str, run: Callable[[], dict[str, Any]], repeat: int) -> None:
        """One phase; repeat 0 is the profiling round (py-spy on Orderly's
        processes, nothing recorded: the sampler's CPU would count)."""
        profiler = self.profiler if repeat == 0 and system == "orderly" else None
        if profiler:
            profiler.start(phase)
        # Orderly's Flower, relay, webhook sender and stream publisher work in
        # the background (event handling, database rounds); paused while a
        # floor is measured.
        background = ("flower", "relay", "webhooks", "stream")
        paused = [self.orderly.processes[r] for r in background] if system == "bare" else []
        if system == "orderly" and self.pause_flower:
            paused = [self.orderly.processes["flower"]]
        for process in paused:
            process.send_signal(signal.SIGSTOP)
        watched = system == "bare" and phase.endswith(WATCHED)
        if watched:
            self.watch_bare(True)
        try:
            batches = jobs_per_transaction() if system == "orderly" else None
            sample = CpuSample(self.groups)
            sample.start()
            started = time.monotonic()
            figures = run()
            figures["cpu"] = sample.stop()
            figures["elapsed_s"] = time.monotonic() - started
            if batches is not None:
                (jobs_before, transactions_before), (jobs, transactions) = batches, jobs_per_transaction()
                if transactions > transactions_before:
                    figures["jobs_per_transaction"] = (jobs - jobs_before) / (transactions - transactions_before)
        finally:
            if watched:
                self.watch_bare(False)
            for process in paused:
                process.send_signal(signal.SIGCONT)
        if profiler:
            profiler.stop()
            print(f"  {phase:<10} {system:<8} profiled (not recorded)", flush=True)
            return
        figures.update(phase=phase, system=system, repeat=repeat)
        self.rows.append(figures)
        with (self.out / "results.jsonl").open("a") as raw:
            raw.write(json.dumps(figures) + "\n")
        print(f"  {phase:<10} {system:<8} #{repeat}: {report.one_line(figures)}", flush=True)

    def _jobs_query(self, system: str) -> str:
        if system == "bare":
            return "FROM bare_jobs WHERE created_at >= :since"
        return f"FROM jobs WHERE tenant_id = '{self.tenant_id}' AND created_at >= :since"

    def drain(self, system: str, since: datetime) -> dict[str, Any]:
        """Wait until every job created since `since` finished; the completion
        figures from the database's own timestamps."""
        where = self._jobs_query(system)
        deadline = time.monotonic() + DRAIN_TIMEOUT
        with self.engine.connect() as conn:
            while time.monotonic() < deadline:
                left = conn.execute(
                    sa.text(f"SELECT count(*) {where} AND status = 'queued'"), {"since": since}
                ).scalar_one()
                conn.rollback()
                if not left:
                    break
                time.sleep(0.2)
            else:
                raise RuntimeError(f"{system}: {left} jobs unfinished after {DRAIN_TIMEOUT}s")
            row = conn.execute(
                sa.text(
                    "SELECT count(*), count(*) FILTER (WHERE status = 'succeeded'), max(finished_at), "
                    "extract(epoch FROM max(finished_at) - min(created_at)), "
                    "percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP "
                    f"(ORDER BY extract(epoch FROM finished_at - created_at)) {where}"
                ),
                {"since": since},
            ).one()
        count, succeeded, last_finished, span, percentiles = row
        return {
            "jobs": count,
            "last_finished": last_finished,
            "jobs_succeeded": succeeded,
            "completed_per_s": count / float(span) if span else 0.0,
            "finish_p50_ms": 1000 * percentiles[0] if percentiles else None,
            "finish_p95_ms": 1000 * percentiles[1] if percentiles else None,
            "finish_p99_ms": 1000 * percentiles[2] if percentiles else None,
        }

    def pipeline_phase(self, system: str, mode: str, url: str | None = None) -> Callable[[], dict[str, Any]]:
        """`url`: another API of the system than its stack's (its rate is not the system's then)."""

        def run() -> dict[str, Any]:
            stack = self.bare if system == "bare" else self.orderly
            since = datetime.now(UTC)
            figures = self.wrk(url or stack.url, mode, system, self.seconds)
            figures["accepted_per_s"] = figures["accepted"] / figures["seconds"]
            if mode != "post":
                figures["client_completed_per_s"] = figures["completed"] / figures["seconds"]
                figures["polls_per_command"] = figures["polls"] / max(1, figures["completed"])
            drained = self.drain(system, since)
            del drained["last_finished"]
            figures.update(drained)
            if mode == "post" and url is None:
                self.last_completed_rate[system] = figures["completed_per_s"]
            return figures

        return run

    def capped_phase(self) -> Callable[[], dict[str, Any]]:
        """POST only against an API with the shipped caps (stacks.start_capped_api,
        started on first use): the share of answers refused (429, 503)."""
        port = int(os.environ.get("ORDERLY_BENCH_CAPPED_PORT", "18210"))
        post = self.pipeline_phase("orderly", "post", f"http://127.0.0.1:{port}")

        def run() -> dict[str, Any]:
            if "api-capped" not in self.orderly.processes:
                self.orderly.processes["api-capped"] = stacks.start_capped_api(port)
            figures = post()
            answers = figures["accepted"] + figures["refused"] + figures["unexpected"]
            figures["refused_share"] = figures["refused"] / max(1, answers)
            return figures

        return run

    def drain_phase(self, system: str) -> Callable[[], dict[str, Any]]:
        """The worker alone: a backlog is built while it is paused, then it
        drains it; jobs/s from its resumption to the last finish."""

        def run() -> dict[str, Any]:
            stack = self.bare if system == "bare" else self.orderly
            worker = descendants(stack.processes["worker"].pid)
            since = datetime.now(UTC)
            for pid in worker:
                os.kill(pid, signal.SIGSTOP)
            try:
                figures = self.wrk(stack.url, "post", system, max(1, self.seconds // 2))
            finally:
                resumed = datetime.now(UTC)
                for pid in worker:
                    os.kill(pid, signal.SIGCONT)
            drained = self.drain(system, since)
            return {"jobs": drained["jobs"], "unexpected": figures["unexpected"],
                    "drain_per_s": drained["jobs"] / (drained["last_finished"] - resumed).total_seconds()}  # fmt: skip

        return run

    def open_wait_phase(self, rate: float) -> Callable[[], dict[str, Any]]:
        """Issue 11: clients that POST with `Prefer: respond-async, wait=20` at a
        fixed rate (open loop): the latency bench/paced.py measures from each
        scheduled send to its answer is the client's wait for the finished job."""

        def run() -> dict[str, Any]:
            since = datetime.now(UTC)
            figures = self.paced(self.orderly.url, "/api/v1/orders", rate, BENCH_BODY=CREATE_BODY,
                                 BENCH_PREFER="respond-async, wait=20")  # fmt: skip
            figures["rate"] = rate
            figures["finished_in_answer"] = figures["statuses"].get("200", 0)
            figures["unexpected"] = figures["answered"] - figures["finished_in_answer"]
            drained = self.drain("orderly", since)
            del drained["last_finished"]
            figures.update(drained)
            return figures

        return run

    def open_loop_phase(self, system: str, rate: float | None) -> Callable[[], dict[str, Any]]:
        """POSTs at a fixed rate (bench/paced.py, latency from the scheduled send
        time): `rate`, or half of this round's closed-loop completed rate (what
        the system sustains; the accept rate of a 10 s burst is higher, as the
        worker drains the backlog afterwards)."""

        def run() -> dict[str, Any]:
            stack = self.bare if system == "bare" else self.orderly
            target = rate or 0.5 * self.last_completed_rate[system]
            path, body = ("/api/v1/orders", CREATE_BODY) if system == "orderly" else ("/jobs", '{"command":"create"}')
            since = datetime.now(UTC)
            figures = self.paced(stack.url, path, target, BENCH_BODY=body)
            figures["rate"] = target
            accepted = figures["statuses"].get("202", 0)
            figures["unexpected"] = figures["answered"] - accepted
            drained = self.drain(system, since)
            del drained["last_finished"]
            figures.update(drained)
            return figures

        return run

    def hot_order_phase(self, commands: int = 100) -> Callable[[], dict[str, Any]]:
        """`commands` concurrent commands on one order: how long until all are
        applied, and how many optimistic-lock retries that took."""

        def run() -> dict[str, Any]:
            client = self.client()
            order_id = self.created_order()
            log = stacks.stack.LOGS / "worker-bench.log"
            log_start = log.stat().st_size
            since = datetime.now(UTC)

            def command(i: int) -> int:
                try:  # no delete: later ones would get 404
                    client.submit(order_id, ("pay", "cancel")[i % 2])
                except ProblemError as refused:
                    return refused.status
                return 202

            with ThreadPoolExecutor(max_workers=32) as pool:
                statuses = list(pool.map(command, range(commands)))
            drained = self.drain("orderly", since)
            with log.open("rb") as lines:
                lines.seek(log_start)
                retries = sum(b"changed concurrently" in line and order_id.encode() in line for line in lines)
            with self.engine.connect() as conn:
                conflicts = conn.execute(
                    sa.text(f"SELECT count(*) {self._jobs_query('orderly')} AND error->>'code' = 'version_conflict'"),
                    {"since": since},
                ).scalar_one()
            span = (drained["last_finished"] - since).total_seconds()
            return {"commands": commands, "accepted": statuses.count(202), "unexpected": commands - statuses.count(202),
                    "drain_s": span, "conflict_retries_per_command": retries / commands,
                    "failed_version_conflict": conflicts}  # fmt: skip

        return run

    def client(self) -> Client:
        """The Python client (client/): idempotent retries, waits without polling."""
        return Client(self.orderly.url, self.key, timeout=30)

    def created_order(self) -> str:
        """A new order, once the worker has created it."""
        client = self.client()
        job = client.wait(client.create_order("USD", [{"sku": "B-1", "quantity": 1, "unit_price_cents": 999}]), 30)
        if not job.succeeded:
            raise RuntimeError(f"an order was not created: {job}")
        return job.order_id

    def get_phase(self, url: str, target: str, path: str) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            figures = self.wrk(url, "get", target, self.seconds, path)
            figures["ok_per_s"] = figures["accepted"] / figures["seconds"]
            return figures

        return run

    def rest_read_phase(self, order_path: str) -> Callable[[], dict[str, Any]]:
        """An order and its events through REST: two GETs (the order from the cache)."""

        def run() -> dict[str, Any]:
            figures = self.wrk(
                self.orderly.url, "get_pair", "orderly", self.seconds, f"{order_path}|{order_path}/events"
            )
            figures["ok_per_s"] = figures["accepted"] / figures["seconds"]
            return figures

        return run

    def graphql_read_phase(self, order_path: str) -> Callable[[], dict[str, Any]]:
        """The same data through GraphQL: one POST."""
        order_id = order_path.rsplit("/", 1)[-1]
        fields = (
            "id status version currency totalCents customerRef createdAt updatedAt "
            "items { sku quantity unitPriceCents } events { version command fromStatus toStatus jobId createdAt }"
        )
        query = f'{{ order(id: "{order_id}") {{ {fields} }} }}'

        def run() -> dict[str, Any]:
            env_body = json.dumps({"query": query})
            figures = self.wrk(self.orderly.url, "graphql", "orderly", self.seconds, "/api/v1/graphql", body=env_body)
            figures["ok_per_s"] = figures["accepted"] / figures["seconds"]
            return figures

        return run

    def readyz_flood_phase(self, order_path: str) -> Callable[[], dict[str, Any]]:
        """Issue 9: an authenticated client GETting an order at 100/s (open
        loop), its p99 alone, then while others send /readyz at 1,000/s
        (public, no key)."""

        def paced_get(path: str, rate: int, key: str) -> dict[str, Any]:
            return self.paced(self.orderly.url, path, rate, BENCH_METHOD="GET", BENCH_KEY=key)

        def run() -> dict[str, Any]:
            alone = paced_get(order_path, 100, self.key)
            with ThreadPoolExecutor(1) as pool:
                flood = pool.submit(paced_get, "/readyz", 1000, "")
                during = paced_get(order_path, 100, self.key)
                readyz = flood.result()
            return {
                "p99_alone_ms": alone["accept_p99_ms"],
                "p99_during_ms": during["accept_p99_ms"],
                "p99_ratio": during["accept_p99_ms"] / max(0.001, alone["accept_p99_ms"]),
                "readyz_per_s": readyz["answered"] / self.seconds,
                "readyz_statuses": readyz["statuses"],
                "get_statuses": during["statuses"],
            }

        return run

    def waiters_phase(self, waiters: int = 500, paced_rate: int = 125) -> Callable[[], dict[str, Any]]:
        """Issue 11: POST-only accepts, alone and while `waiters` requests each
        hold a GET ?wait=20 on a job that does not finish (wrk, 4 threads):
        closed loop (saturated: its p99 is mostly queueing), and open loop at
        `paced_rate`/s, a load the API sustains, where the p99s compare."""

        def run() -> dict[str, Any]:
            job_id = self.unfinished_job()
            path = f"/api/v1/jobs/{job_id}?wait=20"
            alone = self.wrk(self.orderly.url, "post", "orderly", self.seconds)
            paced_alone = self.paced(self.orderly.url, "/api/v1/orders", paced_rate, BENCH_BODY=CREATE_BODY)
            env = {**os.environ, "BENCH_MODE": "get", "BENCH_TARGET": "orderly", "BENCH_KEY": self.key,
                   "BENCH_PATH": path}  # fmt: skip
            holders = subprocess.Popen(
                ["wrk", "-t4", f"-c{waiters}", f"-d{2 * self.seconds + 6}s", "--timeout", "30s", "-s", str(LUA),
                 self.orderly.url + path], env=env, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            time.sleep(3)  # every waiter connected and holding its wait
            during = self.wrk(self.orderly.url, "post", "orderly", self.seconds)
            paced_during = self.paced(self.orderly.url, "/api/v1/orders", paced_rate, BENCH_BODY=CREATE_BODY)
            output, _ = holders.communicate(timeout=2 * self.seconds + 90)
            self.finish(job_id)
            held = json.loads(next(x for x in output.splitlines() if x.startswith("BENCH "))[len("BENCH ") :])
            return {
                "accepted_per_s_alone": alone["accepted"] / alone["seconds"],
                "accepted_per_s_during": during["accepted"] / during["seconds"],
                "p99_ms_alone": alone["p99_us"] / 1000,
                "p99_ms_during": during["p99_us"] / 1000,
                "paced_rate": paced_rate,
                "paced_p99_ms_alone": paced_alone["accept_p99_ms"],
                "paced_p99_ms_during": paced_during["accept_p99_ms"],
                "waits_answered": held["accepted"],
                "waits_not_200": held["unexpected"] + held["socket_errors"],
            }

        return run

    def unfinished_job(self) -> uuid.UUID:
        """A queued job of the bench's tenant that nobody applies for an hour
        (no message; the relay only republishes jobs older than 10 s)."""
        job_id = uuid.uuid4()
        with self.engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO jobs (id, tenant_id, command, order_id, payload, status, attempts, created_at) "
                        "VALUES (:id, :tenant, 'create', :order, '{}', 'queued', 0, now() + interval '1 hour')"),
                {"id": job_id, "tenant": self.tenant_id, "order": uuid.uuid4()},
            )  # fmt: skip
        return job_id

    def finish(self, job_id: uuid.UUID) -> None:
        """Fail the job by hand: later phases wait for every job of theirs to finish."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE jobs SET status = 'failed', finished_at = now(), created_at = now(), "
                        "error = CAST(:error AS jsonb) "
                        "WHERE id = :id"),
                {"id": job_id, "error": json.dumps({"code": "internal_error", "detail": "bench: never applied"})},
            )  # fmt: skip

    def noop_phase(self, count: int) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            env = stacks.bare_env()
            result = subprocess.run(
                [sys.executable, "-m", "bench.noop", str(count)], cwd=ROOT, env=env,
                capture_output=True, text=True, timeout=300, check=True,
            )  # fmt: skip
            return json.loads(result.stdout.strip().splitlines()[-1])

        return run

    def warm_targets(self) -> tuple[str, str]:
        """An order in the cache and a finished job, for the read phases."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.key}"
        order_id = self.created_order()
        session.get(f"{self.orderly.url}/api/v1/orders/{order_id}", timeout=10)  # fills the cache
        job = session.get(f"{self.orderly.url}/api/v1/jobs?limit=1", timeout=10).json()["data"][0]
        bare_job = requests.post(f"{self.bare.url}/jobs", json={"command": "create"}, timeout=10).json()
        return f"/api/v1/orders/{order_id}", f"/api/v1/jobs/{job['id']}|/jobs/{bare_job['id']}"

    # ---------------------------------------------------------------- the run
    def run(self, repeats: int, noop_count: int, only: set[str], orderly_only: bool = False) -> None:
        order_path, job_paths = self.warm_targets()
        orderly_job, bare_job = job_paths.split("|")
        phases: list[tuple[str, str, Callable[[], dict[str, Any]]]] = [
            ("flask_json", "bare", self.get_phase(self.bare.flask_url, "bare", "/ping")),
            ("celery_noop", "bare", self.noop_phase(noop_count)),
            ("post", "bare", self.pipeline_phase("bare", "post")),
            ("post", "orderly", self.pipeline_phase("orderly", "post")),
            ("post" + WATCHED, "bare", self.pipeline_phase("bare", "post")),
            ("post_capped", "orderly", self.capped_phase()),
            ("drain", "bare", self.drain_phase("bare")),
            ("drain" + WATCHED, "bare", self.drain_phase("bare")),
            ("drain", "orderly", self.drain_phase("orderly")),
            ("poll", "bare", self.pipeline_phase("bare", "poll")),
            ("poll", "orderly", self.pipeline_phase("orderly", "poll")),
            ("wait", "orderly", self.pipeline_phase("orderly", "wait")),
            ("prefer", "orderly", self.pipeline_phase("orderly", "prefer")),
            ("waiters", "orderly", self.waiters_phase()),
            ("lifecycle", "bare", self.pipeline_phase("bare", "lifecycle")),
            ("lifecycle", "orderly", self.pipeline_phase("orderly", "lifecycle")),
            ("open_20", "bare", self.open_loop_phase("bare", 20)),
            ("open_20", "orderly", self.open_loop_phase("orderly", 20)),
            ("open_250", "bare", self.open_loop_phase("bare", 250)),
            ("open_250", "orderly", self.open_loop_phase("orderly", 250)),
            ("open_half", "orderly", self.open_loop_phase("orderly", None)),
            ("open_wait_250", "orderly", self.open_wait_phase(250)),
            ("hot_order", "orderly", self.hot_order_phase()),
            ("get_order", "orderly", self.get_phase(self.orderly.url, "orderly", order_path)),
            ("rest_read", "orderly", self.rest_read_phase(order_path)),
            ("graphql_read", "orderly", self.graphql_read_phase(order_path)),
            ("readyz_flood", "orderly", self.readyz_flood_phase(order_path)),
            ("get_job", "bare", self.get_phase(self.bare.url, "bare", bare_job)),
            ("get_job", "orderly", self.get_phase(self.orderly.url, "orderly", orderly_job)),
        ]
        if only:
            phases = [p for p in phases if p[0] in only]
        if orderly_only:
            phases = [p for p in phases if p[1] == "orderly"]
        # Warm-up, not recorded: connection pools, caches, JIT-less Python imports.
        self.wrk(self.orderly.url, "post", "orderly", 2)
        self.wrk(self.bare.url, "post", "bare", 2)
        self.drain("orderly", datetime(2000, 1, 1, tzinfo=UTC))
        if self.profiler:
            print("round 0: py-spy on Orderly's API, worker and Flower", flush=True)
            for phase, system, run in phases:
                if system == "orderly":
                    self.measured(phase, system, run, 0)
        rss_before = self.rss()
        for repeat in range(1, repeats + 1):
            print(f"round {repeat} of {repeats}", flush=True)
            for phase, system, run in phases:
                self.measured(phase, system, run, repeat)
        self.rows.append({"phase": "rss_mib", "before": rss_before, "after": self.rss()})

    def rss(self) -> dict[str, float]:
        return {
            group: round(sum(rss_mib(pid) for root in roots for pid in descendants(root)), 1)
            for group, roots in self.groups.items()
            if group.endswith(("-api", "-worker"))
        }


def jobs_per_transaction() -> tuple[float, float]:
    """(jobs, transactions) the bench worker has applied so far, from its exporter."""
    text = requests.get(f"http://127.0.0.1:{WORKER_METRICS_PORT}/metrics", timeout=5).text
    name = "orderly_jobs_per_transaction"
    values = dict(line.rsplit(" ", 1) for line in text.splitlines() if line.startswith(name))
    return float(values.get(f"{name}_sum", 0)), float(values.get(f"{name}_count", 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured phase")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--preload", type=int, default=0, help="first fill the database with N finished commands")
    parser.add_argument("--only", default="", help="comma-separated phases (default: all)")
    parser.add_argument(
        "--pause-flower", action="store_true", help="Orderly with Flower paused and no task events: what Flower costs"
    )
    parser.add_argument(
        "--profile", action="store_true", help="a first, unrecorded round with py-spy flame graphs of Orderly"
    )
    parser.add_argument(
        "--soak", type=int, default=0, help="Orderly's POST+poll for this many seconds: RSS before/after"
    )
    parser.add_argument("--smoke", action="store_true", help="one short round: proves the benchmark works")
    parser.add_argument(
        "--jobs-per-message",
        type=int,
        default=None,
        help="Orderly's JOBS_PER_MESSAGE for the run (default: as shipped)",
    )
    parser.add_argument(
        "--merge-jobs",
        type=int,
        default=None,
        help="Orderly's WORKER_MERGE_JOBS for the run (default: as shipped)",
    )
    parser.add_argument(
        "--no-event-stream", action="store_true", help="Orderly with EVENT_STREAM_ENABLED=false: what the stream costs"
    )
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.repeats = 1, 1
    if args.soak:  # one long phase; RSS is printed before and after (no worker recycling)
        args.seconds, args.repeats, args.only = args.soak, 1, "poll"
    out = ROOT / ".local" / "bench" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True)
    settings = {"JOBS_PER_MESSAGE": args.jobs_per_message, "WORKER_MERGE_JOBS": args.merge_jobs}
    batching = {name: str(value) for name, value in settings.items() if value}
    bench = Bench(args.seconds, out, args.profile, args.pause_flower, batching,
                  event_stream=not args.no_event_stream)  # fmt: skip
    try:
        if args.preload:
            admin = dotenv_values(ROOT / ".local" / "admin.env")
            seconds = preload(str(admin["TEST_MIGRATION_DATABASE_URL"]), args.preload)
            print(f"database preloaded with {args.preload:,} finished commands of another tenant in {seconds:.0f} s")
        bench.start()
        changed = "".join(f"; {name}={value}" for name, value in batching.items())
        changed += "; EVENT_STREAM_ENABLED=false" if args.no_event_stream else ""
        print(f"make bench: {os.cpu_count()} cores; {args.repeats} rounds of {args.seconds} s phases{changed}; "
              f"raw in {out}")  # fmt: skip
        only = set(filter(None, args.only.split(",")))
        bench.run(args.repeats, noop_count=500 if args.smoke else 20000, only=only, orderly_only=bool(args.soak))
    finally:
        bench.stop()
    table = report.table(bench.rows)
    print(table)
    (out / "table.md").write_text(table + "\n")
    chart = report.chart(bench.rows, out / "chart.png")
    if chart:
        print(f"chart: {chart}")
    unexpected = [r["unexpected"] for r in bench.rows if "unexpected" in r]
    if unexpected and statistics.median(unexpected):  # phases like `waiters` count none
        sys.exit("unexpected answers during the run: see results.jsonl")


if __name__ == "__main__":
    main()
