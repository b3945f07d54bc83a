"""Accepting commands: the API's side of the pipeline.

A command is accepted by committing a `queued` job; the message that asks a
worker to apply it is handed to `enqueue` only after that commit, so a job a
client was told about always exists. If publishing fails the job stays
`queued` and the relay publishes it later (orders/relay.py). The API's
enqueue publishes in the background (infra/publisher.py); refusing new
commands when the broker does not keep up is the caller's check, made before
anything is committed.

Each write is one statement (orders/accept_sql.py), so the use cases work on an
autocommit unit of work: accepting costs one round trip to PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from infra.errors import IdempotencyKeyReused, NotFound, PreconditionFailed, RateLimited
from infra.faults import fault_point
from infra.messaging import Enqueue, JobMessage
from models import Command, Job, JobStatus
from models.base import utcnow
from orders.backlog import TenantBacklog
from orders.unit_of_work import OrdersUnitOfWork
from orders.views import JobFields
from telemetry import metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Idempotency:
    """A client's Idempotency-Key and a fingerprint of the request it came with."""

    key: str
    request_sha256: str

    @classmethod
    def for_request(cls, key: str, method: str, path: str, body: Any) -> Idempotency:
        canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
        return cls(key=key, request_sha256=hashlib.sha256(canonical.encode()).hexdigest())


def submit_create(
    uow: OrdersUnitOfWork,
    tenant_id: uuid.UUID,
    order: dict[str, Any],
    enqueue: Enqueue,
    idempotency: Idempotency | None = None,
    backlog: TenantBacklog | None = None,
    request_id: str | None = None,
) -> JobFields:
    """Accept a new order; the job carries the order id the worker will create."""
    job = _queued_job(tenant_id, Command.CREATE, uuid.uuid4(), payload=order, request_id=request_id)
    with uow:
        replay = _replay_at_cap(uow, tenant_id, backlog, idempotency)
        if replay is None and not _insert(uow, job, idempotency):
            replay = _replay(uow, tenant_id, idempotency)
            assert replay is not None, "a create is refused only for a claimed key"
    return replay if replay is not None else _publish(job, enqueue)


def submit_command(
    uow: OrdersUnitOfWork,
    tenant_id: uuid.UUID,
    order_id: uuid.UUID,
    command: Command,
    enqueue: Enqueue,
    expected_version: int | None = None,
    idempotency: Idempotency | None = None,
    backlog: TenantBacklog | None = None,
    request_id: str | None = None,
) -> JobFields:
    """Accept pay/ship/deliver/cancel/delete for one of the tenant's live orders."""
    job = _queued_job(tenant_id, command, order_id, expected_version=expected_version, request_id=request_id)
    with uow:
        replay = _replay_at_cap(uow, tenant_id, backlog, idempotency)
        if replay is None and not _insert(uow, job, idempotency):
            replay = _replay(uow, tenant_id, idempotency)
            if replay is None:
                version = uow.accept.live_order_version(tenant_id, order_id)
                if version is not None and expected_version is not None and version != expected_version:
                    raise PreconditionFailed(f"order {order_id} is at version {version}, not {expected_version}")
                # Not there when the insert looked (it may exist by now: its create just committed).
                raise NotFound(f"order {order_id} not found")
    return replay if replay is not None else _publish(job, enqueue)


def _queued_job(
    tenant_id: uuid.UUID,
    command: Command,
    order_id: uuid.UUID,
    payload: dict[str, Any] | None = None,
    expected_version: int | None = None,
    request_id: str | None = None,
) -> Job:
    return Job(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        command=command,
        order_id=order_id,
        payload=payload,
        expected_version=expected_version,
        status=JobStatus.QUEUED,
        attempts=0,
        created_at=utcnow(),  # set here: the answer needs no read back
        request_id=request_id,
    )


def _insert(uow: OrdersUnitOfWork, job: Job, idempotency: Idempotency | None) -> bool:
    """Insert the job (claiming the key) and commit; False if nothing was inserted."""
    key, fingerprint = (idempotency.key, idempotency.request_sha256) if idempotency else (None, None)
    inserted = uow.accept.insert_job(job, key, fingerprint)
    uow.commit()
    return inserted


def _replay(uow: OrdersUnitOfWork, tenant_id: uuid.UUID, idempotency: Idempotency | None) -> JobFields | None:
    """The job an identical earlier request with this Idempotency-Key produced;
    None when the key was never claimed (or there is none)."""
    earlier = uow.accept.claimed_key(tenant_id, idempotency.key) if idempotency else None
    if idempotency is None or earlier is None:
        return None
    if earlier.request_sha256 != idempotency.request_sha256:
        raise IdempotencyKeyReused("this Idempotency-Key was already used with a different request")
    job = uow.accept.job(tenant_id, earlier.job_id)
    assert job is not None, "idempotency keys reference their job"
    return job


def _replay_at_cap(
    uow: OrdersUnitOfWork, tenant_id: uuid.UUID, backlog: TenantBacklog | None, idempotency: Idempotency | None
) -> JobFields | None:
    """None while the tenant is under its cap of unfinished jobs (one tenant
    cannot fill the queue for everyone). At the cap new commands are
    refused, but a retry of a request already accepted gets its job back."""
    if backlog is None or backlog.admit(tenant_id, lambda: uow.accept.count_unfinished(tenant_id)):
        return None
    replay = _replay(uow, tenant_id, idempotency)
    if replay is None:
        raise RateLimited(f"this tenant already has {backlog.cap} unfinished jobs: wait for some", retry_after=5)
    return replay


def _publish(job: JobFields, enqueue: Enqueue) -> JobFields:
    """Hand over the committed job's message; a failure leaves it to the relay."""
    fault_point("accept.after_commit")
    metrics.JOBS_ACCEPTED.labels(job.command).inc()
    try:
        enqueue(JobMessage(job.id, job.command))
    except Exception:
        # The job is safe in PostgreSQL; the relay publishes it once the broker is back.
        log.warning("job %s: publish failed, left for the relay", job.id, exc_info=True)
    return job
