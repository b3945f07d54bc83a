"""Many commands at once: the optimistic lock keeps every order's history valid."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.invariants import check_jobs, check_orders

pytestmark = pytest.mark.slow
COMMANDS = ("pay", "ship", "deliver", "cancel")


def send_all(api, targets, threads=8):
    """POST one command per (order id, command) from several threads; return the jobs."""

    def send(target):
        order_id, command = target
        return api.submit_command(order_id, command)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(send, targets))


def wait_all(api, jobs):
    return [api.wait(job, timeout=120) for job in jobs]


def test_fifty_concurrent_commands_on_one_order(api, session_factory):
    order_id = api.create_order()
    rng = random.Random(50)
    jobs = wait_all(api, send_all(api, [(order_id, rng.choice(COMMANDS)) for _ in range(50)]))

    succeeded = [j for j in jobs if j["status"] == "succeeded"]
    assert 1 <= len(succeeded) <= 3  # a path from pending has at most 3 steps
    assert {j["error"]["code"] for j in jobs if j["status"] == "failed"} <= {"invalid_transition"}
    with session_factory() as session:
        assert check_orders(session, [uuid.UUID(order_id)]) == []
        assert check_jobs(session, [uuid.UUID(j["id"]) for j in jobs]) == []
    assert api.order(order_id)["version"] == 1 + len(succeeded)


def test_thousand_commands_over_a_hundred_orders(api, session_factory):
    with ThreadPoolExecutor(max_workers=8) as pool:
        creates = list(pool.map(lambda _: api.submit_create(), range(100)))
    created = wait_all(api, creates)
    assert {j["status"] for j in created} == {"succeeded"}
    order_ids = [j["order_id"] for j in created]

    rng = random.Random(1000)
    targets = [(rng.choice(order_ids), rng.choice(COMMANDS)) for _ in range(1000)]
    jobs = wait_all(api, send_all(api, targets, threads=16))

    assert all(j["status"] in ("succeeded", "failed") for j in jobs)
    with session_factory() as session:
        assert check_orders(session, [uuid.UUID(o) for o in order_ids]) == []
        assert check_jobs(session, [uuid.UUID(j["id"]) for j in created + jobs]) == []
    # What the API shows agrees with the history.
    for order_id in rng.sample(order_ids, 10):
        events = api.get(f"/api/v1/orders/{order_id}/events").json()["data"]
        order = api.order(order_id)
        assert (order["version"], order["status"]) == (len(events), events[-1]["to_status"])
