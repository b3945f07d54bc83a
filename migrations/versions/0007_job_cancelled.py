"""jobs may end `cancelled` (POST /api/v1/jobs/{id}/cancel)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 09:00:00

The status check gains 'cancelled', spelled as orders spell it. The new check
is added NOT VALID (a brief lock, no scan) and then validated, which scans
the table without blocking writers; the old check goes in the same
transaction, so the column is never unchecked.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WITH_CANCELLED = "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')"
_WITHOUT = "status IN ('queued', 'running', 'succeeded', 'failed')"


def _replace_check(condition: str) -> None:
    op.execute("ALTER TABLE jobs DROP CONSTRAINT ck_jobs_status_known")
    op.execute(f"ALTER TABLE jobs ADD CONSTRAINT ck_jobs_status_known CHECK ({condition}) NOT VALID")
    op.execute("ALTER TABLE jobs VALIDATE CONSTRAINT ck_jobs_status_known")


def upgrade() -> None:
    _replace_check(_WITH_CANCELLED)


def downgrade() -> None:
    # Cancelled jobs cannot be expressed without the new status: they become
    # failed, with a reason that says what happened.
    op.execute(
        "UPDATE jobs SET status = 'failed', "
        "error = '{\"code\": \"cancelled\", \"detail\": \"cancelled by the client\"}' "
        "WHERE status = 'cancelled'"
    )
    _replace_check(_WITHOUT)
