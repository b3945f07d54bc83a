"""Exceptions the use cases raise; web/errors.py maps each to an HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: `detail` is safe to show to the client."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(ServiceError):
    pass


class PreconditionFailed(ServiceError):
    pass


class IdempotencyKeyReused(ServiceError):
    """The Idempotency-Key was used before with a different request."""


class Unauthenticated(ServiceError):
    pass


class Overloaded(ServiceError):
    """The command queue is full: the command was not accepted, try again later."""


class QueueFull(Exception):
    """Raised by an enqueue function when the broker refused the message."""
