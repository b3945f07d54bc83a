"""Every edge of the order state machine, allowed and forbidden."""

from __future__ import annotations

import itertools

import pytest

from models.status import Command, InvalidTransition, OrderStatus, next_status

S, C = OrderStatus, Command
ALLOWED = {
    (None, C.CREATE): S.PENDING,
    (S.PENDING, C.PAY): S.PAID,
    (S.PAID, C.SHIP): S.SHIPPED,
    (S.SHIPPED, C.DELIVER): S.DELIVERED,
    (S.PENDING, C.CANCEL): S.CANCELLED,
    (S.PAID, C.CANCEL): S.CANCELLED,
    (S.PENDING, C.DELETE): S.DELETED,
    (S.PAID, C.DELETE): S.DELETED,
    (S.SHIPPED, C.DELETE): S.DELETED,
    (S.DELIVERED, C.DELETE): S.DELETED,
    (S.CANCELLED, C.DELETE): S.DELETED,
}
EVERY_PAIR = list(itertools.product([None, *OrderStatus], Command))


@pytest.mark.parametrize(("status", "command"), [pair for pair in EVERY_PAIR if pair in ALLOWED])
def test_allowed_transition_leads_to_its_status(status, command):
    assert next_status(status, command) is ALLOWED[(status, command)]


@pytest.mark.parametrize(("status", "command"), [pair for pair in EVERY_PAIR if pair not in ALLOWED])
def test_forbidden_transition_raises(status, command):
    with pytest.raises(InvalidTransition) as raised:
        next_status(status, command)
    assert raised.value.status == status
    assert raised.value.command == command
    assert str(command) in str(raised.value)


def test_deleted_is_the_only_state_without_a_way_out():
    dead_ends = [s for s in OrderStatus if not any(next_status_or_none(s, c) for c in Command)]
    assert dead_ends == [S.DELETED]


def next_status_or_none(status, command):
    try:
        return next_status(status, command)
    except InvalidTransition:
        return None
