"""Datasets, their versions, aliases, the blobs each version needs, and run inputs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("dataset_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("pinned_schema", sa.Text),
        sa.PrimaryKeyConstraint("dataset_id", name="pk_datasets"),
        sa.UniqueConstraint("name", name="uq_datasets_name"),
    )
    op.create_table(
        "dataset_versions",
        sa.Column("pk", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("version_id", sa.String(32), nullable=False),
        sa.Column("dataset_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("blob_digest", sa.String(64), nullable=False),
        sa.Column("rows", sa.BigInteger),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("num_files", sa.Integer, nullable=False),
        sa.Column("schema", sa.Text),
        sa.Column("profile", sa.Text),
        sa.Column("description", sa.Text),
        sa.Column("tags", sa.Text),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_dataset_versions"),
        sa.UniqueConstraint("version_id", name="uq_dataset_versions_version_id"),
        sa.UniqueConstraint("dataset_id", "version", name="uq_dataset_versions_dataset_id_version"),
        sa.UniqueConstraint("dataset_id", "digest", name="uq_dataset_versions_dataset_id_digest"),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.dataset_id"], name="fk_dataset_versions_dataset_id_datasets"
        ),
    )
    op.create_table(
        "dataset_blobs",
        sa.Column("version_pk", BigIntKey, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("version_pk", "digest", name="pk_dataset_blobs"),
        sa.ForeignKeyConstraint(
            ["version_pk"],
            ["dataset_versions.pk"],
            name="fk_dataset_blobs_version_pk_dataset_versions",
        ),
    )
    op.create_index("ix_dataset_blobs_digest", "dataset_blobs", ["digest"])
    op.create_table(
        "dataset_aliases",
        sa.Column("dataset_id", sa.String(32), nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("version_pk", BigIntKey, nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", "alias", name="pk_dataset_aliases"),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.dataset_id"], name="fk_dataset_aliases_dataset_id_datasets"
        ),
        sa.ForeignKeyConstraint(
            ["version_pk"],
            ["dataset_versions.pk"],
            name="fk_dataset_aliases_version_pk_dataset_versions",
        ),
    )
    op.create_table(
        "run_inputs",
        sa.Column("run_pk", BigIntKey, nullable=False),
        sa.Column("version_pk", BigIntKey, nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("run_pk", "version_pk", "role", name="pk_run_inputs"),
        sa.ForeignKeyConstraint(
            ["run_pk"], ["runs.pk"], ondelete="CASCADE", name="fk_run_inputs_run_pk_runs"
        ),
        sa.ForeignKeyConstraint(
            ["version_pk"],
            ["dataset_versions.pk"],
            name="fk_run_inputs_version_pk_dataset_versions",
        ),
    )
    op.create_index("ix_run_inputs_version_pk", "run_inputs", ["version_pk"])


def downgrade() -> None:
    for table in ("run_inputs", "dataset_aliases", "dataset_blobs", "dataset_versions", "datasets"):
        op.drop_table(table)
