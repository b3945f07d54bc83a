"""Parsing and checking what a request carries: body, query, headers."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from flask import Request
from pydantic import BaseModel, ValidationError

from orders.accept import Idempotency
from orders.waits import MAX_WAIT_SECONDS
from web.problems import Problem

M = TypeVar("M", bound=BaseModel)

MAX_JSON_DEPTH = 32
# Idempotency-Key: visible ASCII, as the OpenAPI document says.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
# An entity tag is the order's version, quoted ("3"); the bare number is
# accepted too, as clients often forget the quotes.
IF_MATCH_PATTERN = r'^\s*(?:W/)?(?:"([0-9]{1,9})"|([0-9]{1,9}))\s*$'
_IF_MATCH = re.compile(IF_MATCH_PATTERN)
# If-None-Match: * or a comma-separated list of entity tags (bare numbers too).
_TAG = r'(?:W/)?(?:"[^"]*"|[0-9]{1,9})'
IF_NONE_MATCH_PATTERN = rf"^\s*(?:\*|{_TAG}(?:\s*,\s*{_TAG})*)\s*$"
_IF_NONE_MATCH = re.compile(IF_NONE_MATCH_PATTERN)


def json_body(request: Request, model: type[M]) -> tuple[M, Any]:
    """The body validated against `model`, and the raw JSON (for idempotency)."""
    if request.mimetype != "application/json":
        raise Problem(415, "unsupported-media-type", "Unsupported Media Type", "send the body as application/json")
    try:
        raw = json.loads(request.get_data(cache=True), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise Problem(400, "malformed-json", "Bad Request", f"the body is not valid JSON: {exc}") from None
    if _depth(raw) > MAX_JSON_DEPTH:
        raise Problem(400, "malformed-json", "Bad Request", f"the body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return model.model_validate(raw), raw
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "message": err["msg"]}
            for err in exc.errors(include_url=False)
        ]
        raise Problem(
            422, "validation-error", "Unprocessable Content", "the body is not valid", errors=errors
        ) from None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: Any, level: int = 1) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return max((_depth(child, level + 1) for child in children), default=level)


_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*([0-9]{1,7})(?:$|[,;\s])")


def preferred_wait(request: Request) -> int | None:
    """`Prefer: respond-async, wait=N` (RFC 7240): seconds the client is happy to
    wait for the outcome, capped at 20; None without one. A preference is a
    hint: one that does not parse is ignored, never an error."""
    found = _PREFER_WAIT.search(request.headers.get("Prefer", ""))
    if found is None or int(found[1]) < 1:
        return None
    return min(int(found[1]), MAX_WAIT_SECONDS)


def idempotency(request: Request, body: Any) -> Idempotency | None:
    key = idempotency_key(request)
    return None if key is None else Idempotency.for_request(key, request.method, request.path, body)


def idempotency_key(request: Request) -> str | None:
    """The Idempotency-Key header, or None; 400 when it is malformed."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise Problem(
            400,
            "invalid-idempotency-key",
            "Bad Request",
            "Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces)",
        )
    return key


def expected_version(request: Request) -> int | None:
    """The version named by If-Match: "<version>", or None when absent."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    match = _IF_MATCH.match(header)
    if not match:
        raise Problem(400, "invalid-if-match", "Bad Request", 'If-Match must be an ETag of the order, e.g. "3"')
    return int(match.group(1) or match.group(2))


def check_if_none_match(request: Request) -> None:
    """400 unless If-None-Match is absent, * or a list of entity tags. Werkzeug
    matches it (Response.make_conditional), but would ignore what it cannot read."""
    header = request.headers.get("If-None-Match")
    if header is not None and not _IF_NONE_MATCH.match(header):
        raise Problem(400, "invalid-if-none-match", "Bad Request", 'If-None-Match must be * or ETags, e.g. "3"')
