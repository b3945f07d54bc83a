"""API keys that expire, and the audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 03:00:00

- api_keys.expires_at: a key stops working at that time (rotation sets it on
  the old key: both keys work during the overlap); index on created_at for
  the API's incremental load of key ids (access/key_verifier.py).
- audit_events: key creation, rotation and revocation, and bursts of failed
  authentication. Append-only for the app's role: it may insert and read,
  never change or delete a record.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_api_keys_created_at", "api_keys", ["created_at"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("detail", postgresql.JSONB(), server_default="{}", nullable=False),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'orderly') THEN "
        "REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM orderly; END IF; END $$"
    )


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_index("ix_api_keys_created_at", "api_keys")
    op.drop_column("api_keys", "expires_at")
