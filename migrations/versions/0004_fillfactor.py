"""room on each page for HOT updates of jobs and orders

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 00:10:00

Every job is updated when a worker starts it (attempts, times: no indexed
column) and every order on each applied command (status, version, times: no
indexed column). With free space left on the page, PostgreSQL writes such an
update as a heap-only tuple (HOT) and touches no index. Applies to pages
written from now on; `VACUUM FULL` would repack older ones.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE jobs SET (fillfactor = 80)")
    op.execute("ALTER TABLE orders SET (fillfactor = 80)")


def downgrade() -> None:
    op.execute("ALTER TABLE jobs RESET (fillfactor)")
    op.execute("ALTER TABLE orders RESET (fillfactor)")
