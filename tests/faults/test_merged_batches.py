"""Messages merged by the worker (workers/merging.py): while its one pool
process is busy, the messages that arrive are held, then applied together
in one transaction; faults that meet such a merged batch lose nothing and
apply nothing twice (docs/reliability.md)."""

from __future__ import annotations

import random
import time
import uuid

from sqlalchemy import select

from infra.messaging import JobMessage
from models import Command, Job, JobErrorCode, JobStatus, OrderEvent
from orders import accept
from orders.apply import INTERNAL_ERROR_DETAIL
from orders.unit_of_work import OrdersUnitOfWork
from tests.faults.harness import FaultStack, wait_until
from tests.faults.test_batch_faults import applied_once, queued_creates
from tests.faults.verify import wait_for_idle_queue
from tests.integration.servers import services

MESSAGES = 6
JOBS_EACH = 3
# The pool process holds each transaction open this long before its commit:
# what the test publishes meanwhile arrives while it is busy.
BUSY = "apply.before_commit=sleep:2"


def publish_one_by_one(lone_worker: FaultStack, jobs: list[list[JobMessage]]) -> None:
    publisher = lone_worker.publisher()
    for message in jobs:
        assert publisher.publish(message) == []


def keep_busy(lone_worker: FaultStack, session_factory) -> uuid.UUID:
    """A message of one job, taken by the pool process, which then sleeps in it."""
    (blocker,) = queued_creates(session_factory, 1)
    publish_one_by_one(lone_worker, [[JobMessage(blocker, "create")]])
    assert wait_until(lambda: lone_worker.received(0)[str(blocker)] == 1, 30), "the worker never took the blocker"
    return blocker


def transactions(session_factory, job_ids: list[uuid.UUID]) -> set:
    """The start times of the transactions that applied the jobs (now() is per transaction)."""
    with session_factory() as session:
        return set(session.execute(select(Job.started_at).where(Job.id.in_(job_ids))).scalars())


def test_messages_waiting_for_a_busy_worker_are_applied_in_one_transaction(lone_worker, session_factory):
    lone_worker.replace_worker(0, ORDERLY_FAULTS=BUSY)
    try:
        blocker = keep_busy(lone_worker, session_factory)
        messages = [queued_creates(session_factory, JOBS_EACH) for _ in range(MESSAGES)]
        publish_one_by_one(lone_worker, [[JobMessage(job_id, "create") for job_id in ids] for ids in messages])
        job_ids = [job_id for ids in messages for job_id in ids]
        assert wait_until(lambda: applied_once(session_factory, job_ids), 30), "the held messages were not applied"
        assert len(transactions(session_factory, job_ids)) == 1, "the held messages were not merged"
        assert transactions(session_factory, job_ids) != transactions(session_factory, [blocker])
        # Each merged message is acked, not only the one the request was built from.
        assert wait_for_idle_queue(10) is not None, "merged messages left unacknowledged"
    finally:
        lone_worker.replace_worker(0)


def test_a_pool_process_killed_while_it_holds_merged_messages(lone_worker, session_factory):
    lone_worker.replace_worker(0, ORDERLY_FAULTS="apply.before_commit=sleep:3")
    try:
        keep_busy(lone_worker, session_factory)
        messages = [queued_creates(session_factory, JOBS_EACH) for _ in range(MESSAGES)]
        publish_one_by_one(lone_worker, [[JobMessage(job_id, "create") for job_id in ids] for ids in messages])
        job_ids = [job_id for ids in messages for job_id in ids]
        last = str(messages[-1][0])
        assert wait_until(lambda: lone_worker.received(0)[last] == 1, 30), "the worker never received the messages"
        time.sleep(3.5)  # the blocker commits at 3 s; the merged batch is then inside its own 3 s
        assert lone_worker.kill_pool_child(random.Random(2))
        # Every merged message is handed back (task_reject_on_worker_lost),
        # not only the first: all of them come again within seconds, before
        # the relay's 10 s, and each job is applied once.
        assert wait_until(lambda: applied_once(session_factory, job_ids), 9), "not all merged messages came back"
        assert all(lone_worker.received(0)[str(ids[0])] >= 2 for ids in messages)
    finally:
        lone_worker.replace_worker(0)


