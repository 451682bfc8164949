"""Monitoring: find a model's prediction segments by when they were registered.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-21
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_prediction_segments_model_name_creation_time",
        "prediction_segments",
        ["model_name", "creation_time"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_prediction_segments_model_name_creation_time", table_name="prediction_segments"
    )
