"""GET /api/v1/jobs/{id}?wait=N: the answer comes when the job finishes (the
worker's commit wakes the request through Redis), or at the deadline with
the job as it stands; never a busy loop, never an error when Redis is down."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
import requests
from sqlalchemy import text

from infra.messaging import JobMessage
from models import Job
from models.base import utcnow
from tests.integration import stack
from tests.integration.client import ORDER
from tests.integration.servers import rabbitmq_app_stopped, stopped


def stuck_job(session_factory, api) -> str:
    """A queued job nobody will apply for an hour (no message; the relay waits
    for jobs older than a few seconds, and this one is dated in the future)."""
    job_id = uuid.uuid4()
    with session_factory() as session:
        session.add(Job(id=job_id, tenant_id=api.tenant_id, command="create", order_id=uuid.uuid4(),
                        payload={"currency": "EUR", "items": [{"sku": "W-1", "quantity": 1, "unit_price_cents": 5}]},
                        status="queued", attempts=0, created_at=utcnow() + timedelta(hours=1)))  # fmt: skip
        session.commit()
    return str(job_id)


def timed_get(api, path: str, **kwargs) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = api.get(path, **kwargs)
    return response, time.monotonic() - started


def test_a_wait_answers_when_the_job_finishes(api):
    job = api.submit_create()
    response, took = timed_get(api, f"/api/v1/jobs/{job['id']}?wait=15")
    assert response.status_code == 200
    assert response.json()["status"] == "succeeded"
    assert "Retry-After" not in response.headers
    assert took < 5  # woken by the worker, not by the 15 s deadline


def test_a_wait_wakes_up_when_a_queued_job_is_applied_later(api, session_factory, publish):
    job_id = stuck_job(session_factory, api)
    later = threading.Timer(1.5, publish, args=[JobMessage(uuid.UUID(job_id), "create")])
    later.start()
    response, took = timed_get(api, f"/api/v1/jobs/{job_id}?wait=15")
    later.join()
    assert response.json()["status"] == "succeeded"
    assert 1.4 < took < 6  # waited for the worker, then answered at once


def test_a_wait_on_a_job_that_does_not_finish_ends_at_its_deadline(api, session_factory):
    job_id = stuck_job(session_factory, api)
    response, took = timed_get(api, f"/api/v1/jobs/{job_id}?wait=2")
    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    assert response.headers["Retry-After"] == "1"
    assert 1.9 < took < 5


@pytest.mark.parametrize("value", ["0", "21", "abc", "2.5", "²", "-1", ""])
def test_a_bad_wait_is_400(api, value):
    job = api.submit_create()
    response = api.get(f"/api/v1/jobs/{job['id']}", params={"wait": value})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.fixture
def api_with(new_api) -> Iterator[callable]:
    """An API process of its own with extra settings, and a client for it."""
    started: list = []

    def start(**env: str):
        port = stack.free_port()
        process = stack.start_api(port, workers=1, **env)
        started.append(process)
        stack.wait_ready(f"http://127.0.0.1:{port}", process)
        client = new_api()
        client.base_url = f"http://127.0.0.1:{port}"
        return client

    yield start
    for process in started:
        stack.stop(process)


def test_a_job_that_finishes_between_subscribing_and_reading_is_not_missed(api_with, session_factory):
    """The request pauses 2 s right after Redis confirmed its subscription;
    meanwhile the job finishes without any message reaching it (finished in
    PostgreSQL directly, as a commit whose announcement was lost). Only the
    read after the subscription can see it: the answer must come after the
    pause, not at the 15 s deadline."""
    api = api_with(ORDERLY_FAULTS="wait.after_subscribe=sleep:2")
    job_id = stuck_job(session_factory, api)

    def finish_silently() -> None:
        with session_factory() as session:
            session.execute(text("UPDATE jobs SET status = 'succeeded', finished_at = now() WHERE id = :id"),
                            {"id": job_id})  # fmt: skip
            session.commit()

    finisher = threading.Timer(0.5, finish_silently)
    finisher.start()
    response, took = timed_get(api, f"/api/v1/jobs/{job_id}?wait=15")
    finisher.join()
    assert response.json()["status"] == "succeeded"
    assert took < 6


def test_waits_are_bounded_per_key(api_with, session_factory):
    api = api_with(MAX_WAITS_PER_KEY="2")
    holders = [threading.Thread(target=api.get, args=(f"/api/v1/jobs/{stuck_job(session_factory, api)}?wait=4",))
               for _ in range(2)]  # fmt: skip
    for holder in holders:
        holder.start()
    time.sleep(1)
    refused = api.get(f"/api/v1/jobs/{stuck_job(session_factory, api)}?wait=4")
    for holder in holders:
        holder.join()
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert api.get(f"/api/v1/jobs/{stuck_job(session_factory, api)}?wait=1").status_code == 200  # freed again


def test_with_redis_down_a_wait_still_answers_by_its_deadline(api, session_factory):
    job = api.submit_create()
    assert api.wait(job)["status"] == "succeeded"
    stuck = stuck_job(session_factory, api)
    with stopped("redis"):
        finished, took_finished = timed_get(api, f"/api/v1/jobs/{job['id']}?wait=3")
        waiting, took_waiting = timed_get(api, f"/api/v1/jobs/{stuck}?wait=2")
    assert finished.status_code == waiting.status_code == 200
    assert finished.json()["status"] == "succeeded" and took_finished < 3  # read at once
    assert waiting.json()["status"] == "queued" and took_waiting < 6
    # Once Redis is back, the subscriber reconnects and waits are woken again.
    again = api.submit_create()
    response, took = timed_get(api, f"/api/v1/jobs/{again['id']}?wait=15")
    assert response.json()["status"] == "succeeded" and took < 8


def test_a_post_that_prefers_to_wait_gets_the_finished_job(api):
    response = api.post("/api/v1/orders", json=ORDER, headers={"Prefer": "respond-async, wait=10"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "succeeded"
    assert response.headers["Preference-Applied"] == "wait=10"
    assert response.headers["Location"] == f"/api/v1/jobs/{response.json()['id']}"
    assert "Prefer" in response.headers["Vary"]
    paid = api.post(f"/api/v1/orders/{response.json()['order_id']}/commands", json={"command": "pay"},
                    headers={"Prefer": "wait=5"})  # fmt: skip
    assert (paid.status_code, paid.json()["status"]) == (200, "succeeded")
    plain = api.post("/api/v1/orders", json=ORDER)
    assert plain.status_code == 202 and "Prefer" in plain.headers["Vary"]
    for hint in ("wait=abc", "wait=0", "respond-async", "wait=-3"):  # a hint that does not parse is ignored
        assert api.post("/api/v1/orders", json=ORDER, headers={"Prefer": hint}).status_code == 202, hint


def test_a_post_that_prefers_to_wait_is_202_when_the_job_does_not_finish_in_time(api):
    with rabbitmq_app_stopped():  # the message waits for the relay: the job stays queued
        started = time.monotonic()
        response = api.post("/api/v1/orders", json=ORDER, headers={"Prefer": "respond-async, wait=1"})
        took = time.monotonic() - started
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert "Preference-Applied" not in response.headers
    assert 0.9 < took < 5
    assert api.wait(response.json(), timeout=60)["status"] == "succeeded"  # accepted all the same


def test_what_a_wake_up_carries_is_what_a_read_gives(api, session_factory):
    """The worker's wake-up carries the finished job, and waiting requests
    answer with it: it must equal a read, whatever the outcome."""
    created = api.post("/api/v1/orders", json=ORDER, headers={"Prefer": "wait=10"})
    assert created.status_code == 200, created.text
    refused = api.post(f"/api/v1/orders/{created.json()['order_id']}/commands", json={"command": "ship"},
                       headers={"Prefer": "wait=10"})  # fmt: skip
    assert (refused.status_code, refused.json()["status"]) == (200, "failed")  # pending orders cannot ship
    stuck = stuck_job(session_factory, api)
    canceller = threading.Timer(0.5, api.post, args=[f"/api/v1/jobs/{stuck}/cancel"])
    canceller.start()
    cancelled = api.get(f"/api/v1/jobs/{stuck}?wait=10")
    canceller.join()
    assert cancelled.json()["status"] == "cancelled"
    for answer in (created, refused, cancelled):
        assert answer.json() == api.get(f"/api/v1/jobs/{answer.json()['id']}").json()


def test_a_wake_up_without_the_job_makes_the_request_read_it(api, session_factory, settings):
    """A wake-up of "finished" (a worker of an older version), or one naming
    another job: the request reads the job."""
    client = redis.Redis.from_url(settings.redis_url)
    for data in ("finished", json.dumps({"id": str(uuid.uuid4()), "status": "failed"})):
        job_id = stuck_job(session_factory, api)

        def finish_and_announce(job_id: str = job_id, data: str = data) -> None:
            with session_factory() as session:
                session.execute(text("UPDATE jobs SET status = 'succeeded', finished_at = now() WHERE id = :id"),
                                {"id": job_id})  # fmt: skip
                session.commit()
            client.publish(f"orderly:job:{job_id}", data)

        announcer = threading.Timer(0.5, finish_and_announce)
        announcer.start()
        response, took = timed_get(api, f"/api/v1/jobs/{job_id}?wait=15")
        announcer.join()
        assert response.json()["status"] == "succeeded", data
        assert took < 5, data  # woken, not the deadline


def test_a_post_that_waits_publishes_only_once_subscribed(api_with):
    """A `Prefer: wait` POST does not read its job before waiting: it holds
    the message until Redis has confirmed the subscription. Its request here
    pauses 2 s before subscribing; were the message out before, the job
    would finish unheard and the answer come at the 15 s deadline."""
    api = api_with(ORDERLY_FAULTS="wait.before_subscribe=sleep:2")
    # Twice: the process's first wait starts its subscriber, which reads once
    # more when connected (as after a reconnect); the second wait does not.
    for _ in range(2):
        started = time.monotonic()
        response = api.post("/api/v1/orders", json=ORDER, headers={"Prefer": "wait=15"})
        took = time.monotonic() - started
        assert (response.status_code, response.json()["status"]) == (200, "succeeded")
        assert 1.9 < took < 6


def test_a_post_past_the_bound_on_waits_is_published_at_once(api_with, session_factory):
    """Past the key's waits the POST is a plain 202; the message it held for
    the wait goes out all the same (not 10 s later by the relay)."""
    api = api_with(MAX_WAITS_PER_KEY="1")
    holder = threading.Thread(target=api.get, args=(f"/api/v1/jobs/{stuck_job(session_factory, api)}?wait=6",))
    holder.start()
    time.sleep(1)
    response = api.post("/api/v1/orders", json=ORDER, headers={"Prefer": "wait=5"})
    assert response.status_code == 202
    time.sleep(1)  # the relay would publish it 2 s after the accept at the earliest (stack.py)
    applied = api.get(f"/api/v1/jobs/{response.json()['id']}").json()
    holder.join()
    assert applied["status"] == "succeeded"


def test_with_redis_down_a_post_that_waits_is_still_published(api):
    with stopped("redis"):
        started = time.monotonic()
        response = api.post("/api/v1/orders", json=ORDER, headers={"Prefer": "wait=2"})
        took = time.monotonic() - started
    # No wake-up can come: the job is read at the deadline, applied by then.
    assert (response.status_code, response.json()["status"]) == (200, "succeeded")
    assert 1.9 < took < 6
