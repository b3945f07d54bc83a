"""The in-memory stores (tests/unit/fakes.py) keep the SQL stores' shape, so a
use-case test cannot pass against a method the real unit of work lacks."""

from __future__ import annotations

import inspect

import pytest

from orders.accept_sql import AcceptSql
from orders.apply_sql import ApplySql
from orders.cancel_sql import CancelSql
from tests.unit.fakes import FakeStore


def public_methods(cls: type) -> dict[str, list[str]]:
    return {
        name: list(inspect.signature(member).parameters)
        for name, member in vars(cls).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


@pytest.mark.parametrize("store", [AcceptSql, ApplySql, CancelSql])
def test_the_fake_has_every_method_of_the_sql_store_with_its_parameters(store):
    fake = public_methods(FakeStore)
    for name, parameters in public_methods(store).items():
        assert fake.get(name) == parameters, f"{store.__name__}.{name}{parameters} vs the fake's {fake.get(name)}"
