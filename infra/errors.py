"""Exceptions the use cases raise; web/problems.py maps each to an HTTP status."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base class: `detail` (and `extra`) are safe to show to the client;
    `retry_after` (seconds) tells it when trying again makes sense."""

    def __init__(self, detail: str, retry_after: int | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after
        # RFC 9457 extension members: fields a client acts on, beside the detail.
        self.extra = extra


class NotFound(ServiceError):
    pass


class PreconditionFailed(ServiceError):
    pass


class IdempotencyKeyReused(ServiceError):
    """The Idempotency-Key was used before with a different request."""


class Conflict(ServiceError):
    """The request conflicts with the resource's state or a limit (409)."""


class JobNotCancellable(Conflict):
    """A worker has claimed or finished the job: too late to cancel it."""

    def __init__(self, job_id: object, status: str) -> None:
        super().__init__(f"job {job_id} is {status}: only a queued job can be cancelled", job_status=status)


class Unauthenticated(ServiceError):
    pass


class RateLimited(ServiceError):
    """Too many requests with this API key, or too many unfinished jobs for the tenant."""


class Overloaded(ServiceError):
    """The command queue is full: the command was not accepted, try again later."""


class QueueFull(Exception):
    """Raised by an enqueue function when the broker refused the message."""
