"""Flower's settings: Flower reads this file from its working folder at start.

The login comes from FLOWER_BASIC_AUTH in Flower's own environment (compose
gives it to the Flower container only) or, locally, from the owner-only file
.local/flower.env written by scripts/services.sh. Never from the command line
(any local user can read /proc/<pid>/cmdline) and never from orderly.env,
which every process of the app loads.
"""

from __future__ import annotations

import os
from pathlib import Path

import tornado.web
from dotenv import dotenv_values
from flower.views.monitor import Metrics

_STATE = Path(os.environ.get("ORDERLY_STATE_DIR", Path(__file__).resolve().parent / ".local"))
_login = os.environ.get("FLOWER_BASIC_AUTH") or dotenv_values(_STATE / "flower.env").get("FLOWER_BASIC_AUTH")
if not _login or ":" not in _login:
    raise SystemExit(f"Flower needs a login: FLOWER_BASIC_AUTH=user:password, or scripts/services.sh start ({_STATE})")
basic_auth = [_login]

# Flower serves /metrics without the login that guards its other pages (its
# Prometheus exposition: task names, worker names, queue figures). Require it
# there too; a Prometheus scrape sends the same basic-auth credentials.
Metrics.get = tornado.web.authenticated(Metrics.get)  # type: ignore[method-assign]
