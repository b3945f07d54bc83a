"""Shaping answers: accepted jobs, pages."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for

from infra.pagination import Page
from orders.views import JobFields, job_view


def accepted(job: JobFields) -> Response:
    """202 with the job and where to poll it."""
    response = jsonify(job_view(job))
    response.status_code = 202
    response.headers["Location"] = url_for("api.jobs.get_job", job_id=job.id)
    return response


def page_of(data: list[dict[str, Any]], page: Page, total: int) -> Response:
    return jsonify({"data": data, "page": page.number, "limit": page.limit, "total": total})
