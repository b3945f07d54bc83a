"""GraphQL errors that carry the REST problem's code and status.

Each error's `extensions` has `code` (the slug of the problem type REST
answers with: `not-found`, `precondition-failed`, `validation-error`, ...)
and `status` (the HTTP status REST would use). An unexpected exception is
logged and shown as `internal-error`, never its message.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError
from pydantic import ValidationError

from infra.errors import ServiceError
from web.problems import SERVICE_ERRORS, Problem

log = logging.getLogger(__name__)

INVALID_QUERY = "invalid-query"  # the document does not parse or does not fit the schema


class BadInput(Exception):
    """An argument a resolver refuses (422 in REST terms)."""

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


def _service(exc: ServiceError) -> dict[str, Any]:
    for cls in type(exc).__mro__:
        if cls in SERVICE_ERRORS:
            status, slug, _title = SERVICE_ERRORS[cls]
            extensions = {"code": slug, "status": status, **exc.extra}
            if exc.retry_after is not None:
                extensions["retry_after"] = exc.retry_after
            return extensions
    raise LookupError(type(exc))


def formatted(error: GraphQLError) -> dict[str, Any]:
    """The error as the answer shows it."""
    original = error.original_error
    shown: dict[str, Any] = dict(error.formatted)
    if original is None or error.path is None:
        # Before execution: parsing, validation, a limit (limits.py sets its
        # own code), a variable of the wrong type.
        shown["extensions"] = {"code": INVALID_QUERY, **(error.extensions or {}), "status": 400}
        return shown
    if isinstance(original, ServiceError):
        shown["message"] = original.detail
        shown["extensions"] = _service(original)
    elif isinstance(original, Problem):
        shown["message"] = original.detail
        shown["extensions"] = {"code": original.slug, "status": original.status, **original.extra}
    elif isinstance(original, BadInput):
        shown["message"] = str(original)
        shown["extensions"] = {"code": "validation-error", "status": 422, "errors": original.errors}
    elif isinstance(original, ValidationError):
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(input)", "message": e["msg"]}
            for e in original.errors(include_url=False)
        ]
        shown["message"] = "the input is not valid"
        shown["extensions"] = {"code": "validation-error", "status": 422, "errors": errors}
    else:
        log.error("GraphQL resolver failed at %s", error.path, exc_info=original)
        shown["message"] = "internal error: the server logged it"
        shown["extensions"] = {"code": "internal-error", "status": 500}
    return shown
