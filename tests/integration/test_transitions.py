"""Every command from every reachable status, applied by the real worker."""

from __future__ import annotations

import pytest

# The commands that lead from a new order to each status.
PATH_TO = {
    "pending": [],
    "paid": ["pay"],
    "shipped": ["pay", "ship"],
    "delivered": ["pay", "ship", "deliver"],
    "cancelled": ["cancel"],
}
ALLOWED = {
    ("pending", "pay"): "paid",
    ("pending", "cancel"): "cancelled",
    ("paid", "ship"): "shipped",
    ("paid", "cancel"): "cancelled",
    ("shipped", "deliver"): "delivered",
}
COMMANDS = ("pay", "ship", "deliver", "cancel")


def order_in(api, status):
    order_id = api.create_order()
    for command in PATH_TO[status]:
        assert api.apply(order_id, command)["status"] == "succeeded"
    return order_id


@pytest.mark.parametrize("status", list(PATH_TO))
def test_every_command_from_every_status(api, status):
    for command in COMMANDS:
        order_id = order_in(api, status)
        before = api.order(order_id)
        job = api.apply(order_id, command)
        after = api.order(order_id)
        if (status, command) in ALLOWED:
            assert job["status"] == "succeeded", job
            assert after["status"] == ALLOWED[(status, command)]
            assert after["version"] == before["version"] + 1
        else:
            assert job["status"] == "failed", (status, command, job)
            assert job["error"]["code"] == "invalid_transition"
            assert command in job["error"]["detail"] and status in job["error"]["detail"]
            assert after == before  # nothing changed


@pytest.mark.parametrize("status", list(PATH_TO))
def test_delete_works_from_every_status(api, status):
    order_id = order_in(api, status)
    response = api.delete(f"/api/v1/orders/{order_id}")
    assert response.status_code == 202
    assert api.wait(response.json())["status"] == "succeeded"
    assert api.get(f"/api/v1/orders/{order_id}").status_code == 404
