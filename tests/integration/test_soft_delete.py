"""DELETE is a soft delete applied by the worker."""

from __future__ import annotations


def test_deleted_order_disappears_but_its_history_stays_in_the_database(api, session_factory):
    order_id = api.create_order()
    keep = api.create_order()
    response = api.delete(f"/api/v1/orders/{order_id}")
    assert response.status_code == 202
    assert response.json()["command"] == "delete"
    assert api.wait(response.json())["status"] == "succeeded"

    assert api.get(f"/api/v1/orders/{order_id}").status_code == 404
    assert api.get(f"/api/v1/orders/{order_id}/events").status_code == 404
    assert api.post(f"/api/v1/orders/{order_id}/commands", json={"command": "pay"}).status_code == 404
    assert api.delete(f"/api/v1/orders/{order_id}").status_code == 404
    listed = api.get("/api/v1/orders").json()
    assert [o["id"] for o in listed["data"]] == [keep]
    assert listed["total"] == 1

    from sqlalchemy import text

    with session_factory() as session:
        row = session.execute(
            text("SELECT status, version, deleted_at FROM orders WHERE id = :id"), {"id": order_id}
        ).one()
    assert row.status == "deleted"
    assert row.version == 2
    assert row.deleted_at is not None


def test_command_queued_before_the_delete_fails_not_found(api, orders_uow, order_cache, finished):
    import uuid

    from models import Command
    from orders import accept, apply

    order_id = uuid.UUID(api.create_order())
    pay = accept.submit_command(orders_uow, api.tenant_id, order_id, Command.PAY, lambda _: None)
    assert api.wait(api.delete(f"/api/v1/orders/{order_id}").json())["status"] == "succeeded"

    outcome = apply.apply_job(orders_uow, pay.id, order_cache.invalidate_many, finished)
    assert (outcome.result, outcome.error_code) == ("failed", "not_found")
