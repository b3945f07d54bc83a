"""The app reaches PostgreSQL through PgBouncer in transaction pooling
(scripts/services.sh), and uses nothing that pooling breaks (docs/scaling.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

import config
from infra.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
# The same statement, many times on one client connection: psycopg prepares
# it on the server after `prepare_threshold` executions (5 by default).
REPEATS = 8


def alternate(engine_a, engine_b) -> list[int]:
    """Transactions of `a`, every other one while `b` holds the server
    connection `a` used last, so that `a` moves between server connections.
    The backend pids `a` ran on."""
    pids = []
    statement = text("SELECT pg_backend_pid() + 0 * :n")
    with engine_a.connect() as a, engine_b.connect() as b:
        for _ in range(REPEATS):
            with a.begin():
                pids.append(a.execute(statement, {"n": 1}).scalar_one())
            with b.begin():
                b.execute(text("SELECT 1"))  # takes the server connection `a` just gave back
                with a.begin():
                    pids.append(a.execute(statement, {"n": 1}).scalar_one())
    return pids


def test_client_connections_share_server_connections():
    engine = make_engine(config.current().database_url, pool_size=2)
    try:
        with engine.connect() as first, engine.connect() as second:
            with first.begin():
                used_by_first = first.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with second.begin():
                used_by_second = second.execute(text("SELECT pg_backend_pid()")).scalar_one()
    finally:
        engine.dispose()
    # Directly connected, two client connections are two backends; through a
    # transaction pooler the second borrows the server connection the first gave back.
    assert used_by_second == used_by_first


def test_the_app_never_prepares_statements_on_the_server():
    url = config.current().database_url
    app_engine, other = make_engine(url, pool_size=1), make_engine(url, pool_size=1)
    try:
        pids = alternate(app_engine, other)
    finally:
        app_engine.dispose()
        other.dispose()
    assert len(set(pids)) > 1, "the test did not move the client between server connections"


def test_prepared_statements_break_under_transaction_pooling():
    """What the app's `prepare_threshold=None` avoids (infra/db.py)."""
    url = config.current().database_url
    preparing = create_engine(url, connect_args={"prepare_threshold": 0}, pool_size=1)
    other = make_engine(url, pool_size=1)
    try:
        with pytest.raises(DBAPIError, match=r"prepared statement .* (does not exist|already exists)"):
            alternate(preparing, other)
    finally:
        preparing.dispose()
        other.dispose()


SESSION_STATE = re.compile(
    "|".join([
        r"pg_(try_)?advisory_lock\(",  # session locks (the _xact_ ones end with the transaction)
        r"\b(UN)?LISTEN\b", r"\bPREPARE\b", r"WITH HOLD",
        r"\bSET SESSION\b", r"[\"']\s*SET (?!LOCAL)",  # a statement that is a SET; SET LOCAL ends with the transaction
    ])
)  # fmt: skip


def test_no_code_relies_on_session_state():
    """Under transaction pooling a session lasts one transaction: session
    advisory locks, LISTEN, PREPARE, cursors WITH HOLD and plain SET would
    land on a server connection another client gets next."""
    sources = [
        path
        for folder in ("access", "infra", "models", "orders", "stream", "webhooks", "web", "workers")
        for path in (ROOT / folder).rglob("*.py")
    ]
    found = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in sources
             for match in SESSION_STATE.finditer(path.read_text())]  # fmt: skip
    assert found == []
