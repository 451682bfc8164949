"""Experiments, runs, params, tags, metrics, latest metrics and artifact manifests.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Double = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", name="pk_experiments"),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
    )
    op.create_table(
        "runs",
        sa.Column("pk", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("experiment_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger),
        sa.Column("deleted_time", sa.BigInteger),
        sa.Column("parent_run_id", sa.String(32)),
        sa.Column("user", sa.String(256)),
        sa.Column("host", sa.String(256)),
        sa.Column("pid", sa.Integer),
        sa.Column("heartbeat_time", sa.BigInteger),
        sa.Column("entry_point", sa.Text),
        sa.Column("command", sa.Text),
        sa.Column("git_commit", sa.String(64)),
        sa.Column("git_branch", sa.String(256)),
        sa.Column("git_dirty", sa.Boolean),
        sa.Column("python_version", sa.String(64)),
        sa.Column("packages", sa.Text),
        sa.PrimaryKeyConstraint("pk", name="pk_runs"),
        sa.UniqueConstraint("run_id", name="uq_runs_run_id"),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            name="fk_runs_experiment_id_experiments",
        ),
    )
    op.create_index("ix_runs_experiment_id_start_time", "runs", ["experiment_id", "start_time"])
    op.create_index("ix_runs_status", "runs", ["status"])

    for table in ("params", "tags"):
        op.create_table(
            table,
            sa.Column("run_pk", BigIntKey, nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.Text, nullable=False),
            sa.PrimaryKeyConstraint("run_pk", "key", name=f"pk_{table}"),
            sa.ForeignKeyConstraint(
                ["run_pk"], ["runs.pk"], ondelete="CASCADE", name=f"fk_{table}_run_pk_runs"
            ),
        )

    op.create_table(
        "metrics",
        sa.Column("run_pk", BigIntKey, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("value", Double),
        sa.ForeignKeyConstraint(
            ["run_pk"], ["runs.pk"], ondelete="CASCADE", name="fk_metrics_run_pk_runs"
        ),
    )
    op.create_index("ix_metrics_run_pk_key_step", "metrics", ["run_pk", "key", "step"])

    op.create_table(
        "latest_metrics",
        sa.Column("run_pk", BigIntKey, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("value", Double),
        sa.PrimaryKeyConstraint("run_pk", "key", name="pk_latest_metrics"),
        sa.ForeignKeyConstraint(
            ["run_pk"], ["runs.pk"], ondelete="CASCADE", name="fk_latest_metrics_run_pk_runs"
        ),
    )
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value"])

    op.create_table(
        "artifacts",
        sa.Column("run_pk", BigIntKey, nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_pk", "path", name="pk_artifacts"),
        sa.ForeignKeyConstraint(
            ["run_pk"], ["runs.pk"], ondelete="CASCADE", name="fk_artifacts_run_pk_runs"
        ),
    )
    op.create_index("ix_artifacts_digest", "artifacts", ["digest"])


def downgrade() -> None:
    for table in ("artifacts", "latest_metrics", "metrics", "tags", "params", "runs"):
        op.drop_table(table)
    op.drop_table("experiments")
