"""Checks of what must hold in the database after any load: the pipeline's invariants."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Job, Order, OrderEvent, OrderStatus, next_status
from models.status import Command


def check_orders(session: Session, order_ids: Iterable[uuid.UUID]) -> list[str]:
    """Every order's events form a valid path, versions are 1..n, status matches."""
    ids = list(order_ids)
    problems: list[str] = []
    events: dict[uuid.UUID, list[OrderEvent]] = defaultdict(list)
    for event in session.scalars(
        select(OrderEvent).where(OrderEvent.order_id.in_(ids)).order_by(OrderEvent.order_id, OrderEvent.version)
    ):
        events[event.order_id].append(event)
    orders = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(ids)))}
    for order_id in ids:
        order, history = orders.get(order_id), events[order_id]
        if order is None:
            problems.append(f"{order_id}: order missing")
            continue
        if [e.version for e in history] != list(range(1, len(history) + 1)):
            problems.append(f"{order_id}: event versions {[e.version for e in history]} are not 1..n")
        status: OrderStatus | None = None
        for event in history:
            expected = next_status(status, Command(event.command)) if _allowed(status, event.command) else None
            if event.from_status != status or expected != event.to_status:
                problems.append(f"{order_id}: v{event.version} {event.from_status}-{event.command}->{event.to_status}")
            status = OrderStatus(event.to_status)
        if order.version != len(history) or order.status != status:
            problems.append(f"{order_id}: order at v{order.version} {order.status}, events end at {status}")
    return problems


def check_jobs(session: Session, job_ids: Iterable[uuid.UUID]) -> list[str]:
    """Every job finished; succeeded exactly when it has one event; failures
    have a reason; a cancelled job changed nothing."""
    ids = list(job_ids)
    problems: list[str] = []
    applied: dict[uuid.UUID, int] = defaultdict(int)
    for (job_id,) in session.execute(select(OrderEvent.job_id).where(OrderEvent.job_id.in_(ids))):
        applied[job_id] += 1
    jobs = {j.id: j for j in session.scalars(select(Job).where(Job.id.in_(ids)))}
    for job_id in ids:
        job = jobs.get(job_id)
        if job is None:
            problems.append(f"job {job_id}: missing")
        elif job.status == "succeeded" and applied[job_id] != 1:
            problems.append(f"job {job_id}: succeeded with {applied[job_id]} events")
        elif job.status == "failed" and (applied[job_id] or not job.error or not job.error.get("detail")):
            problems.append(f"job {job_id}: failed with {applied[job_id]} events, error {job.error}")
        elif job.status == "cancelled" and applied[job_id]:
            problems.append(f"job {job_id}: cancelled with {applied[job_id]} events")
        elif job.status not in ("succeeded", "failed", "cancelled"):
            problems.append(f"job {job_id}: still {job.status}")
    return problems


def _allowed(status: OrderStatus | None, command: str) -> bool:
    try:
        next_status(status, Command(command))
    except Exception:
        return False
    return True
