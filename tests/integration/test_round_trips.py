"""Round trips per request: the budget a later change must not quietly exceed.

Not a timing test: it counts, against the real servers, the messages that
wait for PostgreSQL's answer (libpq's protocol trace: every Sync of the
extended protocol and every simple Query, which is how psycopg sends BEGIN,
COMMIT and ROLLBACK), the Redis round trips (a command, or a pipeline of
them) and, for the accept's publish, the AMQP writes and the frames read
back (the confirms), for one accept, one poll and one apply, warm (pools
connected, the API key seen before). The worker's ack is Celery's, after
the apply, and not counted: one basic.ack per message. docs/performance.md
explains the figures; raise a budget only with a reason written there.
"""

from __future__ import annotations

import os
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import amqp.transport
import psycopg
import pytest
import redis
import redis.client
from kombu import Queue
from sqlalchemy import Engine, event

from access import api_keys
from infra.batch_sender import BatchSender
from infra.db import make_engine, make_session_factory
from infra.messaging import JobMessage
from infra.publisher import BackgroundPublisher
from infra.redis_client import make_redis
from orders.apply import apply_job
from orders.cache import OrderCache
from orders.unit_of_work import OrdersUnitOfWork
from tests.integration.client import ORDER

# (PostgreSQL round trips, Redis round trips)
BUDGET = {
    "accept a create": (1, 3),  # the key's revocation marker, the rate limit, the tenant's cap
    "accept a create with an Idempotency-Key": (1, 3),
    "accept a command": (1, 3),
    "poll a job": (1, 2),
    # The tombstone (before the commit) and the wake-up of waiting requests
    # (after it): the use case now does both, so both are counted.
    "apply a create": (4, 2),
    "apply a command": (5, 2),
    # A waiting request reads nothing after the wake-up, which carries the
    # finished job; a `Prefer: wait` POST not even before it, as it
    # subscribes before its message is published. Measured with the apply
    # that finishes the job (4, 2) and without the (un)subscribe commands
    # (sent on the process's subscriber connection, answered on its thread).
    "Prefer: wait POST, applied meanwhile": (1 + 4, 3 + 2),
    "GET ?wait, applied meanwhile": (1 + 4, 2 + 2),
}


# The accept's publish, on the API's background publisher: one write (the
# publish method, header and body frames together) and the confirm read back.
AMQP_BUDGET = {"publish an accepted job": (1, 1)}


@dataclass
class Counts:
    postgresql: int = 0
    redis: int = 0
    amqp_writes: int = 0
    amqp_frames_read: int = 0


