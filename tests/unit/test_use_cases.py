"""The use cases of orders/ on an in-memory unit of work (tests/unit/fakes.py):
the rules of accepting, applying and cancelling, and which webhook events
each outcome writes, in milliseconds and without servers. The same paths
against the real servers are in tests/integration (test_optimistic_lock.py,
test_cancel.py, test_idempotency.py, test_webhooks.py)."""

from __future__ import annotations

import uuid

import pytest

from infra.errors import IdempotencyKeyReused, JobNotCancellable, NotFound, PreconditionFailed, RateLimited
from infra.messaging import JobMessage
from models import Command, EventType, JobErrorCode, JobStatus, OrderStatus
from orders import accept, apply, cancel
from orders.accept import Idempotency
from tests.unit.fakes import FakeStore, FakeUnitOfWork, Recorder, State, taken

TENANT = uuid.uuid4()
ORDER = {"currency": "EUR", "items": [{"sku": "A-1", "quantity": 2, "unit_price_cents": 250}]}


class Broker:
    def __init__(self, uow: FakeUnitOfWork | None = None, fails: bool = False) -> None:
        self.sent: list[JobMessage] = []
        self._uow, self._fails = uow, fails

    def __call__(self, message: JobMessage) -> None:
        # Only after the commit: the job a client is told about exists.
        assert self._uow is None or message.id in self._uow.state.jobs
        if self._fails:
            raise ConnectionError("broker down")
        self.sent.append(message)


def created(uow: FakeUnitOfWork, told: Recorder | None = None) -> uuid.UUID:
    """An order applied at version 1; its id."""
    job = accept.submit_create(uow, TENANT, ORDER, Broker())
    assert apply.apply_job(uow, job.id, taken, told or Recorder()).result is apply.Result.SUCCEEDED
    return job.order_id


def submitted(uow: FakeUnitOfWork, order_id: uuid.UUID, command: Command, version: int | None = None) -> uuid.UUID:
    return accept.submit_command(uow, TENANT, order_id, command, Broker(), expected_version=version).id


# ------------------------------------------------------------------ accept
def test_a_create_commits_a_queued_job_then_publishes_its_message():
    uow = FakeUnitOfWork()
    broker = Broker(uow)
    job = accept.submit_create(uow, TENANT, ORDER, broker)
    assert uow.state.jobs[job.id].status == JobStatus.QUEUED
    assert broker.sent == [JobMessage(job.id, Command.CREATE)]


def test_a_publish_that_fails_leaves_the_job_queued_for_the_relay():
    uow = FakeUnitOfWork()
    job = accept.submit_create(uow, TENANT, ORDER, Broker(fails=True))
    assert uow.state.jobs[job.id].status == JobStatus.QUEUED


def test_the_same_idempotency_key_and_body_answer_the_same_job_once():
    uow = FakeUnitOfWork()
    broker = Broker()
    key = Idempotency.for_request("k-1", "POST", "/api/v1/orders", ORDER)
    first = accept.submit_create(uow, TENANT, ORDER, broker, idempotency=key)
    again = accept.submit_create(uow, TENANT, ORDER, broker, idempotency=key)
    assert first.id == again.id and len(uow.state.jobs) == 1
    assert len(broker.sent) == 1


def test_an_idempotency_key_reused_with_another_body_is_refused():
    uow = FakeUnitOfWork()
    accept.submit_create(uow, TENANT, ORDER, Broker(), idempotency=Idempotency.for_request("k", "POST", "/o", ORDER))
    other = Idempotency.for_request("k", "POST", "/o", {**ORDER, "currency": "USD"})
    with pytest.raises(IdempotencyKeyReused):
        accept.submit_create(uow, TENANT, ORDER, Broker(), idempotency=other)
    assert len(uow.state.jobs) == 1


def test_a_command_for_a_missing_or_stale_order_is_refused_and_leaves_nothing():
    uow = FakeUnitOfWork()
    order_id = created(uow)
    with pytest.raises(NotFound):
        submitted(uow, uuid.uuid4(), Command.PAY)
    with pytest.raises(PreconditionFailed):
        submitted(uow, order_id, Command.PAY, version=7)
    assert len(uow.state.jobs) == 1  # the create's


def test_at_the_tenants_cap_new_commands_are_refused_but_an_accepted_retry_gets_its_job():
    class AtCap:
        cap = 1

        def admit(self, tenant_id, count_in_database):
            return count_in_database() < self.cap

    uow = FakeUnitOfWork()
    key = Idempotency.for_request("k", "POST", "/o", ORDER)
    first = accept.submit_create(uow, TENANT, ORDER, Broker(), idempotency=key, backlog=AtCap())
    with pytest.raises(RateLimited):
        accept.submit_create(uow, TENANT, ORDER, Broker(), backlog=AtCap())
    assert accept.submit_create(uow, TENANT, ORDER, Broker(), idempotency=key, backlog=AtCap()).id == first.id


