"""Continuous training: loop iterations, the per-model iteration lock and the loop's state.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-18
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loop_iterations",
        sa.Column("iteration_id", sa.String(32), nullable=False),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("decision", sa.String(32)),
        sa.Column("reason", sa.Text),
        sa.Column("model_version", sa.Integer),
        sa.Column("data_version", sa.String(300)),
        sa.Column("run_id", sa.String(32)),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger),
        sa.PrimaryKeyConstraint("iteration_id", name="pk_loop_iterations"),
    )
    op.create_index(
        "ix_loop_iterations_model_name_start_time",
        "loop_iterations",
        ["model_name", "start_time"],
    )
    op.create_table(
        "loop_locks",
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("holder", sa.String(32), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("acquire_time", sa.BigInteger, nullable=False),
        sa.Column("heartbeat_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("model_name", name="pk_loop_locks"),
    )
    op.create_table(
        "loop_state",
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("update_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("model_name", name="pk_loop_state"),
    )


def downgrade() -> None:
    op.drop_table("loop_state")
    op.drop_table("loop_locks")
    op.drop_table("loop_iterations")
