"""Engine and session factory."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


def make_engine(database_url: str, *, pool_size: int = 5, application_name: str = "orderly") -> Engine:
    """An engine that survives a database restart and never waits forever.

    `application_name` shows in pg_stat_activity: which process holds a
    connection (orderly-api, orderly-worker, orderly-relay).
    """
    return create_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=5,
        pool_timeout=5,
        # A connection that died with a PostgreSQL restart is replaced, not handed out.
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": 5,
            "application_name": application_name,
            # Also set on the role by scripts/services.sh; repeated here so a
            # deployment with another role still gets bounded waits.
            "options": "-c statement_timeout=15000 -c lock_timeout=5000 -c idle_in_transaction_session_timeout=60000",
        },
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
