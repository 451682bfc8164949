"""The domain classifier finds shifts in one column among many and keeps quiet without them."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from loopml.errors import InvalidInput
from loopml.stats.domain import DomainResult, default_threshold, domain_classifier_drift

COLOURS = np.array(["red", "green", "blue", "violet"], dtype=object)


def _table(seed: int, n: int, columns: int = 10) -> dict[str, np.ndarray]:
    """Independent normal columns plus a categorical one and a numeric one with gaps."""
    rng = np.random.default_rng(seed)
    table = {f"x{i}": rng.normal(size=n) for i in range(columns)}
    table["colour"] = rng.choice(COLOURS, n, p=[0.4, 0.3, 0.2, 0.1])
    gappy = rng.normal(size=n)
    gappy[rng.random(n) < 0.1] = np.nan
    table["gappy"] = gappy
    return table


def test_a_half_sd_shift_in_one_of_ten_columns_is_found() -> None:
    current = _table(2, 2_000)
    current["x3"] = current["x3"] + 0.5
    result = domain_classifier_drift(_table(1, 2_000), current)
    assert result.drifted, result
    assert result.auc is not None and result.auc > 0.58
    assert result.top_features[0][0] == "x3"


def test_a_doubled_variance_is_found() -> None:
    current = _table(4, 2_000)
    current["x5"] = current["x5"] * math.sqrt(2.0)
    result = domain_classifier_drift(_table(3, 2_000), current)
    assert result.drifted, result
    assert result.top_features[0][0] == "x5"


def test_a_new_category_on_thirty_percent_of_rows_is_found() -> None:
    current = _table(6, 2_000)
    current["colour"][np.random.default_rng(7).random(2_000) < 0.3] = "ultraviolet"
    result = domain_classifier_drift(_table(5, 2_000), current)
    assert result.drifted, result
    assert result.top_features[0][0] == "colour"


def test_more_missing_values_are_found() -> None:
    current = _table(9, 2_000)
    current["gappy"][: 2_000 // 3] = np.nan
    result = domain_classifier_drift(_table(8, 2_000), current)
    assert result.drifted and result.top_features[0][0] == "gappy", result


def test_two_samples_of_one_distribution_rarely_alarm() -> None:
    results = [
        domain_classifier_drift(_table(seed, 500), _table(seed + 1_000, 500), seed=seed)
        for seed in range(50)
    ]
    rate = float(np.mean([r.drifted for r in results]))
    aucs = [r.auc for r in results if r.auc is not None]
    assert rate <= 0.1, f"false alarm rate {rate:.2f} over 50 seeds, max AUC {max(aucs):.3f}"


def test_two_thousand_rows_of_twenty_columns_run_quickly() -> None:
    reference, current = _table(10, 2_000, columns=20), _table(11, 2_000, columns=20)
    start = time.perf_counter()
    result = domain_classifier_drift(reference, current)
    seconds = time.perf_counter() - start
    assert result.auc is not None
    assert seconds < 2.0, f"2,000 x 20 per side took {seconds:.3f} s (target 0.3 s)"


def test_too_few_rows_give_no_verdict() -> None:
    result = domain_classifier_drift(_table(12, 500), _table(13, 12))
    assert result.auc is None and not result.drifted
    assert result.note == "insufficient data: current has 12 rows (needs 30)"
    assert json.loads(json.dumps(result.to_dict()))["auc"] is None


def test_big_sides_are_sampled_and_the_threshold_follows_the_sizes() -> None:
    result = domain_classifier_drift(_table(14, 3_000), _table(15, 400), max_rows=1_000)
    assert (result.n_reference, result.n_current) == (1_000, 400)
    sd = math.sqrt((1_000 + 400 + 1) / (12 * 1_000 * 400))
    assert result.threshold == pytest.approx(max(0.55, 0.5 + 3 * sd))
    assert result.threshold == default_threshold(1_000, 400)
    again = domain_classifier_drift(_table(14, 3_000), _table(15, 400), max_rows=1_000)
    assert again == result


def test_columns_on_one_side_only_are_ignored() -> None:
    reference, current = _table(16, 300), _table(17, 300)
    reference["only_here"] = np.arange(300.0)
    current["only_there"] = np.arange(300.0) + 1e6
    result = domain_classifier_drift(reference, current, threshold=0.6)
    assert not result.drifted and result.threshold == 0.6
    assert {name for name, _ in result.top_features} <= set(_table(0, 1))
    none = domain_classifier_drift({"a": np.zeros(50)}, {"b": np.zeros(50)})
    assert none.auc is None and none.note == "no shared columns to compare"


def test_kinds_override_the_dtype() -> None:
    rng = np.random.default_rng(18)
    reference = {"code": rng.integers(0, 3, 1_000)}
    current = {"code": rng.choice([0, 1, 2], 1_000, p=[0.2, 0.2, 0.6])}
    result = domain_classifier_drift(reference, current, {"code": "categorical"})
    assert result.drifted
    assert result.to_dict()["top_features"][0]["column"] == "code"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kinds": {"x0": "ordinal"}}, "unknown column kind 'ordinal' for 'x0'"),
        ({"kinds": {"colour": "numeric"}}, "column 'colour' holds values that are not numbers"),
        ({"max_rows": 10}, "max_rows must be an integer of at least 30"),
        ({"folds": 1}, "folds must be an integer of at least 2"),
        ({"threshold": 0.4}, r"threshold must lie in \[0.5, 1\]"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        domain_classifier_drift(_table(19, 100), _table(20, 100), **kwargs)  # type: ignore[arg-type]


def test_columns_of_different_lengths_are_refused() -> None:
    current = _table(21, 100)
    current["x0"] = current["x0"][:50]
    with pytest.raises(InvalidInput, match=r"current columns differ in length: \[50, 100\]"):
        domain_classifier_drift(_table(22, 100), current)


def test_result_is_json_able() -> None:
    result = domain_classifier_drift(_table(23, 200), _table(24, 200))
    body = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert set(body) == {
        "auc",
        "threshold",
        "drifted",
        "n_reference",
        "n_current",
        "top_features",
        "note",
    }
    assert isinstance(result, DomainResult)
