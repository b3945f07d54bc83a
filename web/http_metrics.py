"""Requests by route template and status, with their latency (telemetry/metrics.py)."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from telemetry import metrics


def register(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_count)


def _start() -> None:
    g.started = time.perf_counter()


def _count(response: Response) -> Response:
    started = g.pop("started", None)
    route = metrics.route_label(request.url_rule.rule if request.url_rule else None)
    metrics.HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    if started is not None:
        metrics.HTTP_LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
    return response
