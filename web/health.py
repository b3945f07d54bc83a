"""/healthz (the process answers) and /readyz (its dependencies answer); no auth."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Response, jsonify
from kombu import Connection
from sqlalchemy import text

from web.problems import problem_response
from web.resources import Resources, resources

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    res = resources()
    checks: dict[str, Callable[[Resources], object]] = {
        "postgresql": _check_postgresql,
        "redis": _check_redis,
        "rabbitmq": _check_rabbitmq,
    }
    down = []
    for name, check in checks.items():
        try:
            check(res)
        except Exception as exc:
            log.warning("readiness: %s is down: %s", name, exc)
            down.append(name)
    if down:
        response = problem_response(
            503, "not-ready", "Service Unavailable", f"unreachable: {', '.join(down)}", down=down
        )
        response.headers["Retry-After"] = "5"
        return response
    return jsonify({"status": "ready", "checks": {name: "ok" for name in checks}})


def _check_postgresql(res: Resources) -> None:
    with res.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _check_redis(res: Resources) -> None:
    res.redis.ping()


def _check_rabbitmq(res: Resources) -> None:
    with Connection(res.settings.broker_url, connect_timeout=2) as conn:
        conn.connect()
