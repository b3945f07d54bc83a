"""gunicorn's own error answers as RFC 9457 problem+json, like the app's.

gunicorn answers a request it cannot parse (a request line or header too
long, a malformed header, a bad method) itself, before the app sees it, with
an HTML page. `install()` (called in each worker by gunicorn.conf.py) makes
those answers problem+json too. The detail is gunicorn's message; it may
quote what the client sent, which goes back to that client only.
"""

from __future__ import annotations

import json
import socket

from gunicorn import util

from web.problems import PROBLEM_BASE

SLUGS = {414: "uri-too-long", 431: "request-header-fields-too-large"}


def write_problem(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    body = json.dumps(
        {"type": PROBLEM_BASE + SLUGS.get(status_int, "malformed-request"), "title": reason,
         "status": status_int, "detail": mesg}
    ).encode()  # fmt: skip
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install() -> None:
    util.write_error = write_problem
