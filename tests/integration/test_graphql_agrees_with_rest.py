"""A stateful test: whatever mix of REST and GraphQL commands a client
sends, the two views of each of its orders agree after every step: status,
version, amounts and items, events, and absence once deleted."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.integration.client import ORDER, Api
from tests.integration.test_graphql import GRAPHQL_ORDER, MUTATION_CREATE, MUTATION_SUBMIT, data, error_code, gql

VIEW = """query($id: ID!) { order(id: $id) { id status version currency totalCents customerRef
  items { sku quantity unitPriceCents } events { version command fromStatus toStatus jobId } } }"""


def graphql_as_rest(order: dict[str, Any]) -> dict[str, Any]:
    """GraphQL's spelling (camelCase, enum names) turned into REST's."""
    return {
        "id": order["id"], "status": order["status"].lower(), "version": order["version"],
        "currency": order["currency"], "total_cents": order["totalCents"], "customer_ref": order["customerRef"],
        "items": [{"sku": i["sku"], "quantity": i["quantity"], "unit_price_cents": i["unitPriceCents"]}
                  for i in order["items"]],
        "events": [{"version": e["version"], "command": e["command"].lower(),
                    "from_status": e["fromStatus"].lower() if e["fromStatus"] else None,
                    "to_status": e["toStatus"].lower(), "job_id": e["jobId"]} for e in order["events"]],
    }  # fmt: skip


class RestAndGraphqlAgree(RuleBasedStateMachine):
    def __init__(self, api: Api) -> None:
        super().__init__()
        self.api = api
        self.orders: list[str] = []

    @initialize()
    def first_order(self) -> None:
        self.orders.append(self.api.create_order())

    @rule(via_graphql=st.booleans())
    def create(self, via_graphql: bool) -> None:
        if via_graphql:
            job = self.api.wait(data(self.api, MUTATION_CREATE, {"input": GRAPHQL_ORDER})["createOrder"])
        else:
            job = self.api.wait(self.api.submit_create(ORDER))
        self.orders.append(job["order_id"])

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(min_value=0), command=st.sampled_from(["pay", "ship", "deliver", "cancel", "delete"]),
          via_graphql=st.booleans())  # fmt: skip
    def command(self, pick: int, command: str, via_graphql: bool) -> None:
        order_id = self.orders[pick % len(self.orders)]
        if via_graphql:
            answer = gql(self.api, MUTATION_SUBMIT, {"order": order_id, "command": command.upper()})
            if answer.get("errors"):  # a deleted order: refused at once, as REST refuses it
                assert error_code(answer) == "not-found", answer
            else:
                self.api.wait(answer["data"]["submitCommand"])
            return
        if command == "delete":
            response = self.api.delete(f"/api/v1/orders/{order_id}")
        else:
            response = self.api.post(f"/api/v1/orders/{order_id}/commands", json={"command": command})
        if response.status_code == 202:
            self.api.wait(response.json())
        else:
            assert response.status_code == 404, response.text

    @invariant()
    def both_views_agree(self) -> None:
        for order_id in self.orders:
            rest = self.api.get(f"/api/v1/orders/{order_id}")
            graphql = data(self.api, VIEW, {"id": order_id})["order"]
            if rest.status_code == 404:
                assert graphql is None
                continue
            events = self.api.get(f"/api/v1/orders/{order_id}/events").json()["data"]
            fields = ("id", "status", "version", "currency", "total_cents", "customer_ref", "items")
            expected = {**{k: rest.json()[k] for k in fields},
                        "events": [{k: e[k] for k in ("version", "command", "from_status", "to_status", "job_id")}
                                   for e in events]}  # fmt: skip
            assert graphql_as_rest(graphql) == expected


def test_rest_and_graphql_views_of_an_order_always_agree(api):
    run_state_machine_as_test(
        lambda: RestAndGraphqlAgree(api),
        settings=settings(max_examples=4, stateful_step_count=8, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )  # fmt: skip
