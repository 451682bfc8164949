"""Pipelines: the step cache and the record of every step of every pipeline run.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "step_cache",
        sa.Column("cache_key", sa.String(64), nullable=False),
        sa.Column("step_name", sa.String(256), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("outputs", sa.Text, nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("cache_key", name="pk_step_cache"),
    )
    op.create_table(
        "pipeline_steps",
        sa.Column("pk", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("pipeline_run_id", sa.String(32), nullable=False),
        sa.Column("pipeline", sa.String(256), nullable=False),
        sa.Column("step_name", sa.String(256), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cached", sa.Boolean, nullable=False),
        sa.Column("cache_key", sa.String(64)),
        sa.Column("step_run_id", sa.String(32)),
        sa.Column("source_run_id", sa.String(32)),
        sa.Column("reason", sa.Text),
        sa.Column("key_parts", sa.Text),
        sa.Column("outputs", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("start_time", sa.BigInteger),
        sa.Column("end_time", sa.BigInteger),
        sa.PrimaryKeyConstraint("pk", name="pk_pipeline_steps"),
        sa.UniqueConstraint(
            "pipeline_run_id", "step_name", name="uq_pipeline_steps_pipeline_run_id_step_name"
        ),
    )
    op.create_index(
        "ix_pipeline_steps_pipeline_step_name_pk",
        "pipeline_steps",
        ["pipeline", "step_name", "pk"],
    )


def downgrade() -> None:
    op.drop_table("pipeline_steps")
    op.drop_table("step_cache")
