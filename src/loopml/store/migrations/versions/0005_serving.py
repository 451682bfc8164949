"""Serving: prediction log segments and feedback labels.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "prediction_segments",
        sa.Column("pk", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("segment_id", sa.String(32), nullable=False),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("model_versions", sa.Text, nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("blob_digest", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("profile", sa.Text),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_prediction_segments"),
        sa.UniqueConstraint("segment_id", name="uq_prediction_segments_segment_id"),
    )
    op.create_index(
        "ix_prediction_segments_model_name_end_time",
        "prediction_segments",
        ["model_name", "end_time"],
    )
    op.create_table(
        "feedback",
        sa.Column("prediction_id", sa.String(32), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("prediction_id", name="pk_feedback"),
    )


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("prediction_segments")
