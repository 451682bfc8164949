"""The metadata-store conformance suite: SQLite and PostgreSQL (and any future backend) pass it.

Subclass :class:`StoreConformance` in a test module that provides a ``store`` fixture yielding an
open, empty :class:`loopml.store.Store`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pytest

from loopml.entities import LifecycleStage, MetricPoint, RunStatus
from loopml.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from loopml.store import ArtifactRecord, RunQuery, RunSpec, Store, ViewType

DIGEST_A = "a" * 64
DIGEST_B = "b" * 64


def new_run(store: Store, name: str = "run", experiment: str = "exp", **spec: object) -> str:
    """Create a run (and its experiment when missing); return the run id."""
    found = store.experiments.get_by_name(experiment)
    experiment_id = (found or store.experiments.create(experiment)).experiment_id
    fields: dict[str, object] = {"start_time": 1_000, **spec}
    run = store.runs.create(RunSpec(experiment_id=experiment_id, run_name=name, **fields))  # type: ignore[arg-type]
    return run.info.run_id


def log_points(store: Store, points: Mapping[str, Sequence[MetricPoint]]) -> int:
    """Write points grouped by run id through the store's bulk row interface."""
    return store.metrics.log_rows(
        [(run_id, p.key, p.value, p.timestamp, p.step) for run_id, ps in points.items() for p in ps]
    )


def search(store: Store, filter_string: str | None = None, **kwargs: object) -> list[str]:
    """Names of the runs a search returns, in order."""
    runs = store.runs.search(RunQuery(filter_string=filter_string, **kwargs))  # type: ignore[arg-type]
    return [run.info.run_name for run in runs]