# ------------------------------------------------------------------- apply
def test_applying_a_create_makes_the_order_and_reports_both_events_with_it():
    uow, told = FakeUnitOfWork(), Recorder()
    job = accept.submit_create(uow, TENANT, ORDER, Broker())
    invalidated = []
    outcome = apply.apply_job(uow, job.id, lambda versions: invalidated.extend(versions) or taken(versions), told)
    order = uow.state.orders[job.order_id]
    assert (outcome.result, order.status, order.version, order.total_cents) == ("succeeded", "pending", 1, 500)
    assert invalidated == [(job.order_id, 1)]
    # The order's change, then the job that made it (the stream keeps this order).
    assert [(e.type, e.payload.get("status"), e.payload.get("to_status")) for e in uow.state.outbox] == [
        (EventType.ORDER_STATUS_CHANGED, None, "pending"),
        (EventType.JOB_FINISHED, "succeeded", None),
    ]
    assert uow.state.outbox[0].payload["from_status"] is None and uow.state.outbox[0].payload["version"] == 1
    assert told.told == [("finished", job.id, "succeeded", None)]


def test_a_transition_bumps_the_version_and_its_event_names_both_statuses():
    uow = FakeUnitOfWork()
    order_id = created(uow)
    pay = submitted(uow, order_id, Command.PAY)
    assert apply.apply_job(uow, pay, taken, Recorder()).result == "succeeded"
    assert (uow.state.orders[order_id].status, uow.state.orders[order_id].version) == ("paid", 2)
    changed = uow.state.outbox[-2].payload
    assert (changed["from_status"], changed["to_status"], changed["version"]) == ("pending", "paid", 2)
    assert [e.version for e in uow.state.order_events] == [1, 2]


def test_an_invalid_transition_fails_the_job_reports_only_that_and_changes_nothing():
    uow, told = FakeUnitOfWork(), Recorder()
    order_id = created(uow)
    before = len(uow.state.outbox)
    ship = submitted(uow, order_id, Command.SHIP)  # a pending order cannot ship
    outcome = apply.apply_job(uow, ship, taken, told)
    assert (outcome.result, outcome.error_code) == ("failed", "invalid_transition")
    assert uow.state.jobs[ship].error["code"] == "invalid_transition"
    assert (uow.state.orders[order_id].status, uow.state.orders[order_id].version) == ("pending", 1)
    (event,) = uow.state.outbox[before:]
    assert (event.type, event.payload["status"], event.payload["error"]["code"]) == (
        "job.finished", "failed", "invalid_transition")  # fmt: skip
    assert told.told == [("finished", ship, "failed", "invalid_transition")]


def test_if_match_that_no_longer_holds_fails_with_version_conflict_and_no_retry():
    uow = FakeUnitOfWork()
    order_id = created(uow)
    pay, cancel_ = submitted(uow, order_id, Command.PAY, 1), submitted(uow, order_id, Command.CANCEL, 1)
    assert apply.apply_job(uow, pay, taken, Recorder()).result == "succeeded"
    slept = []
    outcome = apply.apply_job(uow, cancel_, taken, Recorder(), sleep=slept.append)
    assert (outcome.result, outcome.error_code, slept) == ("failed", "version_conflict", [])
    assert uow.state.orders[order_id].status == "paid"


def test_losing_the_compare_and_set_rereads_and_decides_on_the_new_version():
    """Between the read and the write another job cancels the order and
    commits: the pay rolls back, re-reads, and fails on the state machine
    instead of overwriting the cancellation."""
    uow = FakeUnitOfWork()
    order_id = created(uow)
    pay = submitted(uow, order_id, Command.PAY)

    def another_writer_cancels_first(db: State) -> None:
        uow.before_write = None  # once
        for committed in (db, uow.state):  # seen by the compare-and-set, and committed
            committed.orders[order_id].version, committed.orders[order_id].status = 2, OrderStatus.CANCELLED

    uow.before_write = another_writer_cancels_first
    slept = []
    outcome = apply.apply_job(uow, pay, taken, Recorder(), sleep=slept.append)
    assert len(slept) == 1  # one retry, after a jittered pause
    assert (outcome.result, outcome.error_code) == ("failed", "invalid_transition")
    assert (uow.state.orders[order_id].status, uow.state.orders[order_id].version) == ("cancelled", 2)


