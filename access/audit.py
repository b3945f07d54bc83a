"""Recording and reading the audit log (models/audit.py)."""

from __future__ import annotations

import getpass
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent


def operator() -> str:
    """Who runs a CLI command: the OS user (the audit log's actor)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def record(
    session: Session,
    action: str,
    actor: str,
    key_id: str | None = None,
    tenant_id: uuid.UUID | None = None,
    **detail: Any,
) -> None:
    """Add an event to the session; it is written with the session's commit."""
    session.add(AuditEvent(action=action, actor=actor, key_id=key_id, tenant_id=tenant_id, detail=detail))


def recent(session: Session, limit: int = 50, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query))
