"""Faults that meet a batch: several jobs of one message in one transaction.

A pool child killed while it holds a batch's transaction open, and the
broker closing the worker's connection after the batch committed but
before its message was acked: in both the message comes back, and each of
its jobs is applied exactly once (docs/reliability.md)."""

from __future__ import annotations

import random
import time
import uuid

from sqlalchemy import func, select

from access import api_keys
from infra.messaging import JobMessage
from models import Job, JobStatus, OrderEvent
from orders import accept
from orders.unit_of_work import OrdersUnitOfWork
from tests.faults.harness import wait_until
from tests.integration.client import ORDER
from tests.integration.servers import services

BATCH = 32


def queued_creates(session_factory, count: int) -> list[uuid.UUID]:
    """`count` create jobs committed and not published (as when the API died before publishing)."""
    with session_factory() as session:
        tenant = api_keys.create_key(session, f"batch-{uuid.uuid4().hex[:12]}").tenant_id
        session.commit()
    uow = OrdersUnitOfWork(session_factory)
    return [accept.submit_create(uow, tenant, ORDER, lambda _: None).id for _ in range(count)]


def applied_once(session_factory, job_ids: list[uuid.UUID]) -> bool:
    with session_factory() as session:
        statuses = session.execute(select(Job.status).where(Job.id.in_(job_ids))).scalars().all()
        events = session.execute(
            select(OrderEvent.job_id, func.count()).where(OrderEvent.job_id.in_(job_ids)).group_by(OrderEvent.job_id)
        ).all()
    return statuses == [JobStatus.SUCCEEDED] * len(job_ids) and sorted(n for _, n in events) == [1] * len(job_ids)


def test_a_pool_child_killed_while_it_holds_a_batch_open(lone_worker, session_factory):
    lone_worker.replace_worker(0, ORDERLY_FAULTS="apply.before_commit=sleep:3")
    try:
        job_ids = queued_creates(session_factory, BATCH)
        lone_worker.publisher().publish([JobMessage(job_id, "create") for job_id in job_ids])  # one message
        task_id = str(job_ids[0])
        assert wait_until(lambda: lone_worker.received(0)[task_id] == 1, 30), "the worker never took the batch"
        time.sleep(1)  # inside the 3 s between the batch's write and its commit
        assert lone_worker.kill_pool_child(random.Random(1))
        # The message comes back (task_reject_on_worker_lost); the new child
        # applies the batch, now from scratch: the killed transaction left
        # nothing. Within 8 s: before the relay would republish (10 s).
        assert wait_until(lambda: applied_once(session_factory, job_ids), 8), "the batch was not applied once in 8 s"
        assert lone_worker.received(0)[task_id] >= 2, "the killed batch's message was not delivered again"
    finally:
        lone_worker.replace_worker(0)


def test_the_broker_drops_the_connection_after_the_commit_before_the_ack(lone_worker, session_factory):
    # Long enough for rabbitmqctl (seconds to start) to close the connection
    # while the batch is committed and its message not yet acked.
    lone_worker.replace_worker(0, ORDERLY_FAULTS="apply.after_commit=sleep:15")
    try:
        job_ids = queued_creates(session_factory, BATCH)
        lone_worker.publisher().publish([JobMessage(job_id, "create") for job_id in job_ids])
        task_id = str(job_ids[0])
        assert wait_until(lambda: applied_once(session_factory, job_ids), 30), "the batch was not applied"
        services("rabbitmqctl", "close_all_connections", "--global", "fault injection: before the ack")
        # Unacked, the message goes back to the queue; its second run finds
        # every job finished and changes nothing.
        assert wait_until(lambda: lone_worker.received(0)[task_id] >= 2, 60), "the message was not delivered again"
        time.sleep(1)
        assert applied_once(session_factory, job_ids)
    finally:
        lone_worker.replace_worker(0)
