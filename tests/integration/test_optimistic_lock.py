"""The compare-and-set on orders.version, forced deterministically."""

from __future__ import annotations

import uuid

from models import Command, OrderStatus
from models.base import utcnow
from orders import accept, apply
from orders.apply_sql import ApplySql
from orders.unit_of_work import OrdersUnitOfWork


def no_publish(_job_id):
    """The tests apply the jobs themselves."""


def test_a_stale_write_matches_no_row(api, session_factory):
    order_id = uuid.UUID(api.create_order())
    uow = lambda: OrdersUnitOfWork(session_factory)  # noqa: E731
    pay = accept.submit_command(uow(), api.tenant_id, order_id, Command.PAY, no_publish)
    cancel = accept.submit_command(uow(), api.tenant_id, order_id, Command.CANCEL, no_publish)
    with uow() as reader, uow() as writer:
        stale = reader.apply.live_order(api.tenant_id, order_id)
        fresh = writer.apply.live_order(api.tenant_id, order_id)
        paying = writer.apply.start_job(pay.id)
        assert writer.apply.transition(paying, fresh, OrderStatus.PAID, utcnow(), []) == 2
        writer.commit()
        cancelling = reader.apply.start_job(cancel.id)
        assert reader.apply.transition(cancelling, stale, OrderStatus.CANCELLED, utcnow(), []) is None
        reader.commit()  # commits nothing but the attempt: the losing write left no trace
    assert api.order(str(order_id))["status"] == "paid"
    # The losing write wrote nothing else either: no event, no result for its job.
    events = api.get(f"/api/v1/orders/{order_id}/events").json()["data"]
    assert [e["command"] for e in events] == ["create", "pay"]
    assert api.get(f"/api/v1/jobs/{cancel.id}").json()["status"] == "queued"


def test_worker_rereads_and_retries_after_losing_the_race(api, orders_uow, order_cache, finished, monkeypatch):
    """Between the worker's read and its write another job commits: the worker retries on the new version."""
    order_id = uuid.UUID(api.create_order())
    pay = accept.submit_command(orders_uow, api.tenant_id, order_id, Command.PAY, no_publish)
    cancel = accept.submit_command(orders_uow, api.tenant_id, order_id, Command.CANCEL, no_publish)

    real_read = ApplySql.live_order
    interleaved = []

    def read_then_let_the_other_job_win(self, tenant_id, oid):
        order = real_read(self, tenant_id, oid)
        if not interleaved:
            interleaved.append("cancel runs now")  # only once, and not inside itself
            other = OrdersUnitOfWork(orders_uow._session_factory)
            interleaved.append(apply.apply_job(other, cancel.id, order_cache.invalidate, finished))
        return order

    monkeypatch.setattr(ApplySql, "live_order", read_then_let_the_other_job_win)
    outcome = apply.apply_job(orders_uow, pay.id, order_cache.invalidate, finished, sleep=lambda _: None)
    monkeypatch.undo()

    assert interleaved[1].result == apply.Result.SUCCEEDED  # cancel won the race
    # pay re-read the order (now cancelled) and failed on the state machine,
    # instead of overwriting the cancellation.
    assert (outcome.result, outcome.error_code) == ("failed", "invalid_transition")
    order = api.order(str(order_id))
    assert (order["status"], order["version"]) == ("cancelled", 2)
    events = api.get(f"/api/v1/orders/{order_id}/events").json()["data"]
    assert [e["command"] for e in events] == ["create", "cancel"]


def test_redelivered_job_is_applied_once(api, orders_uow, order_cache, finished):
    order_id = uuid.UUID(api.create_order())
    pay = accept.submit_command(orders_uow, api.tenant_id, order_id, Command.PAY, no_publish)
    first = apply.apply_job(orders_uow, pay.id, order_cache.invalidate, finished)
    again = apply.apply_job(orders_uow, pay.id, order_cache.invalidate, finished)
    assert (first.result, again.result) == ("succeeded", "skipped")
    assert api.order(str(order_id))["version"] == 2
    job = api.get(f"/api/v1/jobs/{pay.id}").json()
    assert (job["status"], job["attempts"]) == ("succeeded", 1)
