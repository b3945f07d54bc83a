"""Log lines that one grep can follow from a POST to the worker's commit.

Every line carries the request id (X-Request-ID, stored with the job) and
the job id when there is one. They live in context variables: the API sets
them per request, the worker per job, the relay and the CLI per job they
touch. `LOG_FORMAT=json` writes one JSON object per line (the default in
docker-compose); `text` (the default) a readable line with the same fields.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

import config

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
job_id_var: ContextVar[str | None] = ContextVar("job_id", default=None)

# A client's X-Request-ID is kept when it is short and plain; anything else is
# replaced, so a log line can never be forged or flooded through it.
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(job_id)s] %(message)s"
JSON_FIELDS = "{asctime}{levelname}{name}{message}{request_id}{job_id}{process}"


def request_id_from(header: str | None) -> str:
    """The client's X-Request-ID when acceptable, else a new one."""
    if header is not None and _CLIENT_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


@contextlib.contextmanager
def log_context(request_id: str | None = None, job_id: object = None) -> Iterator[None]:
    """Within the block, every log line carries these ids (unset ones are kept)."""
    tokens = []
    if request_id is not None:
        tokens.append((request_id_var, request_id_var.set(request_id)))
    if job_id is not None:
        tokens.append((job_id_var, job_id_var.set(str(job_id))))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


@contextlib.contextmanager
def job_log_context(job_id: object) -> Iterator[None]:
    """For one job a worker applies: the job id now, the request id once the
    job row is read (`request_id_var.set`); both reset at the end, so the next
    job on the same process starts clean."""
    tokens = (job_id_var.set(str(job_id)), request_id_var.set(None))
    try:
        yield
    finally:
        job_id_var.reset(tokens[0])
        request_id_var.reset(tokens[1])


class ContextFilter(logging.Filter):
    """Adds request_id and job_id ("-" when unset) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or "-"
        if not hasattr(record, "job_id"):
            record.job_id = job_id_var.get() or "-"
        return True


@functools.cache
def json_logs() -> bool:
    """LOG_FORMAT is json (read once per process: the access log asks per line)."""
    return config.current().log_format == "json"


def formatter() -> logging.Formatter:
    if json_logs():
        return JsonFormatter(
            JSON_FIELDS, style="{", rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}
        )
    return logging.Formatter(TEXT_FORMAT)


def install(handler: logging.Handler) -> None:
    """Give a handler (ours, Celery's, gunicorn's) the format and the ids."""
    handler.setFormatter(formatter())
    handler.addFilter(ContextFilter())


def configure(level: int = logging.INFO) -> None:
    """Root logging for a process of ours (API, relay, CLI) on stderr."""
    root = logging.getLogger()
    if not any(getattr(handler, "_orderly", False) for handler in root.handlers):
        handler = logging.StreamHandler()
        handler._orderly = True  # type: ignore[attr-defined]
        install(handler)
        root.addHandler(handler)
    root.setLevel(level)
