"""gunicorn's own logs in Orderly's format (gunicorn.conf.py: logger_class).

With LOG_FORMAT=json, gunicorn's error log and its access log are JSON
objects, one per line, like every other line of the API; an access line has
the request id the answer carried. In text mode the access log keeps the
format of gunicorn.conf.py (which ends with the request id).
"""

from __future__ import annotations

import traceback
from typing import Any

from gunicorn import glogging

from telemetry import logs


class OrderlyLogger(glogging.Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if logs.json_logs():
            for handler in (*self.error_log.handlers, *self.access_log.handlers):
                logs.install(handler)

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        if not logs.json_logs():
            super().access(resp, req, environ, request_time)
            return
        if not self.access_log_enabled:
            return
        atoms = self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time))
        # The same fields as the text format: no query string, no user, no
        # Referer (docs/security.md: nothing a client could put a key in).
        fields = {
            "remote": atoms["h"],
            "method": atoms["m"],
            "path": atoms["U"],
            "status": int(atoms["s"]),
            "bytes": atoms["B"],
            "duration_ms": int(atoms["M"]),
            "user_agent": atoms["a"],
            "request_id": atoms["{x-request-id}o"],
        }
        try:
            self.access_log.info("request", extra=fields)
        except Exception:
            self.error(traceback.format_exc())
