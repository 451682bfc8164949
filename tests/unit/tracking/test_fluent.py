"""The fluent API as users call it: runs, params, metrics, tags, artifacts, search."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest

import loopml
from loopml.entities import RunStatus
from loopml.errors import Conflict, InvalidInput


def test_start_run_ends_finished_with_records(tmp_home: Path) -> None:
    loopml.set_experiment("churn")
    with loopml.start_run(run_name="first", tags={"team": "ml"}) as run:
        loopml.log_param("lr", 0.01)
        loopml.log_params({"depth": 3, "model": "gbm"})
        for step in range(10):
            loopml.log_metric("loss", 1.0 / (step + 1), step=step)
        loopml.log_metrics({"acc": 0.9, "f1": 0.8}, step=9)
        loopml.set_tag("stage", "dev")
    stored = loopml.get_run(run.run_id)
    assert stored.info.status is RunStatus.FINISHED
    assert stored.info.end_time is not None
    assert stored.info.run_name == "first"
    assert stored.data.params == {"lr": "0.01", "depth": "3", "model": "gbm"}
    assert stored.data.metrics == {"loss": 0.1, "acc": 0.9, "f1": 0.8}
    assert stored.data.tags == {"team": "ml", "stage": "dev"}
    assert stored.info.python_version and stored.info.host and stored.info.command


def test_start_run_exception_marks_failed(tmp_home: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"), loopml.start_run() as run:
        raise RuntimeError("boom")
    assert loopml.get_run(run.run_id).info.status is RunStatus.FAILED
    assert loopml.active_run() is None


def test_start_run_keyboard_interrupt_marks_killed(tmp_home: Path) -> None:
    with pytest.raises(KeyboardInterrupt, match="stop"), loopml.start_run() as run:
        raise KeyboardInterrupt("stop")
    assert loopml.get_run(run.run_id).info.status is RunStatus.KILLED


def test_start_run_twice_without_nested_is_refused(tmp_home: Path) -> None:
    with loopml.start_run() as outer:
        with pytest.raises(Conflict, match="already active"):
            loopml.start_run()
        with loopml.start_run(nested=True) as inner:
            assert loopml.active_run() is inner
        assert loopml.active_run() is outer
    assert loopml.get_run(inner.run_id).info.parent_run_id == outer.run_id


def test_start_run_resumes_by_id(tmp_home: Path) -> None:
    with loopml.start_run() as run:
        loopml.log_metric("m", 1.0, step=0)
    with loopml.start_run(run.run_id):
        loopml.log_metric("m", 2.0, step=1)
    history = loopml.LoopMLClient().get_metric_history(run.run_id, "m")
    assert [p.value for p in history] == [1.0, 2.0]


def test_log_param_changed_value_names_both(tmp_home: Path) -> None:
    with loopml.start_run():
        loopml.log_param("lr", 0.01)
        with pytest.raises(Conflict, match=r"already '0\.01'; cannot change it to '0\.02'"):
            loopml.log_param("lr", 0.02)


def test_log_metric_without_run_explains_fix(tmp_home: Path) -> None:
    with pytest.raises(InvalidInput, match=r"no active run.*start_run"):
        loopml.log_metric("m", 1.0)


@pytest.mark.parametrize("value", ["high", None, [1.0]])
def test_log_metric_non_number_is_refused(tmp_home: Path, value: object) -> None:
    with loopml.start_run(), pytest.raises(InvalidInput, match="must be a number"):
        loopml.log_metric("m", value)  # type: ignore[arg-type]


def test_log_metric_accepts_numpy_and_nan(tmp_home: Path) -> None:
    np = pytest.importorskip("numpy")
    with loopml.start_run() as run:
        loopml.log_metric("a", np.float32(0.5), step=np.int64(2))
        loopml.log_metric("b", float("nan"))
    metrics = loopml.get_run(run.run_id).data.metrics
    assert metrics["a"] == 0.5 and math.isnan(metrics["b"])


def test_flush_makes_queued_points_visible(tmp_home: Path) -> None:
    with loopml.start_run() as run:
        for i in range(25_000):
            loopml.log_metric("x", float(i), step=i)
        loopml.flush()
        history = loopml.LoopMLClient().get_metric_history(run.run_id, "x")
        assert len(history) == 25_000 and history[-1].value == 24_999.0


def test_threads_have_their_own_active_run(tmp_home: Path) -> None:
    seen: list[object] = []
    with loopml.start_run():
        thread = threading.Thread(target=lambda: seen.append(loopml.active_run()))
        thread.start()
        thread.join()
    assert seen == [None]


def test_artifacts_roundtrip(tmp_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("alpha")
    (source / "sub" / "b.bin").write_bytes(b"\x00\x01")
    with loopml.start_run() as run:
        loopml.log_artifact(source / "a.txt")
        loopml.log_artifacts(source, "folder")
        loopml.log_text("hello", "notes/readme.md")
        loopml.log_dict({"k": [1, 2]}, "cfg/params.yaml")
        loopml.log_dict({"k": 1}, "cfg/params.json")
    names = [(f.path, f.is_dir) for f in loopml.list_artifacts(run.run_id)]
    assert names == [("a.txt", False), ("cfg", True), ("folder", True), ("notes", True)]
    out = loopml.download_artifacts(run.run_id, "folder", tmp_path / "out")
    assert (out / "sub" / "b.bin").read_bytes() == b"\x00\x01"
    assert (out / "a.txt").read_text() == "alpha"
    cfg = loopml.download_artifacts(run.run_id, "cfg/params.yaml", tmp_path / "cfg")
    assert cfg.read_text() == "k:\n- 1\n- 2\n"


def test_log_figure_stores_png(tmp_home: Path, tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.plot([1, 2, 3])
    with loopml.start_run() as run:
        loopml.log_figure(figure, "plots/curve.png")
    plt.close(figure)
    path = loopml.download_artifacts(run.run_id, "plots/curve.png", tmp_path / "fig")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_search_runs_returns_dataframe(tmp_home: Path) -> None:
    loopml.set_experiment("search")
    for lr, acc in [("0.01", 0.9), ("0.1", 0.7), ("0.01", 0.6)]:
        with loopml.start_run():
            loopml.log_param("lr", lr)
            loopml.log_metric("acc", acc)
    frame = loopml.search_runs(
        filter_string="metrics.acc > 0.65 and params.lr = '0.01' or metrics.acc < 0.65",
        order_by=["metrics.acc DESC"],
        experiment_names=["search"],
    )
    assert list(frame["metrics.acc"]) == [0.9, 0.6]
    assert {"run_id", "status", "params.lr", "start_time"} <= set(frame.columns)


def test_set_experiment_deleted_is_refused(tmp_home: Path) -> None:
    client = loopml.LoopMLClient()
    client.delete_experiment(client.create_experiment("old"))
    with pytest.raises(Conflict, match=r"'old' is deleted.*restore"):
        loopml.set_experiment("old")
