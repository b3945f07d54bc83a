"""Hypothesis drives the API with random command sequences and compares every
answer with a pure-Python model of the order state machine, after each drain.

The model keeps its own transition table on purpose: it must not share the
code it checks (models/status.py).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from tests.integration.client import Api

MODEL = {
    ("pending", "pay"): "paid",
    ("pending", "cancel"): "cancelled",
    ("paid", "ship"): "shipped",
    ("paid", "cancel"): "cancelled",
    ("shipped", "deliver"): "delivered",
}
COMMANDS = ["pay", "ship", "deliver", "cancel", "delete"]


def _next(status: str, command: str) -> str | None:
    if command == "delete":  # a soft delete, from any live status
        return "deleted"
    return MODEL.get((status, command))


class OrdersAgainstModel(RuleBasedStateMachine):
    api: Api  # set by the test, one tenant per run

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, str] = {}
        self.versions: dict[str, int] = {}

    @rule(target=orders)
    def create(self) -> str:
        job = self.api.wait(self.api.submit_create())
        assert job["status"] == "succeeded", job
        self.model[job["order_id"]] = "pending"
        self.versions[job["order_id"]] = 1
        return job["order_id"]

    @rule(order_id=orders, command=st.sampled_from(COMMANDS), conditional=st.booleans())
    def command(self, order_id: str, command: str, conditional: bool) -> None:
        status = self.model[order_id]
        headers = {"If-Match": f'"{self.versions[order_id]}"'} if conditional else {}
        if command == "delete":
            response = self.api.delete(f"/api/v1/orders/{order_id}", headers=headers)
        else:
            response = self.api.post(f"/api/v1/orders/{order_id}/commands", json={"command": command}, headers=headers)
        if status == "deleted":
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 202, response.text
        job = self.api.wait(response.json())
        expected = _next(status, command)
        if expected is None:
            assert job["status"] == "failed" and job["error"]["code"] == "invalid_transition", job
        else:
            assert job["status"] == "succeeded", job
            self.model[order_id] = expected
            self.versions[order_id] += 1

    @invariant()
    def the_api_agrees_with_the_model(self) -> None:
        for order_id, status in self.model.items():
            response = self.api.get(f"/api/v1/orders/{order_id}")
            if status == "deleted":
                assert response.status_code == 404
            else:
                order: dict[str, Any] = response.json()
                assert (order["status"], order["version"]) == (status, self.versions[order_id])


def test_the_api_never_disagrees_with_the_model(new_api):
    OrdersAgainstModel.api = new_api()
    run = OrdersAgainstModel.TestCase
    run.settings = settings(
        max_examples=30,
        stateful_step_count=25,
        deadline=None,
        derandomize=True,  # the same sequences every run: CI stays reproducible
        suppress_health_check=[HealthCheck.too_slow],
    )
    run().runTest()
