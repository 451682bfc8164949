"""Monitoring: monitors, their windows, and feedback found by arrival time.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-11
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("alias", sa.String(128), nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("reference", sa.Text),
        sa.Column("watermark", sa.String(32)),
        sa.Column("feedback_watermark", sa.BigInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("update_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_monitors"),
    )
    op.create_index("ix_monitors_model_name", "monitors", ["model_name"])
    op.create_table(
        "monitor_windows",
        sa.Column("pk", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("monitor_name", sa.String(128), nullable=False),
        sa.Column("window_key", sa.String(64), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("update_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_monitor_windows"),
        sa.ForeignKeyConstraint(
            ["monitor_name"],
            ["monitors.name"],
            name="fk_monitor_windows_monitor_name_monitors",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "monitor_name", "window_key", name="uq_monitor_windows_monitor_name_window_key"
        ),
    )
    op.create_index(
        "ix_monitor_windows_monitor_name_start_time",
        "monitor_windows",
        ["monitor_name", "start_time"],
    )
    op.create_index("ix_feedback_time", "feedback", ["time"])


def downgrade() -> None:
    op.drop_index("ix_feedback_time", table_name="feedback")
    op.drop_table("monitor_windows")
    op.drop_table("monitors")