def test_merged_messages_keep_their_order_and_a_poisoned_job_fails_alone(lone_worker, session_factory):
    lone_worker.replace_worker(0, ORDERLY_FAULTS=BUSY)
    try:
        uow = OrdersUnitOfWork(session_factory)
        (create,) = queued_creates(session_factory, 1)
        publish_one_by_one(lone_worker, [[JobMessage(create, "create")]])
        assert wait_until(lambda: applied_once(session_factory, [create]), 30)
        with session_factory() as session:
            tenant, order_id = session.execute(select(Job.tenant_id, Job.order_id).where(Job.id == create)).one()

        keep_busy(lone_worker, session_factory)
        pay = accept.submit_command(uow, tenant, order_id, Command.PAY, lambda _: None).id
        poison = accept.submit_create(uow, tenant, {"currency": "USD"}, lambda _: None).id  # no items
        ship = accept.submit_command(uow, tenant, order_id, Command.SHIP, lambda _: None).id
        good = queued_creates(session_factory, 2)
        publish_one_by_one(
            lone_worker,
            [[JobMessage(pay, "pay")], [JobMessage(poison, "create"), JobMessage(good[0], "create")],
             [JobMessage(ship, "ship"), JobMessage(good[1], "create")]],
        )  # fmt: skip
        every = [pay, poison, ship, *good]
        assert wait_until(lambda: len(finished(session_factory, every)) == len(every), 40), "jobs left unfinished"
        results = finished(session_factory, every)
        assert results[poison] == (JobStatus.FAILED, {"code": str(JobErrorCode.INTERNAL_ERROR),
                                                      "detail": INTERNAL_ERROR_DETAIL})  # fmt: skip
        assert {results[job][0] for job in (pay, ship, *good)} == {JobStatus.SUCCEEDED}
        with session_factory() as session:
            events = session.execute(
                select(OrderEvent.version, OrderEvent.command).where(OrderEvent.order_id == order_id)
                .order_by(OrderEvent.version)
            ).all()  # fmt: skip
        assert [tuple(e) for e in events] == [(1, Command.CREATE), (2, Command.PAY), (3, Command.SHIP)]
    finally:
        lone_worker.replace_worker(0)


def finished(session_factory, job_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[JobStatus, dict | None]]:
    with session_factory() as session:
        rows = session.execute(select(Job.id, Job.status, Job.error).where(Job.id.in_(job_ids))).all()
    return {job_id: (status, error) for job_id, status, error in rows if status != JobStatus.QUEUED}


def test_the_broker_closes_the_connection_while_messages_are_held(lone_worker, session_factory):
    # The pool process sleeps 3 s in the blocker while the other messages are
    # held; the broker then closes the connection: the held deliveries are
    # void and never handed over (workers/merging.py), and the broker
    # delivers every message again.
    lone_worker.replace_worker(0, ORDERLY_FAULTS="apply.before_commit=sleep:3")
    try:
        blocker = keep_busy(lone_worker, session_factory)
        messages = [queued_creates(session_factory, JOBS_EACH) for _ in range(MESSAGES)]
        publish_one_by_one(lone_worker, [[JobMessage(job_id, "create") for job_id in ids] for ids in messages])
        last = str(messages[-1][0])
        assert wait_until(lambda: lone_worker.received(0)[last] == 1, 30), "the worker never received the messages"
        services("rabbitmqctl", "close_all_connections", "--global", "fault injection: messages held")
        job_ids = [blocker, *(job_id for ids in messages for job_id in ids)]
        assert wait_until(lambda: applied_once(session_factory, job_ids), 60), "the held messages were not applied"
        assert all(lone_worker.received(0)[str(ids[0])] >= 2 for ids in messages), "a held message was not redelivered"
        assert wait_for_idle_queue(30) is not None, "messages left unacknowledged"
        # A held delivery handed over after its channel closed would be
        # applied, then fail its ack ("Couldn't ack"): work for nothing.
        assert "Couldn't ack" not in lone_worker.log(0)
    finally:
        lone_worker.replace_worker(0)
