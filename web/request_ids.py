"""X-Request-ID: taken from the client when plain and short, generated
otherwise, returned in every answer and carried by every log line of the
request (telemetry/logs.py). Commands store it with their job, so the
worker's, the relay's and the CLI's lines about that job carry it too."""

from __future__ import annotations

from flask import Flask, Response, g, request

from telemetry.logs import request_id_from, request_id_var

HEADER = "X-Request-ID"


def register(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_answer)
    app.teardown_request(_end)


def current() -> str | None:
    return request_id_var.get()


def _start() -> None:
    g.request_id_token = request_id_var.set(request_id_from(request.headers.get(HEADER)))


def _answer(response: Response) -> Response:
    request_id = request_id_var.get()
    if request_id is not None:
        response.headers[HEADER] = request_id
    return response


def _end(_exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        request_id_var.reset(token)
