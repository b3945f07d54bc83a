"""/healthz (the process answers) and /readyz (it can accept work); no auth.

Only PostgreSQL decides readiness: without it no command can be accepted. With
Redis or RabbitMQ down the API still accepts (the cache and the rate limits
fall back, the relay publishes later), so /readyz stays 200 and says
"degraded": a load balancer must not pull every instance exactly then.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Response, jsonify
from kombu import Connection
from sqlalchemy import text

from models.base import iso, utcnow
from web.problems import problem_response
from web.resources import Resources, resources

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


# /readyz is public: its checks (a query, a ping, a new AMQP connection) run at
# most once per READY_CACHE_SECONDS per process, whatever the request rate;
# concurrent requests wait for the check under way and share its result.
READY_CACHE_SECONDS = 1.0


@dataclass(frozen=True)
class _Readiness:
    down: tuple[str, ...]
    checked_at: str  # ISO time of the checks
    expires: float  # monotonic


_last: _Readiness | None = None
_checking = threading.Lock()


# Dependencies without which the API cannot accept a command.
REQUIRED = ("postgresql",)


@bp.get("/readyz")
def readyz() -> Response:
    readiness = _readiness(resources())
    checks = {name: "down" if name in readiness.down else "ok" for name in CHECKS}
    if any(name in REQUIRED for name in readiness.down):
        response = problem_response(
            503,
            "not-ready",
            "Service Unavailable",
            f"unreachable: {', '.join(readiness.down)}",
            down=list(readiness.down),
            checks=checks,
            checked_at=readiness.checked_at,
        )
        response.headers["Retry-After"] = "5"
        return response
    status = "degraded" if readiness.down else "ready"
    body = {"status": status, "checks": checks, "down": list(readiness.down), "checked_at": readiness.checked_at}
    return jsonify(body)


def _readiness(res: Resources) -> _Readiness:
    global _last
    if _last is None or _last.expires < time.monotonic():
        with _checking:
            if _last is None or _last.expires < time.monotonic():
                down = tuple(name for name, check in CHECKS.items() if not _passes(name, check, res))
                _last = _Readiness(down, iso(utcnow()) or "", time.monotonic() + READY_CACHE_SECONDS)
    return _last


def _passes(name: str, check: Callable[[Resources], object], res: Resources) -> bool:
    try:
        check(res)
    except Exception as exc:
        log.warning("readiness: %s is down: %s", name, exc)
        return False
    return True


def _check_postgresql(res: Resources) -> None:
    with res.clients.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _check_redis(res: Resources) -> None:
    res.clients.redis.ping()
    res.cache.ping()


def _check_rabbitmq(res: Resources) -> None:
    with Connection(res.settings.broker_url, connect_timeout=2) as conn:
        conn.connect()


CHECKS: dict[str, Callable[[Resources], object]] = {
    "postgresql": _check_postgresql,
    "redis": _check_redis,
    "rabbitmq": _check_rabbitmq,
}
