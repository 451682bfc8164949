"""Conformance suite for the dataset repository; subclass beside a ``store`` fixture."""

from __future__ import annotations

import threading

import pytest

from loopml.entities import DataKind, DataRef
from loopml.errors import InvalidInput, NotFound
from loopml.store import NewVersion, Store
from loopml.testing.store import new_run


def version(digest_char: str, **fields: object) -> NewVersion:
    """A table version whose content digest is 64 copies of one hex character."""
    digest = digest_char * 64
    values: dict[str, object] = {
        "digest": digest,
        "kind": DataKind.TABLE,
        "blob_digest": digest,
        "blobs": [digest],
        "size_bytes": 10,
        "num_files": 1,
        "rows": 3,
        **fields,
    }
    return NewVersion(**values)  # type: ignore[arg-type]


class DatasetStoreConformance:
    """Behaviour every dataset repository must show."""

    def test_versions_are_numbered_and_deduplicated(self, store: Store) -> None:
        first, created = store.datasets.add_version("churn", version("a", profile={"x": 1}))
        assert (first.version, created, first.ref) == (1, True, "churn@1")
        second, _ = store.datasets.add_version("churn", version("b"))
        again, created_again = store.datasets.add_version("churn", version("a"))
        assert second.version == 2
        assert (again.version, created_again) == (1, False)
        assert [v.version for v in store.datasets.versions("churn")] == [1, 2]
        assert store.datasets.version(DataRef("churn")).version == 2
        assert store.datasets.version(DataRef("churn", version=1)).profile == {"x": 1}

    def test_same_content_in_two_datasets_gets_two_versions(self, store: Store) -> None:
        store.datasets.add_version("a", version("c"))
        record, created = store.datasets.add_version("b", version("c"))
        assert (record.name, record.version, created) == ("b", 1, True)

    def test_aliases_move_and_resolve(self, store: Store) -> None:
        store.datasets.add_version("d", version("a"))
        store.datasets.add_version("d", version("b"))
        store.datasets.set_alias("d", "training", 1)
        assert store.datasets.version(DataRef("d", alias="training")).version == 1
        store.datasets.set_alias("d", "training", 2)
        record = store.datasets.version(DataRef("d", alias="training"))
        assert (record.version, record.aliases) == (2, ("training",))
        store.datasets.set_alias("d", "training", None)
        with pytest.raises(NotFound, match="has no version 'training'"):
            store.datasets.version(DataRef("d", alias="training"))

    def test_alias_to_missing_version_is_refused(self, store: Store) -> None:
        store.datasets.add_version("d", version("a"))
        with pytest.raises(NotFound, match="has no version 7"):
            store.datasets.set_alias("d", "prod", 7)

    def test_missing_dataset_and_version_are_named(self, store: Store) -> None:
        with pytest.raises(NotFound, match="dataset 'ghost' does not exist"):
            store.datasets.version(DataRef("ghost"))
        store.datasets.add_version("real", version("a"))
        with pytest.raises(NotFound, match="dataset 'real' has no version '9'"):
            store.datasets.version(DataRef("real", version=9))

    @pytest.mark.parametrize("name", ["../x", "a/b", "a\\b", "", "x@y", " spaced", "a" * 200])
    def test_bad_names_are_refused(self, store: Store, name: str) -> None:
        with pytest.raises(InvalidInput, match="dataset name"):
            store.datasets.add_version(name, version("a"))

    def test_pinned_schema_roundtrips(self, store: Store) -> None:
        store.datasets.add_version("s", version("a"))
        pinned = store.datasets.pin_schema("s", {"columns": {"x": {"dtype": "int64"}}})
        assert pinned.pinned_schema == {"columns": {"x": {"dtype": "int64"}}}
        assert store.datasets.pin_schema("s", None).pinned_schema is None

    def test_run_inputs_link_both_ways(self, store: Store) -> None:
        record, _ = store.datasets.add_version("train", version("a"))
        run_id = new_run(store)
        store.datasets.link_input(run_id, record.version_id, "train")
        store.datasets.link_input(run_id, record.version_id, "train")
        assert [(r.ref, role) for r, role in store.datasets.inputs(run_id)] == [
            ("train@1", "train")
        ]
        assert store.datasets.consumers(record.version_id) == [(run_id, "train")]

    def test_versions_are_found_by_tag(self, store: Store) -> None:
        tags = {"base": "churn@1", "loop_iteration": "abc"}
        store.datasets.add_version("churn", version("a"))
        store.datasets.add_version("churn-training", version("b", tags=tags))
        store.datasets.add_version("churn-holdout", version("c", tags=tags))
        store.datasets.add_version("churn-training", version("d", tags={"base": "churn@12"}))
        store.datasets.add_version("other", version("e", tags={"note": "churn@1"}))
        store.datasets.add_version("odd", version("f", tags={"base": 'a"b%_c'}))
        found = store.datasets.tagged("base", "churn@1")
        assert [r.ref for r in found] == ["churn-holdout@1", "churn-training@1"]
        assert found[0].tags == tags and found[0].profile is None
        assert [r.ref for r in store.datasets.tagged("base", 'a"b%_c')] == ["odd@1"]
        assert store.datasets.tagged("base", "churn@2") == []

    def test_blobs_of_versions_are_referenced(self, store: Store) -> None:
        extra = "e" * 64
        store.datasets.add_version("f", version("a", kind=DataKind.FOLDER, blobs=[extra]))
        assert store.referenced_digests() == {"a" * 64, extra}
        assert store.locate(extra) == [("data", "f@1")]

    def test_concurrent_adds_number_without_gaps(self, store: Store) -> None:
        errors: list[BaseException] = []

        def add(char: str) -> None:
            try:
                store.datasets.add_version("race", version(char))
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=add, args=(c,)) for c in "0123456789abcdef"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert [v.version for v in store.datasets.versions("race")] == list(range(1, 17))
