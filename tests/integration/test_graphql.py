"""POST /api/v1/graphql against the running API and worker: the same orders,
jobs and rules as REST, one tenant at a time, within its limits."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.client import Api

ORDER_FIELDS = "id status version currency totalCents customerRef items { sku quantity unitPriceCents }"
JOB_FIELDS = "id command orderId status attempts error { code detail } createdAt finishedAt"


def gql(api: Api, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    response = api.post("/api/v1/graphql", json={"query": query, "variables": variables or {}}, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def data(api: Api, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    answer = gql(api, query, variables, **kwargs)
    assert "errors" not in answer, answer
    return answer["data"]


def error_code(answer: dict[str, Any]) -> str:
    (error,) = answer["errors"]
    return error["extensions"]["code"]


def test_an_order_with_its_events_and_jobs_matches_rest(api):
    order_id = api.create_order()
    api.apply(order_id, "pay")
    found = data(api, f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} events {{ version command fromStatus "
                      f"toStatus jobId }} jobs {{ {JOB_FIELDS} }} }} }}", {"id": order_id})["order"]  # fmt: skip
    rest = api.order(order_id)
    assert (found["id"], found["status"], found["version"]) == (rest["id"], "PAID", rest["version"])
    assert found["totalCents"] == rest["total_cents"] == 2500
    assert found["items"] == [{"sku": "A-1", "quantity": 2, "unitPriceCents": 1250}]
    events = api.get(f"/api/v1/orders/{order_id}/events").json()["data"]
    assert [(e["version"], e["command"].lower(), e["jobId"]) for e in found["events"]] == [
        (e["version"], e["command"], e["job_id"]) for e in events
    ]
    assert [(j["command"], j["status"]) for j in found["jobs"]] == [("CREATE", "SUCCEEDED"), ("PAY", "SUCCEEDED")]


def test_another_tenants_order_and_job_are_simply_absent(api, new_api):
    other = new_api()
    job = other.wait(other.submit_create())
    answer = data(api, "query($o: ID!, $j: ID!) { order(id: $o) { id } job(id: $j) { id } }",
                  {"o": job["order_id"], "j": job["id"]})  # fmt: skip
    assert answer == {"order": None, "job": None}
    assert data(api, '{ order(id: "not-a-uuid") { id } }') == {"order": None}
    assert data(api, "{ orders(first: 5) { edges { node { id } } } }")["orders"]["edges"] == []


def test_cursor_pages_walk_every_order_once_in_rest_order(api):
    ids = [api.create_order() for _ in range(5)]
    api.apply(ids[1], "pay")
    seen: list[str] = []
    after = None
    for _ in range(10):  # bounded: 3 pages expected
        page = data(api, "query($after: String) { orders(first: 2, after: $after) { edges { cursor node { id } } "
                         "pageInfo { hasNextPage endCursor } } }", {"after": after})["orders"]  # fmt: skip
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    rest = [o["id"] for o in api.get("/api/v1/orders?sort=-created_at&limit=20").json()["data"]]
    assert seen == rest and sorted(seen) == sorted(ids)
    paid = data(api, "{ orders(filter: {status: PAID}) { edges { node { id } } } }")["orders"]["edges"]
    assert [edge["node"]["id"] for edge in paid] == [ids[1]]
    oldest = data(api, "{ orders(first: 1, sort: CREATED_AT_ASC) { edges { node { id } } } }")["orders"]["edges"]
    assert oldest[0]["node"]["id"] == ids[0]
    wrong = gql(api, "query($a: String) { orders(after: $a, sort: CREATED_AT_ASC) { edges { cursor } } }",
                {"a": after})  # fmt: skip
    assert error_code(wrong) == "validation-error"  # a cursor of another sort order
    assert error_code(gql(api, '{ orders(after: "bm90IGEgY3Vyc29y") { edges { cursor } } }')) == "validation-error"


MUTATION_CREATE = f"""mutation($input: CreateOrderInput!, $key: String) {{
  createOrder(input: $input, idempotencyKey: $key) {{ {JOB_FIELDS} }} }}"""
MUTATION_SUBMIT = f"""mutation($order: ID!, $command: OrderCommand!, $ifMatch: Int) {{
  submitCommand(orderId: $order, command: $command, ifMatch: $ifMatch) {{ {JOB_FIELDS} }} }}"""
GRAPHQL_ORDER = {"currency": "USD", "items": [{"sku": "A-1", "quantity": 2, "unitPriceCents": 1250}]}


def test_mutations_accept_jobs_that_the_worker_applies(api):
    job = data(api, MUTATION_CREATE, {"input": GRAPHQL_ORDER})["createOrder"]
    assert (job["command"], job["status"]) == ("CREATE", "QUEUED")
    assert api.wait(job)["status"] == "succeeded"
    paid = data(api, MUTATION_SUBMIT, {"order": job["orderId"], "command": "PAY", "ifMatch": 1})["submitCommand"]
    assert api.wait(paid)["status"] == "succeeded"
    stale = gql(api, MUTATION_SUBMIT, {"order": job["orderId"], "command": "SHIP", "ifMatch": 1})
    assert error_code(stale) == "precondition-failed" and stale["errors"][0]["extensions"]["status"] == 412
    assert stale["data"] is None
    missing = gql(api, MUTATION_SUBMIT, {"order": str(uuid.uuid4()), "command": "PAY"})
    assert error_code(missing) == "not-found"
    invalid = gql(api, MUTATION_CREATE, {"input": {**GRAPHQL_ORDER, "currency": "XXX1"}})
    assert error_code(invalid) == "validation-error"
    assert invalid["errors"][0]["extensions"]["errors"][0]["field"] == "currency"
    huge = {"sku": "A-1", "quantity": 1, "unitPriceCents": 10_000_000_000}  # beyond GraphQL's 32-bit Int
    assert (
        api.wait(data(api, MUTATION_CREATE, {"input": {**GRAPHQL_ORDER, "items": [huge]}})["createOrder"])["status"]
        == "succeeded"
    )


def test_an_idempotency_key_names_one_mutation(api):
    first = data(api, MUTATION_CREATE, {"input": GRAPHQL_ORDER, "key": "gql-1"})["createOrder"]
    again = data(api, MUTATION_CREATE, {"input": GRAPHQL_ORDER, "key": "gql-1"})["createOrder"]
    assert again["id"] == first["id"]
    other = gql(api, MUTATION_CREATE, {"input": {**GRAPHQL_ORDER, "currency": "EUR"}, "key": "gql-1"})
    assert error_code(other) == "idempotency-key-reused"
    by_header = data(api, MUTATION_CREATE, {"input": GRAPHQL_ORDER}, headers={"Idempotency-Key": "gql-2"})
    replay = data(api, MUTATION_CREATE, {"input": GRAPHQL_ORDER}, headers={"Idempotency-Key": "gql-2"})
    assert by_header["createOrder"]["id"] == replay["createOrder"]["id"] != first["id"]
    both = "mutation($i: CreateOrderInput!) { a: createOrder(input: $i) { id } b: createOrder(input: $i) { id } }"
    two = gql(api, both, {"i": GRAPHQL_ORDER}, headers={"Idempotency-Key": "gql-3"})
    malformed = api.post("/api/v1/graphql", json={"query": "{ __typename }"}, headers={"Idempotency-Key": "two words"})
    assert (malformed.status_code, malformed.json()["type"]) == (
        400,
        "https://orderly.dev/problems/invalid-idempotency-key",
    )
    assert [e["extensions"]["code"] for e in two["errors"]] == ["validation-error"]


def test_cancel_job_answers_like_rest(api):
    job = api.wait(data(api, MUTATION_CREATE, {"input": GRAPHQL_ORDER})["createOrder"])
    answer = gql(api, "mutation($j: ID!) { cancelJob(jobId: $j) { id status } }", {"j": job["id"]})
    (error,) = answer["errors"]
    assert error["extensions"] == {"code": "job-not-cancellable", "status": 409, "job_status": "succeeded"}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        # Aliases, counted where a fragment is spread (10 x 3 = 30 > 20).
        ("query { ...f ...f ...f } fragment f on Query { "
         + " ".join(f"a{i}: job(id: \"{uuid.uuid4()}\") {{ id }}" for i in range(10)) + " }", "query-too-complex"),
        # Cost: three pages of 100 orders, with events and jobs (about 11,500 each).
        ("{ " + " ".join(f"p{i}: orders(first: 100) {{ edges {{ node {{ id events {{ version command toStatus jobId }} "
                         f"jobs {{ id command status attempts error {{ code detail }} }} }} }} }}" for i in range(3))
         + " }", "query-too-complex"),
        ("{ orders(first: 101) { edges { cursor } } }", "validation-error"),
        ("{ " + "order(id: \"x\") { id } " * 700 + "}", "invalid-query"),  # over 2,000 tokens
        ("{ __schema { types { name } } }", "invalid-query"),  # introspection is off by default
        ("{ order(id: 1) { nope } }", "invalid-query"),
        ("{ order(id: ", "invalid-query"),
    ],
    ids=["aliases-in-fragments", "cost", "page-size", "tokens", "introspection", "unknown-field", "syntax"],
)  # fmt: skip
def test_a_document_beyond_a_limit_gets_a_graphql_error_with_its_code(api, query, code):
    answer = gql(api, query)
    assert {e["extensions"]["code"] for e in answer["errors"]} == {code}, answer
    assert answer.get("data") is None or all(v is None for v in answer["data"].values())


def test_the_endpoint_refuses_what_is_not_one_json_operation(api, base_url):
    batched = api.post("/api/v1/graphql", json=[{"query": '{ job(id: "1") { id } }'}] * 2)
    assert (batched.status_code, batched.json()["type"]) == (400, "https://orderly.dev/problems/batched-operations")
    assert batched.headers["Content-Type"] == "application/problem+json"
    form = api.post("/api/v1/graphql", data={"query": '{ job(id: "1") { id } }'})
    assert form.status_code == 415
    big = api.post("/api/v1/graphql", json={"query": '{ job(id: "1") { id } }', "pad": "x" * 70_000})
    assert big.status_code == 413 and big.headers["Content-Type"] == "application/problem+json"
    assert api.get("/api/v1/graphql", params={"query": '{ job(id: "1") { id } }'}).status_code == 405
    for body in ({"query": " "}, {"query": '{ job(id: "1") { id } }', "operationName": "Nowhere"}):
        refused = api.post("/api/v1/graphql", json=body)
        assert (refused.status_code, refused.headers["Content-Type"]) == (400, "application/problem+json"), body
        assert refused.json()["type"] == "https://orderly.dev/problems/invalid-graphql-request"
    anonymous = Api(base_url, "", uuid.uuid4())
    anonymous.http.headers.pop("Authorization")
    refused = anonymous.post("/api/v1/graphql", json={"query": '{ job(id: "1") { id } }'})
    assert (refused.status_code, refused.headers["Content-Type"]) == (401, "application/problem+json")


def test_odd_unicode_and_hostile_strings_are_plain_errors(api):
    for text in ("\u0000", "\ud800", "\u202egnp.exe", "\U0001d518\U0001d52b", "' OR 1=1 --"):
        answer = gql(api, "query($id: ID!) { order(id: $id) { id } job(id: $id) { id } }", {"id": text})
        assert answer == {"data": {"order": None, "job": None}}
        bad = gql(api, MUTATION_CREATE, {"input": {**GRAPHQL_ORDER, "items": [{**GRAPHQL_ORDER["items"][0],
                                                                                  "sku": text}]}})  # fmt: skip
        assert error_code(bad) == "validation-error"
