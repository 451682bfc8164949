"""Conformance suite for the model, event and evaluation repositories."""

from __future__ import annotations

import math
import threading

import pytest

from loopml.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from loopml.store import NewEvaluation, NewEvent, NewLoggedModel, NewModelVersion, Store
from loopml.testing.store import new_run


def logged(store: Store, run_id: str | None = None, char: str = "a", path: str = "model") -> str:
    """Record a logged model whose one file's digest is 64 copies of ``char``; return its id."""
    model = store.models.log(
        NewLoggedModel(
            run_id=run_id or new_run(store),
            path=path,
            flavor="sklearn",
            format="skops",
            executable=False,
            digest=char * 64,
            files={"model.skops": char * 64},
            signature={"inputs": [{"name": "x", "dtype": "float64", "nullable": True}]},
            requirements={"scikit-learn": "1.9"},
            task="classification",
            classes=[0, 1],
        )
    )
    return model.model_id


def promoted(kind: str = "promotion") -> NewEvent:
    return NewEvent(kind=kind, subject="model:m", actor="tester", reason="because")


class ModelStoreConformance:
    """Behaviour every model repository must show."""

    def test_logged_models_roundtrip_and_relog_replaces(self, store: Store) -> None:
        run_id = new_run(store, git_commit="c0ffee")
        first = store.models.logged_by_id(logged(store, run_id, "a"))
        assert (first.run_id, first.path, first.uri) == (run_id, "model", f"runs:/{run_id}/model")
        assert (first.classes, first.task, first.files) == ((0, 1), "classification", first.files)
        logged(store, run_id, "b")
        again = store.models.logged(run_id, "model")
        assert again is not None and again.digest == "b" * 64
        assert store.models.logged(run_id, "elsewhere") is None

    def test_versions_number_from_one_and_copy_the_logged_model(self, store: Store) -> None:
        run_id = new_run(store, git_commit="c0ffee")
        v1 = store.models.add_version(
            "churn", NewModelVersion(logged(store, run_id), target="y", data_version="d@1")
        )
        v2 = store.models.add_version("churn", NewModelVersion(logged(store, char="b")))
        assert (v1.version, v2.version, v1.uri) == (1, 2, "models:/churn/1")
        assert (v1.git_commit, v1.target, v1.data_version) == ("c0ffee", "y", "d@1")
        assert v1.files == {"model.skops": "a" * 64} and v1.source == f"runs:/{run_id}/model"
        assert store.models.get("churn").latest_version == 2
        assert store.models.version("churn").version == 2
        assert [v.version for v in store.models.versions("churn")] == [1, 2]

    def test_registering_an_unknown_logged_model_is_refused(self, store: Store) -> None:
        with pytest.raises(NotFound, match="logged model 'nope' does not exist"):
            store.models.add_version("m", NewModelVersion("nope"))

    def test_create_get_update_delete(self, store: Store) -> None:
        store.models.create("m", description="first", tags={"team": "a"})
        with pytest.raises(AlreadyExists, match="already exists"):
            store.models.create("m")
        updated = store.models.update("m", description="second", tags={"team": None, "k": "v"})
        assert (updated.description, dict(updated.tags)) == ("second", {"k": "v"})
        assert [m.name for m in store.models.list()] == ["m"]
        store.models.delete("m")
        with pytest.raises(NotFound, match="registered model 'm' does not exist"):
            store.models.get("m")

    @pytest.mark.parametrize("name", ["../x", "a/b", "", "x@y", " spaced", "a" * 200])
    def test_bad_names_are_refused(self, store: Store, name: str) -> None:
        with pytest.raises(InvalidInput, match="model name"):
            store.models.create(name)

    def test_aliases_move_with_an_event_each(self, store: Store) -> None:
        store.models.add_version("m", NewModelVersion(logged(store, char="a")))
        store.models.add_version("m", NewModelVersion(logged(store, char="b")))
        first = store.models.set_alias("m", "champion", 1, event=promoted())
        second = store.models.set_alias("m", "champion", 2, event=promoted())
        assert (first.data["from_version"], first.data["to_version"]) == (None, 1)
        assert (second.data["from_version"], second.data["to_version"]) == (1, 2)
        assert (second.actor, second.reason, second.kind) == ("tester", "because", "promotion")
        assert store.models.version("m", alias="champion").version == 2
        assert store.models.version("m", version=2).aliases == ("champion",)
        assert store.models.get("m").aliases == {"champion": 2}
        assert [e.event_id for e in store.events.list(subject="model:m")] == [
            second.event_id,
            first.event_id,
        ]
        store.models.set_alias("m", "champion", None, event=promoted("alias_removed"))
        with pytest.raises(NotFound, match="has no alias 'champion'"):
            store.models.version("m", alias="champion")

    def test_alias_compare_and_set_refuses_a_stale_move(self, store: Store) -> None:
        for char in "abc":
            store.models.add_version("m", NewModelVersion(logged(store, char=char)))
        store.models.set_alias("m", "champion", 1, event=promoted(), if_current=None)
        store.models.set_alias("m", "champion", 2, event=promoted(), if_current=1)
        with pytest.raises(
            Conflict, match="moved to version 2 while this change expected version 1"
        ):
            store.models.set_alias("m", "champion", 3, event=promoted(), if_current=1)
        assert store.models.version("m", alias="champion").version == 2
        assert len(store.events.list(subject="model:m")) == 2

    def test_alias_to_a_missing_version_changes_nothing(self, store: Store) -> None:
        store.models.add_version("m", NewModelVersion(logged(store)))
        with pytest.raises(NotFound, match="has no version 5"):
            store.models.set_alias("m", "champion", 5, event=promoted())
        assert store.events.list(subject="model:m") == []
        with pytest.raises(InvalidInput, match="alias 'latest' is not allowed"):
            store.models.set_alias("m", "latest", 1, event=promoted())

    def test_an_aliased_version_cannot_be_deleted(self, store: Store) -> None:
        store.models.add_version("m", NewModelVersion(logged(store, char="a")))
        store.models.add_version("m", NewModelVersion(logged(store, char="b")))
        store.models.set_alias("m", "champion", 1, event=promoted())
        with pytest.raises(Conflict, match="version 1 of 'm' is still champion"):
            store.models.delete_version("m", 1)
        store.models.delete_version("m", 2)
        assert [v.version for v in store.models.versions("m")] == [1]
        again = store.models.add_version("m", NewModelVersion(logged(store, char="c")))
        assert again.version == 3  # a deleted number is never given again

    def test_version_updates_and_referenced_blobs(self, store: Store) -> None:
        store.models.add_version("m", NewModelVersion(logged(store, char="c")))
        changed = store.models.update_version(
            "m", 1, description="d", tags={"k": "v"}, evaluation_id="e" * 32, target="label"
        )
        assert (changed.description, dict(changed.tags)) == ("d", {"k": "v"})
        assert (changed.evaluation_id, changed.target) == ("e" * 32, "label")
        assert "c" * 64 in store.referenced_digests()

    def test_gates_are_revisioned(self, store: Store) -> None:
        store.models.create("m")
        assert store.models.gates("m") is None
        first = store.models.set_gates("m", ["f1 >= 0.8"], "alice")
        second = store.models.set_gates("m", ["f1 >= 0.85", "roc_auc >= champion"], "bob")
        assert (first.revision, second.revision) == (1, 2)
        current = store.models.gates("m")
        assert current is not None and current.gates == ("f1 >= 0.85", "roc_auc >= champion")
        old = store.models.gates("m", revision=1)
        assert old is not None and (old.gates, old.actor) == (("f1 >= 0.8",), "alice")

    def test_evaluations_are_found_by_digest_and_data_version(self, store: Store) -> None:
        run_id = new_run(store)

        def add(data_version: str, f1: float) -> str:
            record = store.evaluations.add(
                NewEvaluation(
                    model_uri="models:/m/1",
                    task="classification",
                    target="y",
                    n_rows=10,
                    result={"metrics": {"f1": f1, "roc_auc": math.nan}},
                    run_id=run_id,
                    model_digest="d" * 64,
                    data_version=data_version,
                )
            )
            return record.evaluation_id

        first = add("test@1", 0.5)
        second = add("test@2", 0.7)
        found = store.evaluations.find("d" * 64, "test@1")
        assert found is not None and found.evaluation_id == first
        assert found.result == {"metrics": {"f1": 0.5, "roc_auc": None}}
        newest = store.evaluations.find("d" * 64)
        assert newest is not None and newest.evaluation_id == second
        assert store.evaluations.find("0" * 64) is None
        assert [e.evaluation_id for e in store.evaluations.for_run(run_id)] == [first, second]
        assert store.evaluations.get(second).n_rows == 10
        with pytest.raises(NotFound, match="evaluation 'x' does not exist"):
            store.evaluations.get("x")
        third = add("test@1", 0.6)
        assert [e.evaluation_id for e in store.evaluations.for_data("test@1")] == [first, third]
        assert store.evaluations.for_data("test@9") == []

    def test_versions_trained_on_a_data_version_across_models(self, store: Store) -> None:
        def add(name: str, char: str, data_version: str | None) -> None:
            store.models.add_version(
                name, NewModelVersion(logged(store, char=char), data_version=data_version)
            )

        add("churn", "a", "d@1")
        add("churn", "b", "d@2")
        add("fraud", "c", "d@1")
        add("churn", "e", "d@1")
        add("churn", "f", None)
        store.models.set_alias("fraud", "champion", 1, event=promoted())
        found = store.models.versions_trained_on("d@1")
        assert [(v.name, v.version) for v in found] == [("churn", 1), ("fraud", 1), ("churn", 3)]
        assert found[1].aliases == ("champion",) and found[0].data_version == "d@1"
        assert store.models.versions_trained_on("d@7") == []

    def test_events_filter_by_kind(self, store: Store) -> None:
        store.events.add(NewEvent("alert", "monitor:a", data={"x": 1}))
        store.events.add(NewEvent("trigger", "monitor:a"))
        assert [e.kind for e in store.events.list(subject="monitor:a")] == ["trigger", "alert"]
        assert [e.data for e in store.events.list(kind="alert")] == [{"x": 1}]

    def test_concurrent_registrations_number_without_gaps(self, store: Store) -> None:
        ids = [logged(store, char=c) for c in "0123456789abcdef"]
        errors: list[BaseException] = []

        def register(model_id: str) -> None:
            try:
                store.models.add_version("race", NewModelVersion(model_id))
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=register, args=(i,)) for i in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        versions = store.models.versions("race")
        assert [v.version for v in versions] == list(range(1, 17))
        assert {v.model_id for v in versions} == set(ids)
