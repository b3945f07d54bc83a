"""/api/v1/jobs: poll (or wait on) accepted commands, cancel queued ones."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, jsonify, request

from models import FINISHED, JobStatus
from orders import cancel, queries
from telemetry import metrics
from web.auth import key_id, tenant_id
from web.requests import page_params, wait_param
from web.resources import Resources, resources
from web.responses import page_of

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

SORTABLE = ("created_at", "finished_at", "status")


@bp.get("/<uuid:job_id>")
def get_job(job_id: uuid.UUID) -> Response:
    """The job; with ?wait=N (1-20 s) the answer waits until it has finished."""
    res = resources()
    job = read_job(res, job_id, wait_param(request))
    response = jsonify(job)
    if job["status"] not in FINISHED:
        response.headers["Retry-After"] = str(res.settings.job_retry_after_seconds)
    return response


@bp.post("/<uuid:job_id>/cancel")
def cancel_job(job_id: uuid.UUID) -> Response:
    """Cancel a queued job: 200 with the cancelled job (again 200 when
    repeated), 409 with its status once a worker has claimed or finished it."""
    res = resources()
    job, cancelled_now = cancel.cancel_job(res.session_factory, tenant_id(), job_id)
    if cancelled_now:
        metrics.JOBS_CANCELLED.labels(job["command"]).inc()
        res.announce_finished(job_id)
    return jsonify(job)


def read_job(res: Resources, job_id: uuid.UUID, wait: int | None) -> dict[str, Any]:
    """The tenant's job; with `wait`, once it has finished or `wait` seconds
    have passed (orders/waits.py). RateLimited beyond the key's waits."""
    job: dict[str, Any] = {}

    def read() -> bool:
        job.update(queries.get_job(res.autocommit_session_factory, tenant_id(), job_id))
        return job["status"] in FINISHED

    if wait is None:
        read()
    else:
        res.job_waits.wait(key_id(), job_id, wait, read)
    return job


@bp.get("")
def list_jobs() -> Response:
    page, status = page_params(request, SORTABLE, tuple(JobStatus))
    data, total = queries.list_jobs(resources().autocommit_session_factory, tenant_id(), page, status)
    return page_of(data, page, total)
