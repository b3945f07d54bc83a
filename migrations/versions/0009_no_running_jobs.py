"""jobs are never `running`: narrow the status check and the unfinished-jobs index

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:00:00

Since the worker finishes a job at the commit that applies it, no job is
written `running`. A row an older version left so goes back to `queued`
(the relay republishes it; applying it is idempotent). The status check
is replaced NOT VALID, then validated (no long lock). The partial index
the per-tenant cap and the relay use is rebuilt for `status = 'queued'`,
concurrently, so writers are never blocked.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WITHOUT_RUNNING = "status IN ('queued', 'succeeded', 'failed', 'cancelled')"
_WITH_RUNNING = "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')"


def _replace_check(condition: str) -> None:
    op.execute("ALTER TABLE jobs DROP CONSTRAINT ck_jobs_status_known")
    op.execute(f"ALTER TABLE jobs ADD CONSTRAINT ck_jobs_status_known CHECK ({condition}) NOT VALID")
    op.execute("ALTER TABLE jobs VALIDATE CONSTRAINT ck_jobs_status_known")


def upgrade() -> None:
    op.execute("UPDATE jobs SET status = 'queued' WHERE status = 'running'")
    _replace_check(_WITHOUT_RUNNING)
    with op.get_context().autocommit_block():
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_jobs_queued_tenant ON jobs (tenant_id) WHERE status = 'queued'")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_jobs_unfinished_tenant")


def downgrade() -> None:
    _replace_check(_WITH_RUNNING)
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_jobs_unfinished_tenant ON jobs (tenant_id) "
            "WHERE status IN ('queued', 'running')"
        )
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_jobs_queued_tenant")
