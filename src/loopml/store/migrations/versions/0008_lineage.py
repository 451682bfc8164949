"""Lineage: find the model versions and evaluations of a data version by index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-20
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_model_versions_data_version", "model_versions", ["data_version"])
    op.create_index("ix_evaluations_data_version", "evaluations", ["data_version"])


def downgrade() -> None:
    op.drop_index("ix_evaluations_data_version", table_name="evaluations")
    op.drop_index("ix_model_versions_data_version", table_name="model_versions")