def test_an_order_that_keeps_changing_fails_the_job_after_the_last_retry():
    uow, told = FakeUnitOfWork(), Recorder()
    order_id = created(uow)
    pay = submitted(uow, order_id, Command.PAY)
    uow.before_write = lambda db: setattr(db.orders[order_id], "version", db.orders[order_id].version + 1)
    slept = []
    outcome = apply.apply_job(uow, pay, taken, told, sleep=slept.append)
    assert (outcome.result, outcome.error_code) == ("failed", "version_conflict")
    assert len(slept) == apply.MAX_CONFLICT_RETRIES
    assert uow.state.jobs[pay].status == JobStatus.FAILED and told.told[-1][2:] == ("failed", "version_conflict")


def test_a_redelivered_job_is_skipped_writes_nothing_and_wakes_nobody():
    uow, told = FakeUnitOfWork(), Recorder()
    order_id = created(uow)
    pay = submitted(uow, order_id, Command.PAY)
    apply.apply_job(uow, pay, taken, Recorder())
    outbox, version = len(uow.state.outbox), uow.state.orders[order_id].version
    assert apply.apply_job(uow, pay, taken, told).result == "skipped"
    assert (len(uow.state.outbox), uow.state.orders[order_id].version) == (outbox, version)
    assert told.told == [("skipped",)]


def test_an_unreachable_cache_leaves_a_pending_invalidation_in_the_same_transaction():
    uow = FakeUnitOfWork()
    job = accept.submit_create(uow, TENANT, ORDER, Broker())
    apply.apply_job(uow, job.id, lambda versions: [False] * len(versions), Recorder())
    assert uow.state.pending_invalidations == {job.order_id: 1}


def test_a_command_for_an_order_deleted_meanwhile_fails_not_found():
    uow = FakeUnitOfWork()
    order_id = created(uow)
    pay, delete = submitted(uow, order_id, Command.PAY), submitted(uow, order_id, Command.DELETE)
    assert apply.apply_job(uow, delete, taken, Recorder()).result == "succeeded"
    outcome = apply.apply_job(uow, pay, taken, Recorder())
    assert (outcome.result, outcome.error_code) == ("failed", "not_found")


def test_failing_a_job_after_its_retries_reports_it_once():
    uow, told = FakeUnitOfWork(), Recorder()
    job = accept.submit_create(uow, TENANT, ORDER, Broker())
    assert apply.fail_job(uow, job.id, JobErrorCode.INTERNAL_ERROR, "database unavailable", told) is True
    assert apply.fail_job(uow, job.id, JobErrorCode.INTERNAL_ERROR, "again", told) is False  # finished already
    assert [e.payload["status"] for e in uow.state.outbox] == ["failed"]
    assert told.told == [("finished", job.id, "failed", "internal_error")]


# ------------------------------------------------------------------ cancel
def test_a_queued_job_is_cancelled_once_and_a_repeated_cancel_answers_the_same():
    uow, told = FakeUnitOfWork(), Recorder()
    job = accept.submit_create(uow, TENANT, ORDER, Broker())
    view, now = cancel.cancel_job(uow, TENANT, job.id, told)
    again, repeated_now = cancel.cancel_job(uow, TENANT, job.id, told)
    assert (view["status"], now, repeated_now) == ("cancelled", True, False)
    assert again == view
    assert [(e.type, e.payload["status"]) for e in uow.state.outbox] == [("job.finished", "cancelled")]
    assert told.told == [("cancelled", job.id)]
    # Its message, arriving later, changes nothing.
    assert apply.apply_job(uow, job.id, taken, Recorder()).result == "skipped"
    assert job.order_id not in uow.state.orders


def test_a_finished_job_cannot_be_cancelled_and_names_its_status():
    uow = FakeUnitOfWork()
    order_id = created(uow)
    pay = submitted(uow, order_id, Command.PAY)
    apply.apply_job(uow, pay, taken, Recorder())
    with pytest.raises(JobNotCancellable) as refused:
        cancel.cancel_job(uow, TENANT, pay, Recorder())
    assert refused.value.extra == {"job_status": "succeeded"}


def test_another_tenants_job_is_not_found_and_stays_queued():
    uow = FakeUnitOfWork()
    job = accept.submit_create(uow, TENANT, ORDER, Broker())
    with pytest.raises(NotFound):
        cancel.cancel_job(uow, uuid.uuid4(), job.id, Recorder())
    assert uow.state.jobs[job.id].status == JobStatus.QUEUED


def test_a_cancel_that_loses_to_the_worker_answers_with_the_workers_outcome(monkeypatch):
    """The cancel read the job queued; the worker held its row and commits
    first; the cancel's update then finds it finished."""
    uow = FakeUnitOfWork()
    job = accept.submit_create(uow, TENANT, ORDER, Broker())
    real_cancel = FakeStore.cancel_queued

    def worker_commits_first(store, tenant_id, job_id, now, events):
        for committed in (store._uow.working, uow.state):
            committed.jobs[job_id].status = JobStatus.SUCCEEDED
        return real_cancel(store, tenant_id, job_id, now, events)

    monkeypatch.setattr(FakeStore, "cancel_queued", worker_commits_first)
    with pytest.raises(JobNotCancellable) as refused:
        cancel.cancel_job(uow, TENANT, job.id, Recorder())
    assert refused.value.extra == {"job_status": "succeeded"}
    assert uow.state.outbox == []


