"""partial index for the per-tenant cap on unfinished jobs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 17:05:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_jobs_unfinished_tenant",
        "jobs",
        ["tenant_id"],
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_unfinished_tenant", table_name="jobs")
