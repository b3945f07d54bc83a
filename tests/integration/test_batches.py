"""Several jobs in one message, against the real worker: applied in one
transaction, in the order the message lists them, each failing alone."""

from __future__ import annotations

import uuid

from infra.messaging import JobMessage
from models import Command
from orders import accept
from orders.apply import INTERNAL_ERROR_DETAIL


def no_publish(_message):
    """The test publishes the jobs itself, all in one message."""


def test_two_commands_on_one_order_in_one_message_apply_in_order(api, orders_uow, publish):
    order_id = uuid.UUID(api.create_order())
    pay = accept.submit_command(orders_uow, api.tenant_id, order_id, Command.PAY, no_publish)
    ship = accept.submit_command(orders_uow, api.tenant_id, order_id, Command.SHIP, no_publish)
    assert publish.publish([JobMessage(pay.id, "pay"), JobMessage(ship.id, "ship")]) == []
    assert api.wait({"id": str(ship.id)})["status"] == "succeeded"
    assert api.get(f"/api/v1/jobs/{pay.id}").json()["status"] == "succeeded"
    order = api.order(str(order_id))
    assert (order["status"], order["version"]) == ("shipped", 3)
    events = api.get(f"/api/v1/orders/{order_id}/events").json()["data"]
    assert [(e["version"], e["command"]) for e in events] == [(1, "create"), (2, "pay"), (3, "ship")]


def test_a_poisoned_job_fails_alone_and_the_rest_of_its_message_is_applied(api, orders_uow, publish):
    good = [accept.submit_create(orders_uow, api.tenant_id, api_order(), no_publish) for _ in range(3)]
    poison = accept.submit_create(orders_uow, api.tenant_id, {"currency": "USD"}, no_publish)  # no items
    invalid = accept.submit_command(orders_uow, api.tenant_id, uuid.UUID(api.create_order()), Command.SHIP, no_publish)
    jobs = [good[0], poison, good[1], invalid, good[2]]
    assert publish.publish([JobMessage(job.id, str(job.command)) for job in jobs]) == []
    finished = {str(job.id): api.wait({"id": str(job.id)}) for job in jobs}
    assert finished[str(poison.id)]["error"] == {"code": "internal_error", "detail": INTERNAL_ERROR_DETAIL}
    assert finished[str(invalid.id)]["error"]["code"] == "invalid_transition"
    assert [finished[str(job.id)]["status"] for job in good] == ["succeeded"] * 3
    assert all(api.get(f"/api/v1/orders/{job.order_id}").status_code == 200 for job in good)


def api_order() -> dict:
    return {"currency": "EUR", "items": [{"sku": "B-2", "quantity": 1, "unit_price_cents": 100}]}
