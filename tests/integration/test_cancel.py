"""POST /api/v1/jobs/{id}/cancel: a queued job ends cancelled and its message
changes nothing; a job a worker has claimed or finished answers 409 with its
status. Exactly one of cancelled / applied, never both."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
import sqlalchemy as sa
from sqlalchemy import select

from infra.messaging import JobMessage
from models import OrderEvent
from orders import apply
from tests.integration.invariants import check_jobs, check_orders
from tests.integration.test_job_waits import stuck_job


def events_of(session_factory, job_id: str) -> list[OrderEvent]:
    with session_factory() as session:
        return list(session.scalars(select(OrderEvent).where(OrderEvent.job_id == uuid.UUID(job_id))))


def test_a_cancelled_job_stays_cancelled_when_its_message_arrives(api, session_factory, publish):
    job_id = stuck_job(session_factory, api)  # queued, its message not sent yet
    response = api.post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled" and cancelled["finished_at"]

    publish(JobMessage(uuid.UUID(job_id), "create"))  # the worker gets it now
    time.sleep(1.5)
    job = api.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "cancelled"
    assert "Retry-After" not in api.get(f"/api/v1/jobs/{job_id}").headers  # finished: no reason to poll
    assert events_of(session_factory, job_id) == []
    assert api.get(f"/api/v1/orders/{job['order_id']}").status_code == 404  # the create changed nothing


def test_a_repeated_cancel_gets_the_same_answer(api, session_factory):
    job_id = stuck_job(session_factory, api)
    first = api.post(f"/api/v1/jobs/{job_id}/cancel")
    again = api.post(f"/api/v1/jobs/{job_id}/cancel")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()


def test_a_finished_job_cannot_be_cancelled(api):
    job = api.wait(api.submit_create())
    response = api.post(f"/api/v1/jobs/{job['id']}/cancel")
    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["job_status"] == "succeeded"
    assert api.get(f"/api/v1/jobs/{job['id']}").json()["status"] == "succeeded"


def test_unknown_and_other_tenants_jobs_are_not_found(api, new_api, session_factory):
    job_id = stuck_job(session_factory, api)
    assert api.post(f"/api/v1/jobs/{uuid.uuid4()}/cancel").status_code == 404
    assert new_api().post(f"/api/v1/jobs/{job_id}/cancel").status_code == 404
    assert api.get(f"/api/v1/jobs/{job_id}").json()["status"] == "queued"  # the stranger changed nothing


def test_a_cancel_that_meets_a_worker_mid_apply_waits_and_answers_409(api, session_factory, orders_uow, finished):
    """The worker has locked the job and written the change, not yet
    committed: the cancel waits for the commit and finds the job succeeded."""
    job_id = stuck_job(session_factory, api)
    claimed = threading.Event()

    def slow_invalidate(versions: list[tuple[uuid.UUID, int]]) -> list[bool]:  # runs just before the commit
        claimed.set()
        time.sleep(1.0)
        return [True] * len(versions)

    worker = threading.Thread(target=apply.apply_job, args=(orders_uow, uuid.UUID(job_id), slow_invalidate, finished))
    worker.start()
    assert claimed.wait(10)
    started = time.monotonic()
    response = api.post(f"/api/v1/jobs/{job_id}/cancel")
    took = time.monotonic() - started
    worker.join()
    assert response.status_code == 409, response.text
    assert response.json()["job_status"] == "succeeded"
    assert took > 0.5  # it waited for the worker's commit
    assert len(events_of(session_factory, job_id)) == 1
    # The stream reports the job once, as succeeded: the cancel that changed nothing reports nothing.
    with session_factory() as session:
        reported = session.execute(
            sa.text("SELECT payload->>'status' FROM stream_outbox WHERE type = 'job.finished' "
                    "AND payload->>'job_id' = :job_id"), {"job_id": job_id}
        ).scalars().all()  # fmt: skip
    assert reported == ["succeeded"]


def test_a_job_held_by_a_stuck_worker_answers_409_running(api, session_factory, orders_uow):
    job_id = stuck_job(session_factory, api)
    with orders_uow as stuck:
        assert stuck.apply.start_jobs([uuid.UUID(job_id)])  # holds the row lock
        response = api.post(f"/api/v1/jobs/{job_id}/cancel")
        stuck.rollback()
    assert response.status_code == 409, response.text
    assert response.json()["job_status"] == "running"
    assert api.get(f"/api/v1/jobs/{job_id}").json()["status"] == "queued"  # the worker may still apply it


def test_a_cancel_wakes_requests_waiting_on_the_job(api, session_factory):
    job_id = stuck_job(session_factory, api)
    threading.Timer(1.0, api.post, args=[f"/api/v1/jobs/{job_id}/cancel"]).start()
    started = time.monotonic()
    waited = api.get(f"/api/v1/jobs/{job_id}?wait=15").json()
    assert waited["status"] == "cancelled"
    assert time.monotonic() - started < 6


def test_cancels_racing_the_worker_end_in_exactly_one_outcome(api, session_factory):
    """Cancel each command right after it is accepted, while the worker works
    through the others: each job is cancelled (and its order unchanged) or
    applied once, and the cancel's answer says which. Both outcomes happen."""
    orders = [api.create_order() for _ in range(60)]

    def submit_then_cancel(order_id: str) -> tuple[dict, requests.Response]:
        job = api.submit_command(order_id, "pay")
        return job, api.post(f"/api/v1/jobs/{job['id']}/cancel")

    with ThreadPoolExecutor(8) as pool:
        raced = list(pool.map(submit_then_cancel, orders))
    outcomes = []
    for job, answer in raced:
        final = api.wait(job)
        if answer.status_code == 200:
            assert final["status"] == "cancelled"
            assert api.order(job["order_id"])["status"] == "pending"
        else:
            assert answer.status_code == 409, answer.text
            assert final["status"] == answer.json()["job_status"] == "succeeded"
            assert api.order(job["order_id"])["status"] == "paid"
        outcomes.append(final["status"])
    with session_factory() as session:
        assert check_jobs(session, [uuid.UUID(job["id"]) for job, _ in raced]) == []
        assert check_orders(session, [uuid.UUID(order_id) for order_id in orders]) == []
    print(f"raced: {outcomes.count('cancelled')} cancelled, {outcomes.count('succeeded')} applied")
