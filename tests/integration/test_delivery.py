"""Delivery of accepted commands: the relay, the bounded queue, retrying failed jobs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import select

import config
from infra.publisher import BackgroundPublisher as Publisher
from models import Job
from tests.integration import stack
from tests.integration.client import ORDER
from tests.integration.servers import rabbitmq_app_stopped, services
from tests.integration.test_cli import flask_cli


def test_broker_down_still_accepts_and_the_relay_delivers(api, base_url):
    with rabbitmq_app_stopped():
        started = time.monotonic()
        response = api.post("/api/v1/orders", json=ORDER)
        answered_in = time.monotonic() - started
        assert response.status_code == 202  # the job is committed; only the message is missing
        job = response.json()
        assert answered_in < 1, answered_in  # the message is published in the background
        assert api.get(f"/api/v1/jobs/{job['id']}").json()["status"] == "queued"
        ready = requests.get(f"{base_url}/readyz", timeout=10)
        assert (ready.status_code, ready.json()["status"]) == (200, "degraded")
        assert ready.json()["checks"]["rabbitmq"] == "down"
    # Nobody runs anything: the relay republishes the job once the broker is back,
    # and the worker, reconnected by itself, applies it.
    assert api.wait(job, timeout=60)["status"] == "succeeded"
    assert api.order(job["order_id"])["status"] == "pending"


def test_a_crash_between_commit_and_publish_loses_nothing(new_api, session_factory):
    """The API process dies after committing the job, before publishing it."""
    api = new_api()
    port = stack.free_port()
    crashing = stack.start_api(port, workers=1, ORDERLY_FAULTS="accept.after_commit=exit")
    try:
        stack.wait_ready(f"http://127.0.0.1:{port}", crashing)
        headers = {"Authorization": f"Bearer {api.key}", "Idempotency-Key": f"crash-{uuid.uuid4()}"}
        with pytest.raises(requests.ConnectionError):
            requests.post(f"http://127.0.0.1:{port}/api/v1/orders", json=ORDER, headers=headers, timeout=10)
    finally:
        stack.stop(crashing)
    with session_factory() as session:
        (job_id,) = session.scalars(select(Job.id).where(Job.tenant_id == api.tenant_id)).all()
    # The client retries with the same key on a healthy API: the same job, which
    # the relay has published.
    retried = api.post("/api/v1/orders", json=ORDER, headers={"Idempotency-Key": headers["Idempotency-Key"]})
    assert retried.status_code == 202
    assert retried.json()["id"] == str(job_id)
    assert api.wait(retried.json(), timeout=30)["status"] == "succeeded"


@contextmanager
def queue_limited_to(length: int) -> Iterator[None]:
    """A stricter queue length limit than the standing one, on the test vhost."""
    definition = f'{{"max-length":{length},"overflow":"reject-publish"}}'
    services(
        "rabbitmqctl", "set_policy", "-p", "orderly_test", "--apply-to", "queues", "--priority", "5",
        "test-tiny-queue", r"^orderly\.commands$", definition,
    )  # fmt: skip
    try:
        yield
    finally:
        services("rabbitmqctl", "clear_policy", "-p", "orderly_test", "test-tiny-queue")


def enough_to_fill_the_queue() -> int:
    """Commands that fill a one-message queue behind a paused worker: the
    worker still holds its prefetch window (WORKER_PREFETCH_MULTIPLIER per
    pool process, unacked), then the queue takes one, then it refuses."""
    return stack.WORKER_CONCURRENCY * config.current().worker_prefetch_multiplier + 10


@contextmanager
def paused(process: subprocess.Popen[bytes]) -> Iterator[None]:
    os.kill(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(process.pid, signal.SIGCONT)


def test_a_full_queue_refuses_with_503_and_keeps_nothing(api, running):
    """The broker's refusal reaches the API's publisher after the 202 of the
    command it refused (that job stays queued; the relay publishes it later):
    from then on new commands are refused before anything is committed."""
    accepted = []
    with paused(running.worker), queue_limited_to(1):
        refused = None
        for attempt in range(enough_to_fill_the_queue()):
            key = f"flood-{attempt}"
            response = api.post("/api/v1/orders", json=ORDER, headers={"Idempotency-Key": key})
            if response.status_code == 503:
                refused = (key, response)
                break
            assert response.status_code == 202, response.text
            accepted.append(response.json())
        assert refused is not None, "the queue never filled"
        key, response = refused
        assert response.headers["Content-Type"] == "application/problem+json"
        assert int(response.headers["Retry-After"]) > 0
        assert response.json()["type"].endswith("/overloaded")
        # Refused means not accepted: no job, and the key is free for the retry.
        assert api.get("/api/v1/jobs").json()["total"] == len(accepted)
    time.sleep(int(response.headers["Retry-After"]))  # as a client honouring Retry-After does
    retried = api.post("/api/v1/orders", json=ORDER, headers={"Idempotency-Key": key})
    assert retried.status_code == 202
    for job in [*accepted, retried.json()]:
        assert api.wait(job, timeout=30)["status"] == "succeeded"


def test_failed_jobs_are_listed_and_can_be_retried(api):
    order_id = api.create_order()
    failed = api.apply(order_id, "ship")  # a pending order cannot ship
    assert failed["status"] == "failed"
    listed = flask_cli("jobs", "list", "--status", "failed", "--tenant", str(api.tenant_id), "--json")
    assert listed.returncode == 0, listed.stderr
    (mine,) = [job for job in json.loads(listed.stdout) if job["id"] == failed["id"]]
    assert (mine["command"], mine["code"]) == ("ship", "invalid_transition")

    assert api.apply(order_id, "pay")["status"] == "succeeded"
    retried = flask_cli("jobs", "retry", failed["id"])
    assert retried.returncode == 0, retried.stderr
    assert api.wait(failed)["status"] == "succeeded"
    assert api.order(order_id)["status"] == "shipped"
    # Only failed jobs can be retried: this one has succeeded now.
    again = flask_cli("jobs", "retry", failed["id"])
    assert again.returncode != 0
    assert "not failed or unknown" in again.stderr


@contextmanager
def broker_alarm(kind: str) -> Iterator[None]:
    """RabbitMQ blocks every publisher, as it does on a real memory or disk alarm."""
    if kind == "memory":
        services("rabbitmqctl", "set_vm_memory_high_watermark", "absolute", "1")
        restore = ("set_vm_memory_high_watermark", "0.4")
    else:
        services("rabbitmqctl", "set_disk_free_limit", "100000GB")
        restore = ("set_disk_free_limit", "50MB")
    try:
        yield
    finally:
        services("rabbitmqctl", *restore)


def timed(call: Callable[[], requests.Response]) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.mark.parametrize("alarm", ["memory", "disk"])
def test_blocked_publishers_never_hold_the_api(api, base_url, alarm):
    """With publishers blocked, POSTs answer within 1 s (202 with the job kept,
    or 503 once the publisher is stalled), reads and /healthz keep answering,
    and every accepted command finishes once the alarm clears."""
    accepted = []
    with broker_alarm(alarm):

        def post() -> tuple[requests.Response, float]:
            return timed(lambda: api.post("/api/v1/orders", json=ORDER, timeout=10))

        with ThreadPoolExecutor(max_workers=4) as pool:
            first = list(pool.map(lambda _: post(), range(4)))
        time.sleep(Publisher.STALL_SECONDS + 0.5)  # now the messages have waited too long
        later = [post() for _ in range(3)]
        for response, seconds in first + later:
            assert seconds < 1, (response.status_code, seconds)
            assert response.status_code in (202, 503), response.text
            if response.status_code == 202:
                accepted.append(response.json())
        assert {r.status_code for r, _ in later} == {503}
        assert all(int(r.headers["Retry-After"]) > 0 for r, _ in later)
        health, seconds = timed(lambda: requests.get(f"{base_url}/healthz", timeout=10))
        assert (health.status_code, seconds < 1) == (200, True)
        read, seconds = timed(lambda: api.get(f"/api/v1/jobs/{accepted[0]['id']}", timeout=10))
        assert (read.status_code, read.json()["status"], seconds < 1) == (200, "queued", True)
    assert len(accepted) == 4
    for job in accepted:
        assert api.wait(job, timeout=60)["status"] == "succeeded"


def test_after_a_broker_restart_the_next_command_is_published_at_once(new_api):
    """The publisher's connection died with the broker; the next batch goes out
    on a new connection instead of being left to the relay (which would take
    10 s in production). One API process, so the one connection is met."""
    port = stack.free_port()
    process = stack.start_api(port, workers=1)
    try:
        base_url = f"http://127.0.0.1:{port}"
        stack.wait_ready(base_url, process)
        api = new_api()
        api.base_url = base_url
        assert api.wait(api.submit_create(), timeout=30)["status"] == "succeeded"  # the publisher is connected
        log = stack.LOGS / f"api-{port}.log"
        with rabbitmq_app_stopped():
            pass  # every connection to the broker is closed
        logged_before = len(log.read_text(errors="replace"))
        jobs = [api.submit_create() for _ in range(3)]  # published on the old, dead connection first
        for job in jobs:
            assert api.wait(job, timeout=30)["status"] == "succeeded"
        logged = log.read_text(errors="replace")[logged_before:]
    finally:
        stack.stop(process)
    assert "left for the relay" not in logged, logged
    assert "on a new one" in logged  # the dead connection was met, and replaced
