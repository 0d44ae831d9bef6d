"""background jobs: those that failed for good, and the last run of each periodic one

``job_failure`` holds a job that failed after its retries (its task, its ids, the error, when,
the request that asked for it) until an admin runs it again or dismisses it (/admin/jobs);
``job_run`` the last run of each periodic job (when, and how it ended).

Revision ID: 9a1b2c3d4e51
Revises: a1c3e5f70915
Create Date: 2026-12-19 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision: str = "9a1b2c3d4e51"
down_revision: str | None = "a1c3e5f70915"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('error_type', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('retried_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dismissed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_failure'))
    )
    with op.batch_alter_table('job_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_failure_failed_at'), ['failed_at'], unique=False)

    op.create_table('job_run',
    sa.Column('task', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('slot', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.PrimaryKeyConstraint('task', name=op.f('pk_job_run'))
    )


def downgrade() -> None:
    op.drop_table('job_run')
    with op.batch_alter_table('job_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_failure_failed_at'))

    op.drop_table('job_failure')
