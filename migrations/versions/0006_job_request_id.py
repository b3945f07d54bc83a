"""the request id of the POST that accepted each job

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 06:00:00

Stored with the job so that the worker's, the relay's and the CLI's log lines
about a job carry the X-Request-ID of the request that accepted it (one grep
follows a command). Nullable, no default: adding it rewrites nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("request_id", sa.String(128), nullable=True))


def downgrade() -> None:
    op.drop_column("jobs", "request_id")
