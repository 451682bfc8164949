"""Logged models, the registry (models, versions, aliases, gates), events and evaluations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(32), nullable=False),
        sa.Column("run_pk", BigIntKey, nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("flavor", sa.String(32), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("executable", sa.Boolean, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("files", sa.Text, nullable=False),
        sa.Column("meta", sa.Text, nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("model_id", name="pk_logged_models"),
        sa.UniqueConstraint("run_pk", "path", name="uq_logged_models_run_pk_path"),
        sa.ForeignKeyConstraint(
            ["run_pk"], ["runs.pk"], ondelete="CASCADE", name="fk_logged_models_run_pk_runs"
        ),
    )
    op.create_table(
        "registered_models",
        sa.Column("model_pk", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.Column("last_version", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("model_pk", name="pk_registered_models"),
        sa.UniqueConstraint("name", name="uq_registered_models_name"),
    )
    op.create_table(
        "model_versions",
        sa.Column("pk", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("model_pk", BigIntKey, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("model_id", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("files", sa.Text, nullable=False),
        sa.Column("flavor", sa.String(32), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("executable", sa.Boolean, nullable=False),
        sa.Column("signature", sa.Text),
        sa.Column("task", sa.String(32)),
        sa.Column("target", sa.String(256)),
        sa.Column("data_version", sa.String(160)),
        sa.Column("git_commit", sa.String(64)),
        sa.Column("evaluation_id", sa.String(32)),
        sa.Column("description", sa.Text),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_model_versions"),
        sa.UniqueConstraint("model_pk", "version", name="uq_model_versions_model_pk_version"),
        sa.ForeignKeyConstraint(
            ["model_pk"],
            ["registered_models.model_pk"],
            name="fk_model_versions_model_pk_registered_models",
        ),
    )
    op.create_index("ix_model_versions_digest", "model_versions", ["digest"])
    op.create_table(
        "model_aliases",
        sa.Column("model_pk", BigIntKey, nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("version_pk", BigIntKey, nullable=False),
        sa.PrimaryKeyConstraint("model_pk", "alias", name="pk_model_aliases"),
        sa.ForeignKeyConstraint(
            ["model_pk"],
            ["registered_models.model_pk"],
            name="fk_model_aliases_model_pk_registered_models",
        ),
        sa.ForeignKeyConstraint(
            ["version_pk"], ["model_versions.pk"], name="fk_model_aliases_version_pk_model_versions"
        ),
    )
    op.create_table(
        "model_gates",
        sa.Column("model_pk", BigIntKey, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("gates", sa.Text, nullable=False),
        sa.Column("actor", sa.String(256)),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("model_pk", "revision", name="pk_model_gates"),
        sa.ForeignKeyConstraint(
            ["model_pk"],
            ["registered_models.model_pk"],
            name="fk_model_gates_model_pk_registered_models",
        ),
    )
    op.create_table(
        "events",
        sa.Column("pk", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("actor", sa.String(256)),
        sa.Column("reason", sa.Text),
        sa.Column("data", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_events"),
        sa.UniqueConstraint("event_id", name="uq_events_event_id"),
    )
    op.create_index("ix_events_subject_pk", "events", ["subject", "pk"])
    op.create_table(
        "evaluations",
        sa.Column("pk", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("evaluation_id", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(32)),
        sa.Column("model_uri", sa.Text, nullable=False),
        sa.Column("model_digest", sa.String(64)),
        sa.Column("data_version", sa.String(160)),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("target", sa.String(256), nullable=False),
        sa.Column("n_rows", sa.BigInteger, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_evaluations"),
        sa.UniqueConstraint("evaluation_id", name="uq_evaluations_evaluation_id"),
    )
    op.create_index(
        "ix_evaluations_model_digest_data_version",
        "evaluations",
        ["model_digest", "data_version"],
    )
    op.create_index("ix_evaluations_run_id", "evaluations", ["run_id"])


def downgrade() -> None:
    for table in (
        "evaluations",
        "events",
        "model_gates",
        "model_aliases",
        "model_versions",
        "registered_models",
        "logged_models",
    ):
        op.drop_table(table)
