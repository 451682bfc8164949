"""Mergeable column profiles (KLL, HLL, exact moments) and the drift tests that compare them."""

from loopml.stats.calibration import Calibrator, fit_calibrator
from loopml.stats.categorical import CategoricalProfile, profile_categorical
from loopml.stats.domain import DomainResult, domain_classifier_drift
from loopml.stats.drift import (
    DEFAULT_RULE,
    DEFAULT_THRESHOLDS,
    ColumnDrift,
    DriftRule,
    choose_test,
    column_drift,
)
from loopml.stats.drift_result import DriftResult, compare
from loopml.stats.estimation import EstimatedMetric, estimate_classification
from loopml.stats.frequencies import Frequencies
from loopml.stats.learned import LearnedThreshold, learn_thresholds
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
    "Calibrator",
    "CategoricalProfile",
    "ColumnDrift",
    "ColumnProfile",
    "Distinct",
    "DomainResult",
    "DriftResult",
    "DriftRule",
    "EstimatedMetric",
    "Frequencies",
    "LearnedThreshold",
    "NumericProfile",
    "Quantiles",
    "TableProfile",
    "choose_test",
    "column_drift",
    "column_from_dict",
    "compare",
    "domain_classifier_drift",
    "estimate_classification",
    "fit_calibrator",
    "learn_thresholds",
    "merge",
    "profile_categorical",
    "profile_column",
    "profile_numeric",
    "profile_table",
]
