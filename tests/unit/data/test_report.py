"""The data report: every column, the drift table when comparing, and no rows in the page."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopml import data
from loopml.errors import InvalidInput

SENTINEL = "SENTINEL-7f3a9c"
COLUMNS = ("amount", "plan", "user", "<b>odd name</b>")


def _frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    plans = rng.choice(["basic", "pro", "team"], n, p=[0.6 - shift / 2, 0.3, 0.1 + shift / 2])
    return pd.DataFrame(
        {
            "amount": rng.normal(100 + 40 * shift, 15, n),
            "plan": plans,
            "user": [f"user-{seed}-{i}" for i in range(n)],
            "<b>odd name</b>": rng.integers(0, 5, n),
        }
    )


def test_report_shows_every_column_of_one_version(tmp_home: Path) -> None:
    version = data.add("sales", _frame(2_000, 1))
    html = data.report(version.ref)
    assert html.startswith("<!DOCTYPE html>")
    for name in ("amount", "plan", "user", "&lt;b&gt;odd name&lt;/b&gt;"):
        assert f"<span>{name}</span>" in html
    assert "<b>odd name</b>" not in html
    assert html.count("<svg") == 3  # no chart for a column with no category seen twice
    assert "p-value" not in html and "<script" not in html


def test_report_compares_with_the_reference(tmp_home: Path) -> None:
    old = data.add("sales", _frame(2_000, 1))
    new = data.add("sales", _frame(2_000, 2, shift=0.5))
    html = data.report(new.ref, vs=old.ref)
    assert f"{new.ref} vs {old.ref}" in html
    assert f"{new.ref} (current)" in html and f"{old.ref} (reference)" in html
    assert "% of columns drifted" in html
    assert "<th>p-value</th>" in html and "wasserstein" in html
    drifted = re.findall(r'<tr class="drifted"><td><a href="#col-\d">([^<]+)</a>', html)
    assert set(drifted) >= {"amount", "plan"}
    assert html.count("<path") == 2  # the reference's step line on both histograms


def test_report_size_does_not_grow_with_rows(tmp_home: Path) -> None:
    sizes = {}
    for n in (1_000, 200_000):
        old = data.add(f"rows{n}", _frame(n, 1))
        new = data.add(f"rows{n}", _frame(n, 2, shift=0.5))
        sizes[n] = (len(data.report(new.ref)), len(data.report(new.ref, vs=old.ref)))
    for small, big in zip(sizes[1_000], sizes[200_000], strict=True):
        assert abs(big - small) <= 0.1 * small


def test_report_leaves_out_values_seen_once(tmp_home: Path) -> None:
    old = _frame(6_000, 1).assign(code=[f"code-{i % 300}" for i in range(6_000)])
    new = _frame(6_000, 2).assign(code=[f"code-{i % 300}" for i in range(6_000)])
    new.loc[4_999, ["user", "code"]] = SENTINEL  # the 5000th row
    first, second = data.add("events", old), data.add("events", new)
    for html in (data.report(second.ref), data.report(second.ref, vs=first.ref)):
        assert SENTINEL not in html
    assert "1 new (each seen fewer than 2 times)" in data.report(second.ref, vs=first.ref)


def test_report_of_a_folder_summarises_its_files(tmp_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("hello")
    first = data.add("docs", folder)
    (folder / "b.txt").write_text("world!")
    second = data.add("docs", folder)
    html = data.report(second.ref, vs=first.ref)
    assert "Files changed" in html and "11 bytes" in html
    assert "<svg" not in html
    assert "5 bytes" in data.report(first.ref)


def test_report_refuses_a_table_against_a_folder(tmp_home: Path, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello")
    data.add("docs", tmp_path / "a.txt")
    table = data.add("sales", _frame(100, 1))
    with pytest.raises(InvalidInput, match="cannot diff"):
        data.report(table.ref, vs="docs@1")


def test_write_report_creates_its_folder(tmp_home: Path, tmp_path: Path) -> None:
    version = data.add("sales", _frame(100, 1))
    path = data.write_report(version.ref, tmp_path / "out" / "report.html")
    assert path.read_text(encoding="utf-8") == data.report(version.ref)
