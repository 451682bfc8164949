"""The SQL schema as SQLAlchemy Core tables; private to the store (Alembic migrations mirror it).

Child tables reference runs by an integer key (``runs.pk``) rather than the public 32-character id:
metric rows are the bulk of the database and a small integer keeps their index cheap to maintain.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only aliases the rowid (cheap autoincrement) for a column typed exactly INTEGER.
BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Double = sa.Float(precision=53)

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("experiment_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False, unique=True),
    sa.Column("lifecycle_stage", sa.String(16), nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_update_time", sa.BigInteger, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("pk", BigIntKey, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(32), nullable=False, unique=True),
    sa.Column(
        "experiment_id",
        sa.String(32),
        sa.ForeignKey("experiments.experiment_id"),
        nullable=False,
    ),
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
    sa.Index("ix_runs_experiment_id_start_time", "experiment_id", "start_time"),
    sa.Index("ix_runs_status", "status"),
)

params = sa.Table(
    "params",
    metadata,
    sa.Column("run_pk", BigIntKey, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("run_pk", BigIntKey, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# NaN is stored as NULL: SQLite cannot store NaN, and PostgreSQL would sort it above every number.
metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("run_pk", BigIntKey, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
    sa.Column("key", sa.String(250), nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("value", Double),
    sa.Index("ix_metrics_run_pk_key_step", "run_pk", "key", "step"),
)

latest_metrics = sa.Table(
    "latest_metrics",
    metadata,
    sa.Column("run_pk", BigIntKey, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("value", Double),
    sa.Index("ix_latest_metrics_key_value", "key", "value"),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("run_pk", BigIntKey, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("path", sa.String(1024), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_time", sa.BigInteger, nullable=False),
    sa.Index("ix_artifacts_digest", "digest"),
)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("dataset_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("description", sa.Text),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("pinned_schema", sa.Text),
)

dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    sa.Column("pk", BigIntKey, primary_key=True, autoincrement=True),
    sa.Column("version_id", sa.String(32), nullable=False, unique=True),
    sa.Column("dataset_id", sa.String(32), sa.ForeignKey("datasets.dataset_id"), nullable=False),
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
    sa.UniqueConstraint("dataset_id", "version", name="uq_dataset_versions_dataset_id_version"),
    sa.UniqueConstraint("dataset_id", "digest", name="uq_dataset_versions_dataset_id_digest"),
)

# Every blob a version needs (its Parquet file, or manifest and files): ``gc`` keeps them.
dataset_blobs = sa.Table(
    "dataset_blobs",
    metadata,
    sa.Column("version_pk", BigIntKey, sa.ForeignKey("dataset_versions.pk"), primary_key=True),
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Index("ix_dataset_blobs_digest", "digest"),
)

dataset_aliases = sa.Table(
    "dataset_aliases",
    metadata,
    sa.Column("dataset_id", sa.String(32), sa.ForeignKey("datasets.dataset_id"), primary_key=True),
    sa.Column("alias", sa.String(64), primary_key=True),
    sa.Column("version_pk", BigIntKey, sa.ForeignKey("dataset_versions.pk"), nullable=False),
)

run_inputs = sa.Table(
    "run_inputs",
    metadata,
    sa.Column("run_pk", BigIntKey, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("version_pk", BigIntKey, sa.ForeignKey("dataset_versions.pk"), primary_key=True),
    sa.Column("role", sa.String(64), primary_key=True),
    sa.Index("ix_run_inputs_version_pk", "version_pk"),
)

# A model as ``log_model`` stored it in a run; ``files`` is its manifest (path → digest) as JSON.
logged_models = sa.Table(
    "logged_models",
    metadata,
    sa.Column("model_id", sa.String(32), primary_key=True),
    sa.Column("run_pk", BigIntKey, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
    sa.Column("path", sa.String(1024), nullable=False),
    sa.Column("flavor", sa.String(32), nullable=False),
    sa.Column("format", sa.String(32), nullable=False),
    sa.Column("executable", sa.Boolean, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("files", sa.Text, nullable=False),
    sa.Column("meta", sa.Text, nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("run_pk", "path", name="uq_logged_models_run_pk_path"),
)

registered_models = sa.Table(
    "registered_models",
    metadata,
    sa.Column("model_pk", BigIntKey, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("description", sa.Text),
    sa.Column("tags", sa.Text, nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_updated_time", sa.BigInteger, nullable=False),
    # The highest number ever given: deleting the newest version never frees its number.
    sa.Column("last_version", sa.Integer, nullable=False, server_default="0"),
)

# A version copies its manifest from the logged model, so it stays loadable (and its blobs stay
# referenced) even after the run that logged it is purged.
model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("pk", BigIntKey, primary_key=True, autoincrement=True),
    sa.Column("model_pk", BigIntKey, sa.ForeignKey("registered_models.model_pk"), nullable=False),
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
    sa.UniqueConstraint("model_pk", "version", name="uq_model_versions_model_pk_version"),
    sa.Index("ix_model_versions_digest", "digest"),
    sa.Index("ix_model_versions_data_version", "data_version"),
)

model_aliases = sa.Table(
    "model_aliases",
    metadata,
    sa.Column("model_pk", BigIntKey, sa.ForeignKey("registered_models.model_pk"), primary_key=True),
    sa.Column("alias", sa.String(64), primary_key=True),
    sa.Column("version_pk", BigIntKey, sa.ForeignKey("model_versions.pk"), nullable=False),
)

model_gates = sa.Table(
    "model_gates",
    metadata,
    sa.Column("model_pk", BigIntKey, sa.ForeignKey("registered_models.model_pk"), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("gates", sa.Text, nullable=False),
    sa.Column("actor", sa.String(256)),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
)

# Decisions and their evidence (promotions, refusals, rollbacks, gate changes; later alerts and
# retraining triggers). Never updated, never deleted with their subject.
events = sa.Table(
    "events",
    metadata,
    sa.Column("pk", BigIntKey, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(32), nullable=False, unique=True),
    sa.Column("time", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(256), nullable=False),
    sa.Column("actor", sa.String(256)),
    sa.Column("reason", sa.Text),
    sa.Column("data", sa.Text, nullable=False),
    sa.Index("ix_events_subject_pk", "subject", "pk"),
)

evaluations = sa.Table(
    "evaluations",
    metadata,
    sa.Column("pk", BigIntKey, primary_key=True, autoincrement=True),
    sa.Column("evaluation_id", sa.String(32), nullable=False, unique=True),
    sa.Column("run_id", sa.String(32)),
    sa.Column("model_uri", sa.Text, nullable=False),
    sa.Column("model_digest", sa.String(64)),
    sa.Column("data_version", sa.String(160)),
    sa.Column("task", sa.String(32), nullable=False),
    sa.Column("target", sa.String(256), nullable=False),
    sa.Column("n_rows", sa.BigInteger, nullable=False),
    sa.Column("result", sa.Text, nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Index("ix_evaluations_model_digest_data_version", "model_digest", "data_version"),
    sa.Index("ix_evaluations_run_id", "run_id"),
    sa.Index("ix_evaluations_data_version", "data_version"),
)

# A step's outputs by cache key: the digest of its source, params, inputs and materializers.
step_cache = sa.Table(
    "step_cache",
    metadata,
    sa.Column("cache_key", sa.String(64), primary_key=True),
    sa.Column("step_name", sa.String(256), nullable=False),
    sa.Column("run_id", sa.String(32), nullable=False),
    sa.Column("outputs", sa.Text, nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
)

# One row per step of a pipeline run: what happened to it and why (``loopml pipeline explain``).
pipeline_steps = sa.Table(
    "pipeline_steps",
    metadata,
    sa.Column("pk", BigIntKey, primary_key=True, autoincrement=True),
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
    sa.UniqueConstraint(
        "pipeline_run_id", "step_name", name="uq_pipeline_steps_pipeline_run_id_step_name"
    ),
    sa.Index("ix_pipeline_steps_pipeline_step_name_pk", "pipeline", "step_name", "pk"),
)

# One Parquet file of logged predictions per row; ``pk`` is arrival order, the watermark monitors
# read after. ``model_versions`` is a JSON list; ``profile`` the segment's mergeable profile.
prediction_segments = sa.Table(
    "prediction_segments",
    metadata,
    sa.Column("pk", BigIntKey, primary_key=True, autoincrement=True),
    sa.Column("segment_id", sa.String(32), nullable=False, unique=True),
    sa.Column("model_name", sa.String(128), nullable=False),
    sa.Column("model_versions", sa.Text, nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=False),
    sa.Column("end_time", sa.BigInteger, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("blob_digest", sa.String(64), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("profile", sa.Text),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Index("ix_prediction_segments_model_name_end_time", "model_name", "end_time"),
    sa.Index("ix_prediction_segments_model_name_creation_time", "model_name", "creation_time"),
)

# The true outcome of a logged prediction, as JSON; a later label replaces an earlier one.
feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("prediction_id", sa.String(32), primary_key=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("time", sa.BigInteger, nullable=False, index=True),
)

# A monitor: which model (and alias) it watches, its settings, its reference bundle and how far
# it has read the prediction log (``watermark``: the last segment consumed; ``feedback_watermark``:
# the arrival time of the last label taken into account; ``state``: what a run hands the next,
# such as the open row window). ``revision`` makes a run's commit a
# compare-and-set, so two runs at once never consume one segment twice.
monitors = sa.Table(
    "monitors",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("model_name", sa.String(128), nullable=False, index=True),
    sa.Column("alias", sa.String(128), nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("reference", sa.Text),
    sa.Column("watermark", sa.String(32)),
    sa.Column("feedback_watermark", sa.BigInteger, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("update_time", sa.BigInteger, nullable=False),
)

# One row per monitor window: what it holds (``state``: its pieces and merged profile, so data
# arriving later merges in) and what was found (``result``).
monitor_windows = sa.Table(
    "monitor_windows",
    metadata,
    sa.Column("pk", BigIntKey, primary_key=True, autoincrement=True),
    sa.Column(
        "monitor_name",
        sa.String(128),
        sa.ForeignKey("monitors.name", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("window_key", sa.String(64), nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=False),
    sa.Column("end_time", sa.BigInteger, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("complete", sa.Boolean, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("result", sa.Text, nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("update_time", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("monitor_name", "window_key"),
    sa.Index("ix_monitor_windows_monitor_name_start_time", "monitor_name", "start_time"),
)

# One iteration of the training loop: what triggered it and what it decided (``record`` holds the
# whole story as JSON; the columns are what listings filter and sort on).
loop_iterations = sa.Table(
    "loop_iterations",
    metadata,
    sa.Column("iteration_id", sa.String(32), primary_key=True),
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
    sa.Index("ix_loop_iterations_model_name_start_time", "model_name", "start_time"),
)

# Who runs an iteration of a model now. A row whose process died (same host, pid gone) or whose
# heartbeat went stale may be taken over: the lock survives a crash without blocking forever.
loop_locks = sa.Table(
    "loop_locks",
    metadata,
    sa.Column("model_name", sa.String(128), primary_key=True),
    sa.Column("holder", sa.String(32), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("acquire_time", sa.BigInteger, nullable=False),
    sa.Column("heartbeat_time", sa.BigInteger, nullable=False),
)

# What the controller remembers between ticks (trigger latches, last check), per model.
loop_state = sa.Table(
    "loop_state",
    metadata,
    sa.Column("model_name", sa.String(128), primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("update_time", sa.BigInteger, nullable=False),
)