class RoundTrips:
    """Counts round trips of every engine and Redis client in this process."""

    def __init__(self, trace: Path) -> None:
        self.trace = trace
        self.redis_calls = 0
        self.amqp_writes = 0
        self.amqp_frames_read = 0

    def postgresql(self) -> int:
        lines = self.trace.read_text(errors="replace").splitlines()
        # Frontend messages that end a request: "F <length> Sync" or "F <length> Query ...".
        return sum(1 for line in lines if line.split("\t")[:1] == ["F"] and line.split("\t")[2] in ("Sync", "Query"))

    def measure(self, action: Any, postgresql: bool = True) -> Counts:
        """The round trips of `action`; `postgresql=False` for one that makes none."""
        self.trace.write_text("")
        before = (self.redis_calls, self.amqp_writes, self.amqp_frames_read)
        action()
        counts = Counts(
            self.postgresql(),
            self.redis_calls - before[0],
            self.amqp_writes - before[1],
            self.amqp_frames_read - before[2],
        )
        # Only connections opened under the fixture are traced: a count of 0
        # would mean the action ran on one opened before, unseen.
        assert counts.postgresql > 0 or not postgresql, "no PostgreSQL round trip was seen"
        return counts


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[RoundTrips]:
    handle, name = tempfile.mkstemp(suffix=".trace")
    os.close(handle)
    counter = RoundTrips(Path(name))
    trace_file = open(name, "a")  # noqa: SIM115 - closed below; libpq writes through its descriptor

    traced: list[psycopg.Connection] = []

    def trace(dbapi_connection: psycopg.Connection, _record: Any) -> None:
        dbapi_connection.pgconn.trace(trace_file.fileno())
        dbapi_connection.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        traced.append(dbapi_connection)

    event.listen(Engine, "connect", trace)
    real_execute = redis.Redis.execute_command

    def counting_execute(self: redis.Redis, *args: Any, **kwargs: Any) -> Any:
        counter.redis_calls += 1
        return real_execute(self, *args, **kwargs)

    def counting_pipeline(self: redis.client.Pipeline, *args: Any, **kwargs: Any) -> Any:
        counter.redis_calls += 1  # one round trip for all its commands
        return real_pipeline(self, *args, **kwargs)

    real_pipeline = redis.client.Pipeline.execute
    real_write, real_read_frame = amqp.transport._AbstractTransport.write, amqp.transport._AbstractTransport.read_frame

    def counting_write(self: amqp.transport._AbstractTransport, data: bytes) -> None:
        counter.amqp_writes += 1
        real_write(self, data)

    def counting_read_frame(self: amqp.transport._AbstractTransport, *args: Any) -> Any:
        frame = real_read_frame(self, *args)  # frames returned: a call may raise (time out) without one
        counter.amqp_frames_read += 1
        return frame

    monkeypatch.setattr(redis.Redis, "execute_command", counting_execute)
    monkeypatch.setattr(redis.client.Pipeline, "execute", counting_pipeline)
    monkeypatch.setattr(amqp.transport._AbstractTransport, "write", counting_write)
    monkeypatch.setattr(amqp.transport._AbstractTransport, "read_frame", counting_read_frame)
    try:
        yield counter
    finally:
        event.remove(Engine, "connect", trace)
        # Pooled connections outlive the test: once the file is closed its
        # descriptor number is reused, and libpq would write into whatever
        # socket gets it.
        for connection in traced:
            if not connection.closed:
                connection.pgconn.untrace()
        trace_file.close()
        Path(name).unlink()


def within_budget(name: str, counts: Counts) -> None:
    postgresql, redis_trips = BUDGET[name]
    print(f"{name}: {counts.postgresql} PostgreSQL round trips, {counts.redis} Redis round trips")
    assert counts.postgresql <= postgresql, f"{name}: {counts.postgresql} PostgreSQL round trips (budget {postgresql})"
    assert counts.redis <= redis_trips, f"{name}: {counts.redis} Redis round trips (budget {redis_trips})"


def test_round_trips_per_request_stay_within_budget(round_trips, settings, session_factory, finished):
    from web import create_app
    from web.resources import resources

    app = create_app(settings)
    # No message published: the test applies the jobs itself (a running test
    # worker would race it), and AMQP is not counted here.
    with app.app_context():
        resources().clients.background_publisher = BackgroundPublisher(lambda _messages: [])
    with session_factory() as session:
        issued = api_keys.create_key(session, f"trips-{uuid.uuid4().hex[:8]}")
        session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {issued.plaintext}"}

    def post(path: str, body: dict[str, Any], **extra: str) -> dict[str, Any]:
        response = client.post(path, json=body, headers={**headers, **extra})
        assert response.status_code == 202, response.get_data(as_text=True)
        return response.get_json()

    warm = post("/api/v1/orders", ORDER)  # warm: pools connected, the key looked up once
    created = round_trips.measure(lambda: post("/api/v1/orders", ORDER))
    within_budget("accept a create", created)
    keyed = round_trips.measure(lambda: post("/api/v1/orders", ORDER, **{"Idempotency-Key": uuid.uuid4().hex}))
    within_budget("accept a create with an Idempotency-Key", keyed)

    job = post("/api/v1/orders", ORDER)
    cache = OrderCache(make_redis(settings.cache_redis_url), settings.cache_ttl_seconds)
    # Its own engine, connected under the trace (the tests' shared one is not).
    worker = OrdersUnitOfWork(make_session_factory(make_engine(settings.database_url)))
    outcomes = []

    def apply(job_id: str) -> None:
        outcomes.append(apply_job(worker, uuid.UUID(job_id), cache.invalidate_many, finished).result)

    apply(warm["id"])  # warm: the worker's connection set up, its types read once
    within_budget("apply a create", round_trips.measure(lambda: apply(job["id"])))

    order_path = f"/api/v1/orders/{job['order_id']}/commands"
    command = round_trips.measure(lambda: post(order_path, {"command": "pay"}))
    within_budget("accept a command", command)
    pay = client.get("/api/v1/jobs?limit=1&sort=-created_at", headers=headers).get_json()["data"][0]
    polled = round_trips.measure(lambda: client.get(f"/api/v1/jobs/{pay['id']}", headers=headers))
    within_budget("poll a job", polled)
    within_budget("apply a command", round_trips.measure(lambda: apply(pay["id"])))
    assert outcomes == ["succeeded", "succeeded", "succeeded"]
    assert client.get(f"/api/v1/orders/{job['order_id']}", headers=headers).get_json()["status"] == "paid"


