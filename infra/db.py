"""Engine and session factories."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

# A pooled connection idle for longer than this is pinged before it is handed
# out; one in steady use is not (see _ping_if_idle).
IDLE_PING_SECONDS = 1.0


def make_engine(database_url: str, *, pool_size: int = 5, application_name: str = "orderly") -> Engine:
    """An engine that survives a database restart and never waits forever.

    `application_name` shows in pg_stat_activity: which process holds a
    connection (orderly-api, orderly-worker, orderly-relay).
    """
    engine = create_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=5,
        pool_timeout=5,
        connect_args={
            "connect_timeout": 5,
            # No server-side prepared statements: behind PgBouncer in
            # transaction pooling (scripts/services.sh), the next transaction
            # may run on another server connection, which never saw them
            # ("prepared statement _pg3_0 does not exist"; test_pgbouncer.py).
            "prepare_threshold": None,
            "application_name": application_name,
            # Also set on the role by scripts/services.sh; repeated here so a
            # deployment with another role still gets bounded waits.
            "options": "-c statement_timeout=15000 -c lock_timeout=5000 -c idle_in_transaction_session_timeout=60000",
        },
    )
    _ping_if_idle(engine)
    return engine


def _ping_if_idle(engine: Engine) -> None:
    """Replace dead connections without a round trip on every checkout.

    `pool_pre_ping` would cost a `SELECT 1` per request. A connection used
    less than a second ago is handed out as it is: a restart of PostgreSQL
    takes longer than that, and requests that fail meanwhile invalidate the
    whole pool (SQLAlchemy does so on any disconnect error). A connection idle
    for longer is pinged, and a dead one replaced (DisconnectionError makes the
    pool reconnect), so the first request after an outage does not fail.
    """

    @event.listens_for(engine, "checkin")
    def stamp(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"a pooled connection was dead: {error}") from error


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def make_autocommit_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose every statement commits on its own: no BEGIN, COMMIT or
    ROLLBACK round trips. Only for use cases of a single statement (one read,
    or one write that is atomic by itself); the pool is the engine's."""
    return sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
