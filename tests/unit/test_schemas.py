"""Validation of request bodies."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from web.schemas import MAX_ITEMS, MAX_QUANTITY, CreateOrder, OrderCommand

VALID = {"currency": "USD", "items": [{"sku": "A-1", "quantity": 2, "unit_price_cents": 1250}], "customer_ref": "c-42"}


def with_item(**changes):
    return {**VALID, "items": [{**VALID["items"][0], **changes}]}


def test_valid_order_is_accepted():
    order = CreateOrder.model_validate(VALID)
    assert order.items[0].quantity == 2
    assert order.customer_ref == "c-42"


def test_customer_ref_is_optional():
    body = {k: v for k, v in VALID.items() if k != "customer_ref"}
    assert CreateOrder.model_validate(body).customer_ref is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**VALID, "currency": "usd"}, "currency"),
        ({**VALID, "currency": "XYZ"}, "currency"),
        ({**VALID, "items": []}, "items"),
        ({**VALID, "items": VALID["items"] * (MAX_ITEMS + 1)}, "items"),
        (with_item(quantity=0), "items.0.quantity"),
        (with_item(quantity=MAX_QUANTITY + 1), "items.0.quantity"),
        (with_item(quantity="2"), "items.0.quantity"),
        (with_item(quantity=2.5), "items.0.quantity"),
        (with_item(quantity=True), "items.0.quantity"),
        (with_item(unit_price_cents=-1), "items.0.unit_price_cents"),
        (with_item(sku=""), "items.0.sku"),
        ({"items": VALID["items"]}, "currency"),
        ({**VALID, "status": "paid"}, "status"),
        ({**VALID, "version": 7}, "version"),
        ({**VALID, "tenant": "other"}, "tenant"),
    ],
)
def test_invalid_order_names_the_field(body, field):
    with pytest.raises(ValidationError) as raised:
        CreateOrder.model_validate(body)
    fields = {".".join(str(p) for p in error["loc"]) for error in raised.value.errors()}
    assert field in fields


@pytest.mark.parametrize("command", ["pay", "ship", "deliver", "cancel"])
def test_known_commands_are_accepted(command):
    assert OrderCommand.model_validate({"command": command}).command == command


@pytest.mark.parametrize(
    "body", [{"command": "create"}, {"command": "delete"}, {"command": "refund"}, {}, {"command": 1}]
)
def test_other_commands_are_refused(body):
    with pytest.raises(ValidationError):
        OrderCommand.model_validate(body)
