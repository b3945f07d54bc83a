"""The compare-and-set on orders.version, forced deterministically."""

from __future__ import annotations

import uuid

from infra.unit_of_work import UnitOfWork
from models import Command, OrderStatus
from orders import accept as orders
from orders import apply as processing
from orders import apply_sql as applying
from orders import repository as repo


def no_publish(_job_id):
    """The tests apply the jobs themselves."""


def test_a_stale_write_matches_no_row(api, session_factory):
    order_id = uuid.UUID(api.create_order())
    uow = lambda: UnitOfWork(session_factory)  # noqa: E731
    pay = orders.submit_command(uow(), api.tenant_id, order_id, Command.PAY, no_publish)
    cancel = orders.submit_command(uow(), api.tenant_id, order_id, Command.CANCEL, no_publish)
    with session_factory() as reader, session_factory() as writer:
        stale = repo.get_live_order(reader, api.tenant_id, order_id)
        fresh = repo.get_live_order(writer, api.tenant_id, order_id)
        assert applying.apply_transition(writer, applying.start_job(writer, pay.id), fresh, OrderStatus.PAID) == 2
        writer.commit()
        cancelling = applying.start_job(reader, cancel.id)
        assert applying.apply_transition(reader, cancelling, stale, OrderStatus.CANCELLED) is None
        reader.commit()  # commits nothing but the attempt: the losing write left no trace
    assert api.order(str(order_id))["status"] == "paid"
    # The losing write wrote nothing else either: no event, no result for its job.
    events = api.get(f"/api/v1/orders/{order_id}/events").json()["data"]
    assert [e["command"] for e in events] == ["create", "pay"]
    assert api.get(f"/api/v1/jobs/{cancel.id}").json()["status"] == "queued"


def test_worker_rereads_and_retries_after_losing_the_race(api, session_factory, order_cache, monkeypatch):
    """Between the worker's read and its write another job commits: the worker retries on the new version."""
    order_id = uuid.UUID(api.create_order())
    uow = lambda: UnitOfWork(session_factory)  # noqa: E731
    pay = orders.submit_command(uow(), api.tenant_id, order_id, Command.PAY, no_publish)
    cancel = orders.submit_command(uow(), api.tenant_id, order_id, Command.CANCEL, no_publish)

    real_read = repo.get_live_order
    interleaved = []

    def read_then_let_the_other_job_win(session, tenant_id, oid):
        order = real_read(session, tenant_id, oid)
        if not interleaved:
            interleaved.append("cancel runs now")  # only once, and not inside itself
            interleaved.append(processing.apply_job(session_factory, cancel.id, order_cache.invalidate))
        return order

    monkeypatch.setattr(repo, "get_live_order", read_then_let_the_other_job_win)
    outcome = processing.apply_job(session_factory, pay.id, order_cache.invalidate, sleep=lambda _: None)
    monkeypatch.undo()

    assert interleaved[1].status == "succeeded"  # cancel won the race
    # pay re-read the order (now cancelled) and failed on the state machine,
    # instead of overwriting the cancellation.
    assert (outcome.status, outcome.error_code) == ("failed", "invalid_transition")
    order = api.order(str(order_id))
    assert (order["status"], order["version"]) == ("cancelled", 2)
    events = api.get(f"/api/v1/orders/{order_id}/events").json()["data"]
    assert [e["command"] for e in events] == ["create", "cancel"]


def test_redelivered_job_is_applied_once(api, session_factory, order_cache):
    order_id = uuid.UUID(api.create_order())
    pay = orders.submit_command(UnitOfWork(session_factory), api.tenant_id, order_id, Command.PAY, no_publish)
    first = processing.apply_job(session_factory, pay.id, order_cache.invalidate)
    again = processing.apply_job(session_factory, pay.id, order_cache.invalidate)
    assert (first.status, again.status) == ("succeeded", "skipped")
    assert api.order(str(order_id))["version"] == 2
    job = api.get(f"/api/v1/jobs/{pay.id}").json()
    assert (job["status"], job["attempts"]) == ("succeeded", 1)
