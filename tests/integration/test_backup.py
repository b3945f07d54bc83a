"""The backup drill: `db backup` while commands are being applied, `db restore`
into a fresh database, and the invariants hold there: every order's events
form a valid path that ends at its status and version, every succeeded job
has exactly one event, every event names a job that succeeded."""

from __future__ import annotations

import subprocess
import threading
import uuid
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

import config
from models import Job, Order, OrderEvent
from tests.integration.invariants import check_orders
from tests.integration.stack import ROOT
from tests.integration.test_cli import flask_cli


def superuser_psql(sql: str) -> None:
    """As the cluster's superuser, over the local socket (the app's roles cannot create databases)."""
    socket_dir = (ROOT / ".local" / "postgres").resolve()
    port = config.admin_setting("TEST_MIGRATION_DATABASE_URL").rsplit(":", 1)[1].split("/")[0]  # type: ignore[union-attr]
    subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-h", str(socket_dir), "-p", port, "-v",
                    "ON_ERROR_STOP=1", "-q", "-c", sql], check=True, capture_output=True, timeout=60)  # fmt: skip


def test_a_backup_taken_under_load_restores_with_every_invariant(api, tmp_path: Path):
    stop = threading.Event()
    order_ids: list[str] = []

    def load() -> None:  # creates and pays orders until told to stop (bounded)
        for _ in range(400):
            if stop.is_set():
                return
            order_id = api.create_order()
            order_ids.append(order_id)
            api.submit_command(order_id, "pay")

    worker = threading.Thread(target=load)
    for _ in range(5):
        order_ids.append(api.create_order())
    worker.start()
    try:
        dump = tmp_path / "orderly.dump"
        backed_up = flask_cli("db", "backup", str(dump))
        assert backed_up.returncode == 0, backed_up.stderr
    finally:
        stop.set()
        worker.join(120)
    assert len(order_ids) > 5  # commands were flowing while pg_dump ran
    assert dump.stat().st_size > 10_000

    database = f"orderly_restore_{uuid.uuid4().hex[:8]}"
    superuser_psql(f"CREATE DATABASE {database} OWNER orderly_owner")
    try:
        restored = flask_cli("db", "restore", str(dump), "--into", database)
        assert restored.returncode == 0, restored.stderr
        owner_url = config.admin_setting("TEST_MIGRATION_DATABASE_URL")
        engine = create_engine(owner_url.rsplit("/", 1)[0] + f"/{database}")  # type: ignore[union-attr]
        with Session(engine) as session:
            mine = [uuid.UUID(o) for o in order_ids]
            present = set(session.scalars(select(Order.id).where(Order.id.in_(mine))))
            assert set(mine[:5]) <= present  # created before the backup began
            assert check_orders(session, present) == []
            events = session.execute(select(OrderEvent.job_id, Job.status).join(Job, Job.id == OrderEvent.job_id,
                                                                              isouter=True)).all()  # fmt: skip
            assert events and all(status == "succeeded" for _, status in events)
            succeeded_without_one_event = session.execute(text(
                "SELECT count(*) FROM jobs j WHERE j.status = 'succeeded' AND "
                "(SELECT count(*) FROM order_events e WHERE e.job_id = j.id) <> 1")).scalar()  # fmt: skip
            assert succeeded_without_one_event == 0
            # The app's role keeps its rights on the restored tables.
            granted = session.execute(text("SELECT has_table_privilege('orderly', 'jobs', 'INSERT')")).scalar()
            assert granted is True
        engine.dispose()
    finally:
        superuser_psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
