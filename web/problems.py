"""RFC 9457 problem details, and the handlers that turn every error into one."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from infra.errors import (
    Conflict,
    IdempotencyKeyReused,
    JobNotCancellable,
    NotFound,
    Overloaded,
    PreconditionFailed,
    RateLimited,
    ServiceError,
    Unauthenticated,
)

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://orderly.dev/problems/"

# One table from service exceptions to status and problem type.
SERVICE_ERRORS: dict[type[ServiceError], tuple[int, str, str]] = {
    NotFound: (404, "not-found", "Not Found"),
    PreconditionFailed: (412, "precondition-failed", "Precondition Failed"),
    IdempotencyKeyReused: (422, "idempotency-key-reused", "Idempotency-Key Reused"),
    JobNotCancellable: (409, "job-not-cancellable", "Conflict"),
    Conflict: (409, "conflict", "Conflict"),
    Unauthenticated: (401, "unauthenticated", "Unauthorized"),
    Overloaded: (503, "overloaded", "Service Unavailable"),
    RateLimited: (429, "rate-limited", "Too Many Requests"),
}


class Problem(Exception):
    """Raise from a view to answer with a problem document."""

    def __init__(self, status: int, slug: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail, self.extra = status, slug, title, detail, extra


def problem_response(status: int, slug: str, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="orderly"'
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc.status, exc.slug, exc.title, exc.detail, **exc.extra)

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> Response:
        for cls in type(exc).__mro__:
            if cls in SERVICE_ERRORS:
                status, slug, title = SERVICE_ERRORS[cls]
                response = problem_response(status, slug, title, exc.detail, **exc.extra)
                if exc.retry_after is not None:
                    response.headers["Retry-After"] = str(exc.retry_after)
                return response
        return _unexpected(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        slug = (exc.name or "error").lower().replace(" ", "-")
        response = problem_response(status, slug, exc.name, exc.description or exc.name)
        if status == 405 and exc.response is None:
            allowed = getattr(exc, "valid_methods", None)
            if allowed:
                response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem_response(500, "internal-error", "Internal Server Error", "an unexpected error occurred")


def register_database_error_handler(app: Flask) -> None:
    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def _database_unavailable(exc: Exception) -> Response:
        # Nothing was accepted (the transaction did not commit): the client may retry.
        log.warning("database unavailable: %s", exc)
        response = problem_response(
            503, "database-unavailable", "Service Unavailable", "the database is unavailable; retry shortly"
        )
        response.headers["Retry-After"] = "2"
        return response
