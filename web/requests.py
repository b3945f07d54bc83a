"""Parsing and checking what a request carries: body, query, headers."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from flask import Request
from pydantic import BaseModel, ValidationError

from infra.pagination import Page
from orders.accept import Idempotency
from orders.waits import MAX_WAIT_SECONDS
from web.problems import Problem

M = TypeVar("M", bound=BaseModel)

MAX_LIMIT = 100
MAX_PAGE = 1_000_000
MAX_JSON_DEPTH = 32
# Page numbers and limits: ASCII digits only (str.isdigit() also accepts "²"
# and "①", which int() refuses), and no longer than the largest allowed value.
_NUMBER = re.compile(rf"[0-9]{{1,{len(str(MAX_PAGE))}}}")
# Idempotency-Key: visible ASCII, as the OpenAPI document says.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
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


def page_params(request: Request, sortable: tuple[str, ...], statuses: tuple[str, ...]) -> tuple[Page, str | None]:
    """?page=1&limit=20&sort=-created_at&status=paid, each checked (400 when wrong)."""
    args = request.args
    page = _positive_int(args.get("page", "1"), "page", maximum=MAX_PAGE)
    limit = _positive_int(args.get("limit", "20"), "limit", maximum=MAX_LIMIT)
    sort = args.get("sort", "-created_at")
    if sort.lstrip("-") not in sortable or sort.count("-") > 1:
        allowed = ", ".join(sortable)
        raise _bad_query("sort", f"sort by one of {allowed}, with a leading - for descending")
    status = args.get("status")
    if status is not None and status not in statuses:
        raise _bad_query("status", f"status must be one of {', '.join(statuses)}")
    return Page(number=page, limit=limit, sort=sort), status


def wait_param(request: Request) -> int | None:
    """?wait=N: seconds to wait for a job to finish, 1 to 20 (ASCII digits)."""
    raw = request.args.get("wait")
    return None if raw is None else _positive_int(raw, "wait", MAX_WAIT_SECONDS)


_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*([0-9]{1,7})(?:$|[,;\s])")


def preferred_wait(request: Request) -> int | None:
    """`Prefer: respond-async, wait=N` (RFC 7240): seconds the client is happy to
    wait for the outcome, capped at 20; None without one. A preference is a
    hint: one that does not parse is ignored, never an error."""
    found = _PREFER_WAIT.search(request.headers.get("Prefer", ""))
    if found is None or int(found[1]) < 1:
        return None
    return min(int(found[1]), MAX_WAIT_SECONDS)


def _positive_int(raw: str, name: str, maximum: int) -> int:
    if not _NUMBER.fullmatch(raw) or not 1 <= int(raw) <= maximum:
        raise _bad_query(name, f"{name} must be an integer from 1 to {maximum}")
    return int(raw)


def _bad_query(name: str, message: str) -> Problem:
    return Problem(400, "invalid-query", "Bad Request", message, errors=[{"field": name, "message": message}])


def idempotency(request: Request, body: Any) -> Idempotency | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise Problem(
            400,
            "invalid-idempotency-key",
            "Bad Request",
            "Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces)",
        )
    return Idempotency.for_request(key, request.method, request.path, body)


def expected_version(request: Request) -> int | None:
    """The version named by If-Match: "<version>", or None when absent."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    match = _IF_MATCH.match(header)
    if not match:
        raise Problem(400, "invalid-if-match", "Bad Request", 'If-Match must be an ETag of the order, e.g. "3"')
    return int(match.group(1) or match.group(2))


def etag_matches(request: Request, version: int) -> bool:
    """Whether If-None-Match names the current ETag (or is *)."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    if not _IF_NONE_MATCH.match(header):
        raise Problem(400, "invalid-if-none-match", "Bad Request", 'If-None-Match must be * or ETags, e.g. "3"')
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or any(tag.strip('"') == str(version) for tag in tags)
