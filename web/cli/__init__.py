"""The operator CLI, one entry point: `flask --app web COMMAND` (or `./orderly COMMAND`).

Every command has --help; reads print a table, or JSON with --json; an error
exits non-zero with one clear line.
"""

from __future__ import annotations

from flask import Flask

from web.cli import events, jobs, keys, ops


def register_cli(app: Flask) -> None:
    keys.register(app)
    jobs.register(app)
    ops.register(app)
    events.register(app)