def test_an_accepted_job_is_one_amqp_write_and_its_confirm(round_trips, settings):
    """The API's publish of one accepted job, through the real sender and
    broker (to a queue of its own, so that no worker takes the message)."""
    queue = Queue(f"round-trips-{uuid.uuid4().hex[:8]}", durable=False, auto_delete=True)
    sender = BatchSender.for_broker(settings.broker_url, settings.jobs_per_message, queue)
    publisher = BackgroundPublisher(sender)
    job = JobMessage(uuid.uuid4(), "create")

    def publish() -> None:
        publisher(job)
        assert publisher.flush(5)

    publish()  # warm: connected, the channel in confirm mode, the queue declared
    counts = round_trips.measure(publish, postgresql=False)
    sender.close()
    writes, frames = AMQP_BUDGET["publish an accepted job"]
    print(f"publish an accepted job: {counts.amqp_writes} AMQP writes, {counts.amqp_frames_read} frames read")
    assert 1 <= counts.amqp_writes <= writes, counts  # seen at all, and within the budget
    assert 1 <= counts.amqp_frames_read <= frames, counts


def test_a_waiting_request_reads_nothing_after_the_wake_up(round_trips, settings, session_factory, finished):
    """A waiting request, counted together with the worker's apply that
    finishes its job meanwhile (in this process, in the publisher's thread
    or a timer's)."""
    from web import create_app
    from web.resources import resources

    worker = OrdersUnitOfWork(make_session_factory(make_engine(settings.database_url)))
    cache = OrderCache(make_redis(settings.cache_redis_url), settings.cache_ttl_seconds)
    applied: list[str] = []

    def apply(job_id: uuid.UUID) -> None:
        applied.append(apply_job(worker, job_id, cache.invalidate_many, finished).result)

    app = create_app(settings)
    with app.app_context():  # the "worker" applies each job as its message is published
        resources().clients.background_publisher = BackgroundPublisher(
            lambda messages: [apply(m.id) for m in messages] and []
        )
    with session_factory() as session:
        issued = api_keys.create_key(session, f"trips-{uuid.uuid4().hex[:8]}")
        session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {issued.plaintext}"}

    answers: list[dict[str, Any]] = []

    def prefer_wait() -> None:
        response = client.post("/api/v1/orders", json=ORDER, headers={**headers, "Prefer": "wait=10"})
        assert response.status_code == 200, response.get_data(as_text=True)
        answers.append(response.get_json())

    prefer_wait()  # warm: pools connected, the key looked up, the subscriber connected, the worker's types read
    within_budget("Prefer: wait POST, applied meanwhile", round_trips.measure(prefer_wait))
    # What the wake-up carried is what a read gives.
    assert answers[-1] == client.get(f"/api/v1/jobs/{answers[-1]['id']}", headers=headers).get_json()

    # A job whose message is held back, applied 0.3 s into the GET's wait.
    with app.app_context():
        resources().clients.background_publisher = BackgroundPublisher(lambda _messages: [])
    job = client.post("/api/v1/orders", json=ORDER, headers=headers).get_json()
    later = threading.Timer(0.3, apply, args=[uuid.UUID(job["id"])])

    def get_wait() -> None:
        later.start()
        answers.append(client.get(f"/api/v1/jobs/{job['id']}?wait=10", headers=headers).get_json())
        later.join()

    within_budget("GET ?wait, applied meanwhile", round_trips.measure(get_wait))
    assert answers[-1]["status"] == "succeeded"
    assert answers[-1] == client.get(f"/api/v1/jobs/{job['id']}", headers=headers).get_json()
    assert applied == ["succeeded"] * 3
