"""/api/v1/jobs: poll (or wait on) accepted commands, cancel queued ones."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from models import FINISHED
from orders import cancel, queries
from web.auth import key_id, tenant_id
from web.query_params import JobsQuery, WaitQuery, parse
from web.resources import Resources, resources
from web.responses import page_of

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


@bp.get("/<uuid:job_id>")
def get_job(job_id: uuid.UUID) -> Response:
    """The job; with ?wait=N (1-20 s) the answer waits until it has finished."""
    res = resources()
    job = read_job(res, job_id, parse(request, WaitQuery).wait)
    response = jsonify(job)
    if job["status"] not in FINISHED:
        response.headers["Retry-After"] = str(res.settings.job_retry_after_seconds)
    return response


@bp.post("/<uuid:job_id>/cancel")
def cancel_job(job_id: uuid.UUID) -> Response:
    """Cancel a queued job: 200 with the cancelled job (again 200 when
    repeated), 409 with its status once a worker has claimed or finished it."""
    res = resources()
    job, _ = cancel.cancel_job(res.orders(), tenant_id(), job_id, res.finished)
    return jsonify(job)


def read_job(
    res: Resources, job_id: uuid.UUID, wait: int | None, publish: Callable[[], None] | None = None
) -> dict[str, Any]:
    """The tenant's job; with `wait`, once it has finished or `wait` seconds
    have passed (orders/waits.py; `publish` sends the message of a job this
    request just accepted). RateLimited beyond the key's waits."""
    job: dict[str, Any] = {}

    def take(view: dict[str, Any]) -> bool:
        job.update(view)
        return job["status"] in FINISHED

    def read() -> bool:
        return take(queries.get_job(res.orders_autocommit(), tenant_id(), job_id))

    if wait is None:
        read()
    else:
        res.job_waits.wait(key_id(), job_id, wait, read, take, publish)
    return job


@bp.get("")
def list_jobs() -> Response:
    query = parse(request, JobsQuery)
    data, total = queries.list_jobs(resources().orders_autocommit(), tenant_id(), query.paging, query.status)
    return page_of(data, query.paging, total)
