"""Mergeable column profiles (KLL, HLL, exact moments) and the drift tests that compare them."""

from loopml.stats.categorical import CategoricalProfile, profile_categorical
from loopml.stats.drift import (
    DEFAULT_RULE,
    DEFAULT_THRESHOLDS,
    ColumnDrift,
    DriftRule,
    choose_test,
    column_drift,
)
from loopml.stats.drift_result import DriftResult, compare
from loopml.stats.frequencies import Frequencies
from loopml.stats.numeric import NumericProfile, profile_numeric
from loopml.stats.profile import (
    ColumnProfile,
    TableProfile,
    column_from_dict,
    merge,
    profile_column,
    profile_table,
)
from loopml.stats.sketches import HLL_LG_K, HLL_RSE, KLL_K, KLL_RANK_ERROR, Distinct, Quantiles

__all__ = [
    "DEFAULT_RULE",
    "DEFAULT_THRESHOLDS",
    "HLL_LG_K",
    "HLL_RSE",
    "KLL_K",
    "KLL_RANK_ERROR",
    "CategoricalProfile",
    "ColumnDrift",
    "ColumnProfile",
    "Distinct",
    "DriftResult",
    "DriftRule",
    "Frequencies",
    "NumericProfile",
    "Quantiles",
    "TableProfile",
    "choose_test",
    "column_drift",
    "column_from_dict",
    "compare",
    "merge",
    "profile_categorical",
    "profile_column",
    "profile_numeric",
    "profile_table",
]
