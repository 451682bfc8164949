"""Conformance suite for the prediction log repository (segments and feedback labels)."""

from __future__ import annotations

import pytest

from loopml._util.ids import new_id
from loopml.entities import FeedbackLabel, PredictionSegment
from loopml.errors import AlreadyExists, InvalidInput, NotFound
from loopml.store import Store


def segment(
    model: str = "churn",
    start: int = 1_000,
    end: int = 2_000,
    digest_char: str = "a",
    **fields: object,
) -> PredictionSegment:
    """A segment of ``model`` covering ``[start, end]`` whose blob is 64 copies of one hex char."""
    values: dict[str, object] = {
        "segment_id": new_id(),
        "model_name": model,
        "model_versions": (1,),
        "start_time": start,
        "end_time": end,
        "rows": 10,
        "blob_digest": digest_char * 64,
        "size_bytes": 123,
        "profile": None,
        "creation_time": 5_000,
        **fields,
    }
    return PredictionSegment(**values)  # type: ignore[arg-type]


class PredictionLogStoreConformance:
    """Behaviour every prediction log repository must show."""

    def test_segments_round_trip_in_arrival_order(self, store: Store) -> None:
        profile = {"format": 1, "row_count": 10, "columns": {"x": {"kind": "numeric"}}}
        first = segment(start=5_000, end=6_000, model_versions=(2, 1, 2), profile=profile)
        second = segment(start=1_000, end=2_000, digest_char="b")
        store.predictions.add_segment(first)
        store.predictions.add_segment(second)
        store.predictions.add_segment(segment("other", digest_char="c"))
        found = store.predictions.segments("churn")
        assert [s.segment_id for s in found] == [first.segment_id, second.segment_id]
        assert found[0].model_versions == (1, 2)
        assert found[0].profile == profile and found[1].profile is None
        assert (found[0].rows, found[0].size_bytes, found[0].creation_time) == (10, 123, 5_000)
        assert store.predictions.segments("nobody") == []

    def test_time_range_keeps_overlapping_segments(self, store: Store) -> None:
        early, middle, late = (segment(start=s, end=s + 100) for s in (0, 1_000, 2_000))
        for item in (early, middle, late):
            store.predictions.add_segment(item)

        def ids(since: int | None = None, until: int | None = None) -> list[str]:
            return [s.segment_id for s in store.predictions.segments("churn", since, until)]

        assert ids(since=1_050) == [middle.segment_id, late.segment_id]
        assert ids(until=1_000) == [early.segment_id, middle.segment_id]
        assert ids(since=101, until=1_999) == [middle.segment_id]

    def test_segments_at_a_time_across_models(self, store: Store) -> None:
        early = segment("churn", 0, 1_000)
        late = segment("churn", 2_000, 3_000)
        fraud = segment("fraud", 900, 2_100)
        other = segment("zeta", 5_000, 6_000)
        for item in (early, late, fraud, other):
            store.predictions.add_segment(item)

        def ids(time_ms: int, slack_ms: int = 0) -> list[str]:
            return [s.segment_id for s in store.predictions.segments_at(time_ms, slack_ms)]

        assert ids(500) == [early.segment_id]
        assert ids(1_000) == [early.segment_id, fraud.segment_id]
        assert ids(1_500) == [fraud.segment_id]
        assert ids(1_500, 500) == [early.segment_id, late.segment_id, fraud.segment_id]
        assert ids(4_000) == [] and ids(4_000, 1_000) == [late.segment_id, other.segment_id]
        assert store.predictions.segments_at(-1) == []

    def test_after_segment_id_is_a_watermark(self, store: Store) -> None:
        first, second = segment(), segment()
        store.predictions.add_segment(first)
        store.predictions.add_segment(second)
        store.predictions.add_segment(segment("other"))
        after_first = store.predictions.segments("churn", after_segment_id=first.segment_id)
        assert [s.segment_id for s in after_first] == [second.segment_id]
        assert store.predictions.segments("churn", after_segment_id=second.segment_id) == []
        third = segment()
        store.predictions.add_segment(third)
        after_second = store.predictions.segments("churn", after_segment_id=second.segment_id)
        assert [s.segment_id for s in after_second] == [third.segment_id]
        with pytest.raises(NotFound, match="does not exist"):
            store.predictions.segments("churn", after_segment_id="f" * 32)

    def test_segments_are_refused_twice_or_malformed(self, store: Store) -> None:
        item = segment()
        store.predictions.add_segment(item)
        with pytest.raises(AlreadyExists, match="already exists"):
            store.predictions.add_segment(item)
        with pytest.raises(InvalidInput, match="not a blob digest"):
            store.predictions.add_segment(segment(blob_digest="../etc/passwd"))
        with pytest.raises(InvalidInput, match="before it starts"):
            store.predictions.add_segment(segment(start=2, end=1))

    def test_segment_blobs_are_referenced(self, store: Store) -> None:
        store.predictions.add_segment(segment(digest_char="d"))
        assert store.predictions.referenced_digests() == {"d" * 64}
        assert "d" * 64 in store.referenced_digests()

    def test_feedback_is_upserted_and_typed(self, store: Store) -> None:
        a, b, c, d = (new_id() for _ in range(4))
        labels = [
            FeedbackLabel(a, "churned", 1),
            FeedbackLabel(b, 3, 2),
            FeedbackLabel(c, 0.5, 3),
            FeedbackLabel(d, True, 4),
        ]
        assert store.predictions.add_feedback(labels) == 4
        found = store.predictions.feedback([a, b, c, d, "missing"])
        assert {k: (v.label, v.time) for k, v in found.items()} == {
            a: ("churned", 1),
            b: (3, 2),
            c: (0.5, 3),
            d: (True, 4),
        }
        assert type(found[b].label) is int and type(found[d].label) is bool
        store.predictions.add_feedback([FeedbackLabel(a, "stayed", 9), FeedbackLabel(a, "x", 10)])
        assert store.predictions.feedback([a])[a] == FeedbackLabel(a, "x", 10)
        assert store.predictions.add_feedback([]) == 0
        assert store.predictions.feedback([]) == {}

    def test_feedback_refuses_nan_and_non_scalars_atomically(self, store: Store) -> None:
        a, b = new_id(), new_id()
        with pytest.raises(InvalidInput, match="nan"):
            store.predictions.add_feedback(
                [FeedbackLabel(a, 1, 1), FeedbackLabel(b, float("nan"), 1)]
            )
        with pytest.raises(InvalidInput, match="is a list"):
            store.predictions.add_feedback([FeedbackLabel(a, [1, 2], 1)])
        with pytest.raises(InvalidInput, match="prediction_id"):
            store.predictions.add_feedback([FeedbackLabel("", 1, 1)])
        assert store.predictions.feedback([a, b]) == {}

    def test_feedback_for_many_ids_beyond_the_bound_parameter_limit(self, store: Store) -> None:
        ids = [f"{i:032x}" for i in range(100_000)]
        assert store.predictions.add_feedback(
            [FeedbackLabel(i, n % 2, n) for n, i in enumerate(ids)]
        )
        found = store.predictions.feedback([*ids, "absent"])
        assert len(found) == 100_000
        assert found[ids[99_999]] == FeedbackLabel(ids[99_999], 1, 99_999)
