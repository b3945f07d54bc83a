"""After the faults heal: drain, then check the invariants I1-I8 against the
database, Redis and what the API answered, and sum up the run in figures."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from infra.messaging import COMMANDS_QUEUE
from infra.redis_client import make_redis
from models import FINISHED, IdempotencyKey, Job, Order, OrderEvent
from orders.cache import OrderCache
from tests.faults.harness import VHOST
from tests.faults.load import Load
from tests.integration import invariants
from tests.integration.servers import services
from tests.integration.stack import LOGS

DRAIN_SECONDS = 60  # I5: everything accepted is finished this long after the last fault heals
# Then leftover messages (no-op redeliveries, retries waiting out their
# backoff, at most a minute) must be gone before the invariants are checked.
IDLE_QUEUE_SECONDS = 90


@dataclass
class Report:
    scenario: str
    sent: int  # logical commands (a retried or duplicated request counts once)
    accepted: int  # answered 202
    applied: int  # jobs succeeded
    failed: dict[str, int]  # jobs failed, by error code
    lost: int  # accepted jobs not finished, or succeeded without their event
    applied_twice: int  # jobs with more than one event
    unanswered_jobs: int  # jobs committed whose client never got the 202 (it gave up)
    republished: int  # jobs the relay had to publish again (their message was lost or never sent)
    answers: dict[str, int]  # every attempt's HTTP status ("none": no answer), retries included
    healed_after_seconds: float  # from the first command to the end of the last fault
    load_seconds: float  # from the first command to the last
    drain_seconds: float  # from the last command (every fault healed) to the last job finished
    idle_after_seconds: float | None  # from then to no message left in the broker (None: never)
    read_p99_ms: float
    read_max_ms: float
    problems: list[str] = field(default_factory=list)

    def save(self) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        with open(LOGS / "faults-report.jsonl", "a") as out:
            out.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S"), **asdict(self)}) + "\n")


def drain(session_factory: sessionmaker[Session], tenant_ids: list[uuid.UUID], quiet_since: float) -> float:
    """Wait until every job of the tenants is finished; seconds since `quiet_since`."""
    deadline = quiet_since + DRAIN_SECONDS
    while True:
        with session_factory() as session:
            unfinished = session.scalar(
                select(func.count()).where(Job.tenant_id.in_(tenant_ids), Job.status.not_in(FINISHED))
            )
        if not unfinished or time.monotonic() > deadline:
            return time.monotonic() - quiet_since
        time.sleep(0.25)


def wait_for_idle_queue(timeout: float = IDLE_QUEUE_SECONDS) -> float | None:
    """Wait until no command message is queued or held unacknowledged by a
    worker. Jobs can all look finished while a redelivery or a retry waits in
    the broker; checking the invariants before it runs would miss what it does.
    Returns the seconds waited, or None when the queue never went idle."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        listing = services(
            "rabbitmqctl", "list_queues", "-p", VHOST, "name", "messages_ready", "messages_unacknowledged",
            "--no-table-headers", "--quiet",
        )  # fmt: skip
        counts = {name: rest for name, *rest in (line.split() for line in listing.splitlines() if line.strip())}
        if counts.get(COMMANDS_QUEUE) == ["0", "0"]:
            return time.monotonic() - started
        if time.monotonic() > deadline:
            return None
        time.sleep(0.5)


def verify(
    scenario: str,
    load: Load,
    session_factory: sessionmaker[Session],
    settings: Settings,
    tenant_ids: list[uuid.UUID],
    quiet_since: float,
    healed_after_seconds: float,
) -> Report:
    drain_seconds = drain(session_factory, tenant_ids, quiet_since)
    problems = list(load.unexpected)
    idle_after_seconds = wait_for_idle_queue()
    if idle_after_seconds is None:
        problems.append(f"messages still queued or unacknowledged {IDLE_QUEUE_SECONDS} s after the drain")
    accepted = load.accepted_job_ids()
    with session_factory() as session:
        jobs = {str(j.id): j for j in session.scalars(select(Job).where(Job.tenant_id.in_(tenant_ids)))}
        events = Counter(
            str(job_id)
            for (job_id,) in session.execute(
                select(OrderEvent.job_id)
                .join(Order, Order.id == OrderEvent.order_id)
                .where(Order.tenant_id.in_(tenant_ids))
            )
        )
        order_ids = list(session.scalars(select(Order.id).where(Order.tenant_id.in_(tenant_ids))))
        keys = {
            k.key: str(k.job_id)
            for k in session.scalars(select(IdempotencyKey).where(IdempotencyKey.tenant_id.in_(tenant_ids)))
        }
        # I1-I3 on every order, I4-I6 on every job (the ones nobody heard of too).
        problems += invariants.check_orders(session, order_ids)
        problems += invariants.check_jobs(session, [uuid.UUID(j) for j in jobs])
        versions = dict(session.execute(select(Order.id, Order.version).where(Order.id.in_(order_ids))).all())

    lost = [j for j in accepted if j not in jobs or jobs[j].status not in FINISHED]
    lost += [j for j in accepted if j in jobs and jobs[j].status == "succeeded" and events[j] != 1]
    problems += [f"job {j}: answered 202 but lost" for j in lost]
    problems += _idempotency_problems(load, keys)
    # A new client: the test's own may still be skipping Redis after the fault.
    problems += _cache_problems(OrderCache(make_redis(settings.cache_redis_url), settings.cache_ttl_seconds), versions)
    failed = Counter((j.error or {}).get("code", "?") for j in jobs.values() if j.status == "failed")
    latencies = sorted(load.read_latencies) or [0.0]
    report = Report(
        scenario=scenario,
        sent=len({c.key for c in load.sent}),
        accepted=len(accepted),
        applied=sum(j.status == "succeeded" for j in jobs.values()),
        failed=dict(failed),
        lost=len(lost),
        applied_twice=sum(count > 1 for count in events.values()),
        unanswered_jobs=len(set(jobs) - accepted),
        republished=sum(j.republish_count > 0 for j in jobs.values()),
        answers=dict(Counter(str(answer).lower() for command in load.sent for answer in command.answers)),
        healed_after_seconds=round(healed_after_seconds, 1),
        load_seconds=round(quiet_since - load.started, 1),
        drain_seconds=round(drain_seconds, 1),
        idle_after_seconds=None if idle_after_seconds is None else round(idle_after_seconds, 1),
        read_p99_ms=round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 1),
        read_max_ms=round(latencies[-1] * 1000, 1),
        problems=problems[:50],
    )
    report.save()
    return report


def _idempotency_problems(load: Load, keys: dict[str, str]) -> list[str]:
    """I7: one job per key, and it is the job every 202 for that key named."""
    answered: dict[str, set[str]] = defaultdict(set)
    for command in load.sent:
        answered[command.key] |= command.job_ids
    problems = []
    for key, job_ids in answered.items():
        if len(job_ids) > 1:
            problems.append(f"key {key}: answered with {len(job_ids)} jobs")
        elif job_ids and keys.get(key) not in job_ids:
            problems.append(f"key {key}: answered {job_ids}, recorded {keys.get(key)}")
    return problems


def _cache_problems(cache: OrderCache, versions: dict[Any, int]) -> list[str]:
    """I8: after quiescence no cached order is older than the database's."""
    problems = []
    for order_id, version in versions.items():
        cached = cache.get(order_id)
        if cached is not None and cached["version"] != version:
            problems.append(f"order {order_id}: cached v{cached['version']}, database v{version}")
    return problems
