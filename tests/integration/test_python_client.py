"""The Python client (client/orderly_client) against the real stack: typed
results, waiting without polling, and retries that never apply a command twice."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from orderly_client import Client, GaveUp, JobTimeout, ProblemError, RetryPolicy
from sqlalchemy import func, select

from models import Job
from tests.integration import stack
from tests.integration.test_delivery import enough_to_fill_the_queue, paused, queue_limited_to
from tests.integration.test_job_waits import api_with, stuck_job  # noqa: F401 - api_with is a fixture

ITEMS = [{"sku": "A-1", "quantity": 2, "unit_price_cents": 1250}]


class CountingSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str]] = []
        self.answered: list[int] = []  # the status of each request that got an answer

    def request(self, method, url, *args, **kwargs):
        query = "&".join(f"{k}={v}" for k, v in (kwargs.get("params") or {}).items())
        self.sent.append((method, f"{url}?{query}" if query else url))
        response = super().request(method, url, *args, **kwargs)
        self.answered.append(response.status_code)
        return response


@pytest.fixture
def client(api) -> Client:
    return Client(api.base_url, api.key)


def jobs_of(session_factory, tenant_id) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(Job).where(Job.tenant_id == tenant_id))


def test_an_order_through_its_life_with_typed_results(client):
    created = client.wait(client.create_order("EUR", ITEMS, customer_ref="c-1"))
    assert created.succeeded and created.finished_at is not None
    order = client.order(created.order_id)
    assert (order.status, order.version, order.total_cents, order.items[0].sku) == ("pending", 1, 2500, "A-1")
    for command in ("pay", "ship", "deliver"):
        assert client.wait(client.submit(order.id, command)).succeeded
    assert client.order(order.id).status == "delivered"
    page = client.orders(status="delivered")
    assert [o.id for o in page.data] == [order.id] and page.total == 1


def test_wait_holds_one_request_instead_of_polling(api):
    http = CountingSession()
    client = Client(api.base_url, api.key, session=http)
    job = client.wait(client.create_order("EUR", ITEMS))
    assert job.succeeded
    gets = [url for method, url in http.sent if method == "GET"]
    assert len(gets) == 1 and "wait=" in gets[0]


def test_wait_gives_up_at_its_timeout_with_the_job_as_it_stands(api, client, session_factory):
    job_id = stuck_job(session_factory, api)
    with pytest.raises(JobTimeout) as raised:
        client.wait(job_id, timeout=1)
    assert raised.value.job.status == "queued"


def test_a_failed_command_is_a_finished_job_with_its_reason(client):
    order_id = client.wait(client.create_order("EUR", ITEMS)).order_id
    shipped_too_early = client.wait(client.submit(order_id, "ship"))
    assert shipped_too_early.status == "failed"
    assert shipped_too_early.error is not None and shipped_too_early.error.code == "invalid_transition"


def test_cancel_and_its_conflict_are_typed(api, client, session_factory):
    assert client.cancel_job(stuck_job(session_factory, api)).status == "cancelled"
    finished = client.wait(client.create_order("EUR", ITEMS))
    with pytest.raises(ProblemError) as raised:
        client.cancel_job(finished)
    assert raised.value.status == 409
    assert raised.value.problem.extra["job_status"] == "succeeded"


def test_errors_the_client_cannot_fix_are_not_retried(api):
    http = CountingSession()
    client = Client(api.base_url, api.key, session=http)
    with pytest.raises(ProblemError) as raised:
        client.create_order("EUR", [{"sku": "A-1", "quantity": 0, "unit_price_cents": 1}])
    assert raised.value.status == 422 and raised.value.problem.extra["errors"]
    with pytest.raises(ProblemError) as raised:
        client.order(str(uuid.uuid4()))
    assert raised.value.status == 404
    assert len(http.sent) == 2


def test_a_503_is_retried_after_its_retry_after(api, running, session_factory):
    """The command queue is full: the API refuses commands (503, Retry-After).
    The client waits that long (plus jitter) before trying again, then gives
    up with the API's reason; nothing was accepted for it. A client with
    room to retry gets its command through once the queue drains."""
    waits: list[float] = []
    client = Client(api.base_url, api.key, sleep=waits.append, retry=RetryPolicy(max_attempts=2))
    accepted = 0
    with paused(running.worker), queue_limited_to(1), pytest.raises(GaveUp) as raised:
        for _ in range(enough_to_fill_the_queue()):
            client.create_order("EUR", ITEMS)
            accepted += 1
    problem = raised.value.problem
    assert problem is not None and problem.status == 503 and problem.type.endswith("/overloaded")
    assert len(waits) == 1 and 5 <= waits[0] <= 6.5  # Retry-After: 5, plus jitter
    assert jobs_of(session_factory, api.tenant_id) == accepted  # the refused command left nothing

    patient = Client(api.base_url, api.key)
    assert patient.wait(patient.create_order("EUR", ITEMS)).succeeded


def test_a_lost_answer_is_retried_with_the_same_key_and_applied_once(api, session_factory):
    """The API dies after committing the job, before answering: the client
    sees a connection error, retries with the same Idempotency-Key (here on
    a healthy API) and gets the same job; one job, applied once."""
    port = stack.free_port()
    crashing = stack.start_api(port, workers=1, ORDERLY_FAULTS="accept.after_commit=exit")
    http = CountingSession()
    try:
        stack.wait_ready(f"http://127.0.0.1:{port}", crashing)
        client = Client(f"http://127.0.0.1:{port}", api.key, session=http)

        def sleep(seconds: float) -> None:  # between the attempts: move to the healthy API
            client.base_url = f"{api.base_url}/api/v1"
            # And wait as told: an API process may still refuse commands for a
            # few seconds after the 503 test before this one (its queue was full).
            time.sleep(seconds)

        client._sleep = sleep
        job = client.create_order("EUR", ITEMS)
    finally:
        stack.stop(crashing)
    posts = [url for method, url in http.sent if method == "POST"]
    # The lost one (no answer), then the retry; before it, 503s only if an API
    # process still refused commands after the previous test filled the queue.
    assert http.answered[-1] == 202 and set(http.answered[:-1]) <= {503}
    assert len(posts) == 2 + len(http.answered[:-1])
    assert jobs_of(session_factory, api.tenant_id) == 1
    assert client.wait(job).succeeded
    assert len(client.orders().data) == 1


def test_429_is_retried_after_the_rate_limit_allows(api_with, api):  # noqa: F811 - the fixture
    limited = api_with(RATE_LIMIT_PER_KEY="3/second")
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    client = Client(limited.base_url, api.key, sleep=sleep)
    jobs = [client.create_order("EUR", ITEMS) for _ in range(8)]
    assert len({job.id for job in jobs}) == 8
    assert waits and all(w >= 1 for w in waits)  # each after the Retry-After the API sent
