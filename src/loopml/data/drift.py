"""``loopml.drift``: compare two datasets by their profiles — DataFrames, versions or profiles.

Monitoring builds on exactly this function, so the tests, thresholds and result shape are the
ones production windows will be judged by.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loopml.data.get import show
from loopml.data.sources import TableSource, classify
from loopml.data.tables import profile_arrow
from loopml.data.versions import DatasetVersion
from loopml.errors import InvalidInput
from loopml.stats import DriftResult, TableProfile, compare
from loopml.workspace import Workspace, default_workspace


def drift(
    reference: Any,
    current: Any,
    tests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    share_threshold: float = 0.5,
    *,
    workspace: Workspace | None = None,
) -> DriftResult:
    """Per-column drift (test by type and size unless ``tests`` names one) and dataset drift."""
    return compare(
        as_profile(reference, "reference", workspace),
        as_profile(current, "current", workspace),
        tests=tests,
        thresholds=thresholds,
        share_threshold=share_threshold,
    )


def as_profile(value: Any, role: str, workspace: Workspace | None = None) -> TableProfile:
    """The profile of a profile, a data version, a ``name@3`` reference or any table."""
    if isinstance(value, TableProfile):
        return value
    if isinstance(value, str):  # a data reference such as "churn@3"
        value = show(value, workspace=workspace or default_workspace())
    if isinstance(value, DatasetVersion):
        if value.profile is None:
            raise InvalidInput(
                f"{value.ref} is a {value.kind.value} version and has no table profile",
                field=role,
                hint="drift compares tables: pass a table version, a DataFrame or a profile",
            )
        return value.profile
    source = classify(value)
    if not isinstance(source, TableSource):
        raise InvalidInput(
            f"{role} must be a table, a data version or a profile, not a file or folder",
            field=role,
        )
    return profile_arrow(source.table)