# ----------------------------------------------------------------- batches
def batch(uow: FakeUnitOfWork, job_ids: list[uuid.UUID], told: Recorder | None = None, invalidate=taken):
    return {o.job_id: o for o in apply.apply_jobs(uow, job_ids, invalidate, told or Recorder())}


def test_commands_on_one_order_in_one_batch_apply_in_the_order_they_came():
    uow = FakeUnitOfWork()
    order_id = created(uow)
    pay, ship = submitted(uow, order_id, Command.PAY), submitted(uow, order_id, Command.SHIP)
    tombstones = []
    outcomes = batch(uow, [pay, ship], invalidate=lambda versions: tombstones.extend(versions) or taken(versions))
    assert [outcomes[pay].result, outcomes[ship].result] == ["succeeded", "succeeded"]
    assert (uow.state.orders[order_id].status, uow.state.orders[order_id].version) == ("shipped", 3)
    assert [(e.version, e.from_status, e.to_status) for e in uow.state.order_events[1:]] == [
        (2, "pending", "paid"), (3, "paid", "shipped")]  # fmt: skip
    assert tombstones == [(order_id, 3)]  # one per order, its last version
    # Listed the other way round, ship comes first and is refused.
    other = created(uow)
    ship2, pay2 = submitted(uow, other, Command.SHIP), submitted(uow, other, Command.PAY)
    outcomes = batch(uow, [ship2, pay2])
    assert (outcomes[ship2].error_code, outcomes[pay2].result) == ("invalid_transition", "succeeded")


def test_a_command_that_cannot_apply_fails_alone_and_the_rest_of_its_batch_commits():
    uow, told = FakeUnitOfWork(), Recorder()
    first, second = created(uow), created(uow)
    deliver, pay = submitted(uow, first, Command.DELIVER), submitted(uow, second, Command.PAY)
    outcomes = batch(uow, [deliver, pay], told)
    assert (outcomes[deliver].result, outcomes[deliver].error_code) == ("failed", "invalid_transition")
    assert outcomes[pay].result == "succeeded" and uow.state.orders[second].status == "paid"
    assert uow.state.orders[first].version == 1
    assert sorted(t[2] for t in told.told) == ["failed", "succeeded"]


def test_if_match_inside_a_batch_holds_against_the_previous_command():
    uow = FakeUnitOfWork()
    order_id = created(uow)
    pay, cancel_ = submitted(uow, order_id, Command.PAY, 1), submitted(uow, order_id, Command.CANCEL, 1)
    outcomes = batch(uow, [pay, cancel_])
    assert (outcomes[pay].result, outcomes[cancel_].error_code) == ("succeeded", "version_conflict")


def test_a_poisoned_job_fails_alone_when_its_batch_goes_again_one_by_one():
    uow, told = FakeUnitOfWork(), Recorder()
    good = accept.submit_create(uow, TENANT, ORDER, Broker())
    poison = accept.submit_create(uow, TENANT, {"currency": "EUR"}, Broker())  # no items: corrupt
    outcomes = batch(uow, [poison.id, good.id], told)
    assert (outcomes[poison.id].result, outcomes[poison.id].error_code) == ("failed", "internal_error")
    assert outcomes[good.id].result == "succeeded" and good.order_id in uow.state.orders
    assert uow.state.jobs[poison.id].error["detail"] == apply.INTERNAL_ERROR_DETAIL  # no class name, no message


def test_finished_jobs_in_a_batch_are_skipped_and_the_others_applied():
    uow, told = FakeUnitOfWork(), Recorder()
    order_id = created(uow)
    pay = submitted(uow, order_id, Command.PAY)
    batch(uow, [pay])
    ship = submitted(uow, order_id, Command.SHIP)
    outcomes = batch(uow, [pay, ship], told)
    assert (outcomes[pay].result, outcomes[ship].result) == ("skipped", "succeeded")
    assert ("skipped",) in told.told and uow.state.orders[order_id].version == 3


def test_a_batch_whose_tombstones_redis_refused_records_each_as_pending():
    uow = FakeUnitOfWork()
    a, b = (accept.submit_create(uow, TENANT, ORDER, Broker()) for _ in range(2))
    batch(uow, [a.id, b.id], invalidate=lambda versions: [False] * len(versions))
    assert uow.state.pending_invalidations == {a.order_id: 1, b.order_id: 1}
