"""The compare-and-set on orders.version and the order locks, forced deterministically."""

from __future__ import annotations

import threading
import time
import uuid

from infra import faults
from models import Command, OrderStatus
from models.base import utcnow
from orders import accept, apply
from orders.apply_plan import OrderState, Plan
from orders.unit_of_work import OrdersUnitOfWork


def no_publish(_job_id):
    """The tests apply the jobs themselves."""


def test_a_stale_write_matches_no_row_and_writes_nothing(api, session_factory):
    """A write planned on version 1 after the order moved on: the statement
    reports the missed compare-and-set, and the caller's rollback leaves no trace."""
    order_id = uuid.UUID(api.create_order())
    uow = lambda: OrdersUnitOfWork(session_factory)  # noqa: E731
    pay = accept.submit_command(uow(), api.tenant_id, order_id, Command.PAY, no_publish)
    cancel = accept.submit_command(uow(), api.tenant_id, order_id, Command.CANCEL, no_publish)
    with uow() as writer:
        (paying,) = writer.apply.start_jobs([pay.id])
        plan = Plan(utcnow())
        plan.orders[order_id] = OrderState(order_id, api.tenant_id, OrderStatus.PENDING, 1, 1)
        plan.apply(paying)
        assert writer.apply.write(plan)
        writer.commit()
    with uow() as reader:
        (cancelling,) = reader.apply.start_jobs([cancel.id])
        stale = Plan(utcnow())
        stale.orders[order_id] = OrderState(order_id, api.tenant_id, OrderStatus.PENDING, 1, 1)  # read before the pay
        stale.apply(cancelling)
        assert reader.apply.write(stale) is False
        reader.rollback()
    assert api.order(str(order_id))["status"] == "paid"
    events = api.get(f"/api/v1/orders/{order_id}/events").json()["data"]
    assert [e["command"] for e in events] == ["create", "pay"]
    assert api.get(f"/api/v1/jobs/{cancel.id}").json()["status"] == "queued"


def test_a_worker_waits_for_the_order_another_holds_and_decides_on_what_it_committed(
    api, session_factory, order_cache, finished
):
    """One worker holds the order (it has written the cancel, not committed);
    another's pay waits for the lock, then reads the cancelled order and
    fails on the state machine instead of overwriting the cancellation."""
    order_id = uuid.UUID(api.create_order())
    uow = lambda: OrdersUnitOfWork(session_factory)  # noqa: E731
    cancel = accept.submit_command(uow(), api.tenant_id, order_id, Command.CANCEL, no_publish)
    pay = accept.submit_command(uow(), api.tenant_id, order_id, Command.PAY, no_publish)
    holding = threading.Event()

    def hold_the_first_commit() -> None:
        if not holding.is_set():
            holding.set()
            time.sleep(1.0)

    outcomes = {}

    def run(job_id: uuid.UUID) -> None:
        outcomes[job_id] = apply.apply_job(uow(), job_id, order_cache.invalidate_many, finished)

    with faults.armed("apply.before_commit", hold_the_first_commit):
        first = threading.Thread(target=run, args=(cancel.id,))
        first.start()
        assert holding.wait(10)
        started = time.monotonic()
        run(pay.id)  # blocks on the order's lock until the cancel commits
        waited = time.monotonic() - started
        first.join()
    assert outcomes[cancel.id].result == "succeeded"
    assert (outcomes[pay.id].result, outcomes[pay.id].error_code) == ("failed", "invalid_transition")
    assert waited > 0.5
    order = api.order(str(order_id))
    assert (order["status"], order["version"]) == ("cancelled", 2)
    events = api.get(f"/api/v1/orders/{order_id}/events").json()["data"]
    assert [e["command"] for e in events] == ["create", "cancel"]


def test_redelivered_job_is_applied_once(api, orders_uow, order_cache, finished):
    order_id = uuid.UUID(api.create_order())
    pay = accept.submit_command(orders_uow, api.tenant_id, order_id, Command.PAY, no_publish)
    first = apply.apply_job(orders_uow, pay.id, order_cache.invalidate_many, finished)
    again = apply.apply_job(orders_uow, pay.id, order_cache.invalidate_many, finished)
    assert (first.result, again.result) == ("succeeded", "skipped")
    assert api.order(str(order_id))["version"] == 2
    job = api.get(f"/api/v1/jobs/{pay.id}").json()
    assert (job["status"], job["attempts"]) == ("succeeded", 1)