class StoreConformance:
    """Behaviour every metadata store must show."""

    # experiments ------------------------------------------------------------------------
    def test_create_experiment_roundtrips(self, store: Store) -> None:
        created = store.experiments.create("churn")
        assert store.experiments.get(created.experiment_id) == created
        assert store.experiments.get_by_name("churn") == created
        assert created.lifecycle_stage is LifecycleStage.ACTIVE

    def test_create_experiment_twice_is_refused(self, store: Store) -> None:
        store.experiments.create("churn")
        with pytest.raises(AlreadyExists, match="'churn' already exists"):
            store.experiments.create("churn")

    def test_create_experiment_with_blank_name_is_refused(self, store: Store) -> None:
        with pytest.raises(InvalidInput, match="experiment name must be a non-empty string"):
            store.experiments.create("  ")

    def test_get_missing_experiment_names_it(self, store: Store) -> None:
        with pytest.raises(NotFound, match="experiment 'nope' does not exist"):
            store.experiments.get("nope")

    def test_rename_experiment_to_taken_name_is_refused(self, store: Store) -> None:
        first = store.experiments.create("a")
        store.experiments.create("b")
        with pytest.raises(AlreadyExists, match="'b' already exists"):
            store.experiments.rename(first.experiment_id, "b")
        assert store.experiments.rename(first.experiment_id, "c").name == "c"

    def test_delete_experiment_hides_it_and_its_runs(self, store: Store) -> None:
        run_id = new_run(store, experiment="gone")
        experiment = store.experiments.get_by_name("gone")
        assert experiment is not None
        store.experiments.set_lifecycle(experiment.experiment_id, deleted=True)
        assert store.experiments.list() == []
        assert [e.name for e in store.experiments.list(ViewType.DELETED_ONLY)] == ["gone"]
        assert search(store) == []
        store.experiments.set_lifecycle(experiment.experiment_id, deleted=False)
        assert store.runs.get(run_id).info.lifecycle_stage is LifecycleStage.ACTIVE

    def test_restore_experiment_keeps_runs_deleted_on_their_own(self, store: Store) -> None:
        junk = new_run(store, "junk", experiment="e")
        keep = new_run(store, "keep", experiment="e")
        store.runs.set_lifecycle(junk, deleted=True)
        experiment = store.experiments.get_by_name("e")
        assert experiment is not None
        store.experiments.set_lifecycle(experiment.experiment_id, deleted=True)
        store.experiments.set_lifecycle(experiment.experiment_id, deleted=False)
        assert store.runs.get(keep).info.lifecycle_stage is LifecycleStage.ACTIVE
        assert store.runs.get(junk).info.lifecycle_stage is LifecycleStage.DELETED

    def test_list_experiments_in_creation_order(self, store: Store) -> None:
        for name in ("z", "a", "m"):
            store.experiments.create(name)
        assert [e.name for e in store.experiments.list()] == ["z", "a", "m"]

    # runs -------------------------------------------------------------------------------
    def test_create_run_records_environment(self, store: Store) -> None:
        run_id = new_run(
            store,
            user="ada",
            host="box",
            git_commit="c0ffee",
            git_dirty=True,
            packages={"numpy": "2.0"},
            tags={"team": "x"},
        )
        run = store.runs.get(run_id)
        assert run.info.status is RunStatus.RUNNING
        assert (run.info.user, run.info.host, run.info.git_commit) == ("ada", "box", "c0ffee")
        assert run.info.git_dirty is True
        assert run.info.packages == {"numpy": "2.0"}
        assert run.data.tags == {"team": "x"}

    def test_create_run_in_missing_experiment_is_refused(self, store: Store) -> None:
        with pytest.raises(NotFound, match="experiment 'missing' does not exist"):
            store.runs.create(RunSpec(experiment_id="missing", run_name="r", start_time=1))

    def test_get_missing_run_names_it(self, store: Store) -> None:
        with pytest.raises(NotFound, match="run 'feed' does not exist"):
            store.runs.get("feed")

    def test_terminate_run_sets_end_time(self, store: Store) -> None:
        run_id = new_run(store)
        run = store.runs.update(run_id, status=RunStatus.FINISHED, end_time=5_000)
        assert run.info.status is RunStatus.FINISHED
        assert run.info.duration_ms == 4_000

    def test_resume_run_clears_end_time(self, store: Store) -> None:
        run_id = new_run(store)
        store.runs.update(run_id, status=RunStatus.FAILED)
        run = store.runs.update(run_id, status=RunStatus.RUNNING)
        assert (run.info.status, run.info.end_time) == (RunStatus.RUNNING, None)

    def test_deleted_run_refuses_writes_until_restored(self, store: Store) -> None:
        run_id = new_run(store)
        store.runs.set_lifecycle(run_id, deleted=True)
        with pytest.raises(Conflict, match="is deleted"):
            store.records.log_params(run_id, {"a": "1"})
        store.runs.set_lifecycle(run_id, deleted=False)
        store.records.log_params(run_id, {"a": "1"})
        assert store.runs.get(run_id).data.params == {"a": "1"}

    def test_fail_dead_marks_runs_of_dead_processes(self, store: Store) -> None:
        alive = new_run(store, "alive", host="here", pid=1)
        dead = new_run(store, "dead", host="here", pid=2)
        elsewhere = new_run(store, "elsewhere", host="there", pid=2)
        failed = store.runs.fail_dead("here", lambda pid: pid == 1, stale_before_ms=0)
        assert failed == [dead]
        assert store.runs.get(alive).info.status is RunStatus.RUNNING
        assert store.runs.get(dead).info.status is RunStatus.FAILED
        assert store.runs.get(elsewhere).info.status is RunStatus.RUNNING

    def test_fail_dead_marks_stale_heartbeats_on_other_hosts(self, store: Store) -> None:
        run_id = new_run(store, host="there", pid=7, start_time=1_000)
        assert store.runs.fail_dead("here", lambda pid: True, stale_before_ms=500) == []
        store.runs.heartbeat([run_id], 2_000)
        assert store.runs.fail_dead("here", lambda pid: True, stale_before_ms=1_500) == []
        assert store.runs.fail_dead("here", lambda pid: True, stale_before_ms=2_500) == [run_id]

    def test_fail_dead_spares_a_live_process_with_a_stale_heartbeat(self, store: Store) -> None:
        run_id = new_run(store, host="here", pid=7, start_time=1_000)
        assert store.runs.fail_dead("here", lambda pid: True, stale_before_ms=10**12) == []
        assert store.runs.get(run_id).info.status is RunStatus.RUNNING

    def test_resume_takes_the_run_over(self, store: Store) -> None:
        run_id = new_run(store, host="gone-host", pid=1, start_time=1_000)
        store.runs.update(run_id, status=RunStatus.FAILED)
        store.runs.update(run_id, status=RunStatus.RUNNING)
        # The creator's pid is long gone, but this process now owns the run.
        from loopml._util.process import hostname, pid_alive

        assert store.runs.fail_dead(hostname(), pid_alive, stale_before_ms=0) == []
        assert store.runs.get(run_id).info.status is RunStatus.RUNNING

    def test_purge_deleted_removes_runs_and_records(self, store: Store) -> None:
        keep = new_run(store, "keep")
        doomed = new_run(store, "doomed")
        store.records.log_params(doomed, {"a": "1"})
        log_points(store, {doomed: [MetricPoint("m", 1.0, 1, 0)]})
        store.artifacts.record(doomed, [ArtifactRecord("f.txt", DIGEST_A, 3)])
        store.runs.set_lifecycle(doomed, deleted=True)
        assert store.runs.purge_deleted() == [doomed]
        assert store.artifacts.referenced_digests() == set()
        with pytest.raises(NotFound, match="does not exist"):
            store.runs.get(doomed)
        assert store.runs.get(keep).info.run_name == "keep"
        assert store.check() == []

    # params and tags --------------------------------------------------------------------
    def test_log_params_is_idempotent_for_same_value(self, store: Store) -> None:
        run_id = new_run(store)
        store.records.log_params(run_id, {"lr": "0.01"})
        store.records.log_params(run_id, {"lr": "0.01", "depth": "3"})
        assert store.runs.get(run_id).data.params == {"lr": "0.01", "depth": "3"}

    def test_log_param_with_new_value_names_both(self, store: Store) -> None:
        run_id = new_run(store)
        store.records.log_params(run_id, {"lr": "0.01"})
        with pytest.raises(Conflict, match=r"already '0\.01'; cannot change it to '0\.1'"):
            store.records.log_params(run_id, {"lr": "0.1", "other": "x"})
        assert store.runs.get(run_id).data.params == {"lr": "0.01"}

    @pytest.mark.parametrize("key", ["", "a" * 251, "../x", "/abs", "bad\x00key", "semi;colon"])
    def test_log_param_with_bad_key_is_refused(self, store: Store, key: str) -> None:
        run_id = new_run(store)
        with pytest.raises(InvalidInput, match="param key"):
            store.records.log_params(run_id, {key: "1"})

    def test_set_tags_overwrites_and_delete_tag_removes(self, store: Store) -> None:
        run_id = new_run(store)
        store.records.set_tags(run_id, {"a": "1", "b": "2"})
        store.records.set_tags(run_id, {"a": "3"})
        store.records.delete_tag(run_id, "b")
        assert store.runs.get(run_id).data.tags == {"a": "3"}
        with pytest.raises(NotFound, match="has no tag 'b'"):
            store.records.delete_tag(run_id, "b")

    # metrics ----------------------------------------------------------------------------
    def test_log_batch_keeps_history_and_latest(self, store: Store) -> None:
        run_id = new_run(store)
        points = [MetricPoint("loss", 1.0 / (i + 1), 10 + i, i) for i in range(100)]
        assert log_points(store, {run_id: points[50:]}) == 50
        assert log_points(store, {run_id: points[:50]}) == 50
        assert store.metrics.history(run_id, "loss") == points
        assert store.runs.get(run_id).data.metrics == {"loss": 1.0 / 100}

    def test_latest_metric_prefers_highest_step_then_newest(self, store: Store) -> None:
        run_id = new_run(store)
        log_points(store, {run_id: [MetricPoint("m", 5.0, 100, 3)]})
        log_points(store, {run_id: [MetricPoint("m", 1.0, 200, 2)]})
        assert store.runs.get(run_id).data.metrics["m"] == 5.0
        log_points(store, {run_id: [MetricPoint("m", 7.0, 300, 3)]})
        assert store.runs.get(run_id).data.metrics["m"] == 7.0

    def test_nan_and_infinities_roundtrip(self, store: Store) -> None:
        run_id = new_run(store)
        points = [
            MetricPoint("x", math.nan, 1, 0),
            MetricPoint("x", math.inf, 1, 1),
            MetricPoint("x", -math.inf, 1, 2),
        ]
        log_points(store, {run_id: points})
        values = [p.value for p in store.metrics.history(run_id, "x")]
        assert math.isnan(values[0]) and values[1:] == [math.inf, -math.inf]

    def test_log_batch_to_missing_run_writes_nothing(self, store: Store) -> None:
        run_id = new_run(store)
        with pytest.raises(NotFound, match="does not exist"):
            log_points(
                store,
                {run_id: [MetricPoint("m", 1.0, 1, 0)], "nope": [MetricPoint("m", 1.0, 1, 0)]},
            )
        assert store.metrics.history(run_id, "m") == []

    def test_log_batch_many_runs_in_one_transaction(self, store: Store) -> None:
        ids = [new_run(store, f"r{i}") for i in range(5)]
        batch = {
            rid: [MetricPoint("m", float(i), 1, s) for s in range(200)] for i, rid in enumerate(ids)
        }
        assert log_points(store, batch) == 1000
        assert [len(store.metrics.history(rid, "m")) for rid in ids] == [200] * 5

    # search -----------------------------------------------------------------------------
    @pytest.fixture
    def populated(self, store: Store) -> Store:
        rows = [
            ("a", "0.01", "x", 0.95, 0.1),
            ("b", "0.1", "x", 0.80, 0.3),
            ("c", "0.01", "y", 0.70, 0.5),
            ("d", "0.001", "y", math.nan, 0.2),
        ]
        for start, (name, lr, team, acc, loss) in enumerate(rows):
            run_id = new_run(store, name, start_time=1_000 + start)
            store.records.log_params(run_id, {"lr": lr})
            store.records.set_tags(run_id, {"team": team})
            log_points(
                store, {run_id: [MetricPoint("acc", acc, 1, 0), MetricPoint("loss", loss, 1, 0)]}
            )
        store.runs.update(search_ids(store, "a")[0], status=RunStatus.FINISHED)
        return store

    @pytest.mark.parametrize(
        ("filter_string", "expected"),
        [
            (None, ["d", "c", "b", "a"]),
            ("metrics.acc > 0.75", ["b", "a"]),
            ("metrics.acc > 0.75 and params.lr = '0.01'", ["a"]),
            ("params.lr = '0.01' or tags.team = 'y'", ["d", "c", "a"]),
            ("(params.lr = '0.1' or params.lr = '0.001') and tags.team = 'y'", ["d"]),
            ("not tags.team = 'x'", ["d", "c"]),
            ("params.lr IN ('0.1', '0.001')", ["d", "b"]),
            ("params.lr NOT IN ('0.1', '0.001')", ["c", "a"]),
            ("tags.team LIKE 'x%'", ["b", "a"]),
            ("tags.team ILIKE 'Y'", ["d", "c"]),
            ("attributes.status = 'FINISHED'", ["a"]),
            ("status != 'FINISHED'", ["d", "c", "b"]),
            ("attributes.run_name = 'c'", ["c"]),
            ("metrics.missing IS NULL", ["d", "c", "b", "a"]),
            ("tags.team IS NOT NULL and metrics.loss <= 0.2", ["d", "a"]),
            ("metrics.acc >= 0", ["c", "b", "a"]),
            ("attributes.start_time > 1001", ["d", "c"]),
        ],
    )
    def test_search_filters(
        self, populated: Store, filter_string: str | None, expected: list[str]
    ) -> None:
        assert search(populated, filter_string) == expected

    @pytest.mark.parametrize(
        ("order_by", "expected"),
        [
            (["metrics.acc DESC"], ["a", "b", "c", "d"]),
            (["metrics.acc ASC"], ["c", "b", "a", "d"]),
            (["params.lr", "metrics.loss DESC"], ["d", "c", "a", "b"]),
            (["attributes.run_name"], ["a", "b", "c", "d"]),
        ],
    )
    def test_search_orders(
        self, populated: Store, order_by: list[str], expected: list[str]
    ) -> None:
        assert search(populated, order_by=tuple(order_by)) == expected

    def test_search_respects_max_results_and_view(self, populated: Store) -> None:
        assert search(populated, max_results=2) == ["d", "c"]
        populated.runs.set_lifecycle(search_ids(populated, "d")[0], deleted=True)
        assert search(populated) == ["c", "b", "a"]
        assert search(populated, view=ViewType.DELETED_ONLY) == ["d"]
        assert search(populated, view=ViewType.ALL) == ["d", "c", "b", "a"]

    def test_search_bad_filter_points_at_column(self, populated: Store) -> None:
        with pytest.raises(InvalidInput, match="column 15"):
            search(populated, "metrics.acc > and x")

    def test_search_bad_max_results_is_refused(self, populated: Store) -> None:
        with pytest.raises(InvalidInput, match="max_results must be between"):
            search(populated, max_results=0)

    # artifacts --------------------------------------------------------------------------
    def test_artifact_manifest_replaces_paths_and_locates_digests(self, store: Store) -> None:
        run_id = new_run(store)
        store.artifacts.record(run_id, [ArtifactRecord("a.txt", DIGEST_A, 1)])
        store.artifacts.record(run_id, [ArtifactRecord("a.txt", DIGEST_B, 2)])
        files = store.artifacts.list(run_id)
        assert [(f.path, f.digest, f.file_size) for f in files] == [("a.txt", DIGEST_B, 2)]
        assert store.artifacts.referenced_digests() == {DIGEST_B}
        assert store.artifacts.locate(DIGEST_B) == [(run_id, "a.txt")]

    # upkeep -----------------------------------------------------------------------------
    def test_check_passes_on_a_used_store(self, store: Store) -> None:
        run_id = new_run(store)
        log_points(store, {run_id: [MetricPoint("m", 1.0, 1, 0)]})
        assert store.check() == []

    def test_upgrade_is_idempotent(self, store: Store) -> None:
        assert store.upgrade() is False
        assert store.revision() is not None


def search_ids(store: Store, name: str) -> list[str]:
    """Ids of runs with a given name."""
    runs = store.runs.search(RunQuery(filter_string=f"attributes.run_name = '{name}'"))
    return [run.info.run_id for run in runs]
