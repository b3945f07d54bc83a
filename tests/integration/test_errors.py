"""Bad input gets a problem+json answer with the right status, never a 500,
and nothing is accepted on the way."""

from __future__ import annotations

import json

import pytest

from tests.integration.client import ORDER

ORDERS = "/api/v1/orders"


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://") and body["title"] and body["detail"]
    return body


def raw_post(api, path, data, content_type="application/json"):
    return api.post(path, data=data, headers={"Content-Type": content_type})


@pytest.mark.parametrize(
    "data",
    [
        b'{"currency": "USD",',
        b"not json",
        b'{"currency": "USD", "items": [{"sku": "A", "quantity": NaN, "unit_price_cents": 1}]}',
        b'{"currency": "USD", "items": [{"sku": "A", "quantity": Infinity, "unit_price_cents": 1}]}',
        b'{"currency": "\xff\xfe"}',
        b"[" * 10_000 + b"]" * 10_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    ],
    ids=["truncated", "text", "nan", "infinity", "invalid-utf8", "deep-array", "deep-object"],
)
def test_malformed_json_is_400(api, data):
    assert_problem(raw_post(api, ORDERS, data), 400)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "currency"),
        ([], "(body)"),
        ({**ORDER, "currency": 840}, "currency"),
        ({**ORDER, "currency": "ABC"}, "currency"),
        ({**ORDER, "items": "many"}, "items"),
        ({**ORDER, "items": [{"sku": "A", "quantity": "2", "unit_price_cents": 1}]}, "items.0.quantity"),
        ({**ORDER, "items": [{"sku": "A", "quantity": 2**70, "unit_price_cents": 1}]}, "items.0.quantity"),
        ({**ORDER, "items": [{"sku": "A", "quantity": 1, "unit_price_cents": -5}]}, "items.0.unit_price_cents"),
        ({**ORDER, "items": [{"sku": "A", "quantity": 1}] * 10_000}, "items"),
        ({**ORDER, "status": "delivered"}, "status"),
        ({**ORDER, "version": 9}, "version"),
        ({**ORDER, "tenant": "someone"}, "tenant"),
        ({**ORDER, "id": "00000000-0000-0000-0000-000000000000"}, "id"),
    ],
)
def test_invalid_orders_are_422_and_name_the_field(api, body, field):
    problem = assert_problem(raw_post(api, ORDERS, json.dumps(body)), 422)
    assert field in [error["field"] for error in problem["errors"]]
    assert api.get("/api/v1/jobs").json()["total"] == 0


def test_unknown_or_missing_command_is_422(api):
    order_id = api.create_order()
    path = f"{ORDERS}/{order_id}/commands"
    for body in ({"command": "refund"}, {"command": "create"}, {}, {"command": "pay", "force": True}):
        assert_problem(raw_post(api, path, json.dumps(body)), 422)
    assert api.get("/api/v1/jobs").json()["total"] == 1  # only the create


def test_non_json_content_type_is_415(api):
    assert_problem(raw_post(api, ORDERS, json.dumps(ORDER), "text/plain"), 415)
    assert_problem(raw_post(api, ORDERS, "currency=USD", "application/x-www-form-urlencoded"), 415)


def test_body_over_one_mebibyte_is_413(api):
    big = json.dumps({**ORDER, "customer_ref": "x" * (1024 * 1024)})
    assert_problem(raw_post(api, ORDERS, big), 413)


def test_unknown_routes_and_ids_are_404_and_wrong_methods_405(api):
    assert_problem(api.get("/api/v1/nothing-here"), 404)
    assert_problem(api.get(f"{ORDERS}/not-a-uuid"), 404)
    assert_problem(api.get(f"{ORDERS}/00000000-0000-0000-0000-000000000000"), 404)
    assert_problem(api.get("/api/v1/jobs/00000000-0000-0000-0000-000000000000"), 404)
    response = api.request("PUT", ORDERS)
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_answers_carry_security_headers(api):
    response = api.get(ORDERS)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("text", ["nul\u0000inside", "lone \udbad surrogate"], ids=["nul", "surrogate"])
def test_text_the_database_cannot_store_is_422(api, text):
    body = json.dumps({**ORDER, "customer_ref": text})  # ensure_ascii: sent as \u escapes
    problem = assert_problem(raw_post(api, ORDERS, body), 422)
    assert "customer_ref" in [error["field"] for error in problem["errors"]]
    assert api.get("/api/v1/jobs").json()["total"] == 0
