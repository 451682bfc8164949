"""Curves, confusion matrices and scatters: well-formed SVG, escaped labels, odd data drawn."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from loopml.errors import InvalidInput
from loopml.reports.charts import CURRENT, REFERENCE, lines_svg, matrix_svg, scatter_svg

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert('x')</script>"
NAN, INF = float("nan"), float("inf")


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def _all(root: ET.Element, tag: str) -> list[ET.Element]:
    return list(root.iter(f"{SVG}{tag}"))


def _texts(root: ET.Element) -> list[str]:
    """Visible text: each ``<text>`` without the tooltip inside it."""
    return [node.text or "" for node in _all(root, "text")]


def _dashed(root: ET.Element) -> list[ET.Element]:
    return [line for line in _all(root, "line") if line.get("stroke-dasharray")]


def _points(polyline: ET.Element) -> list[tuple[float, float]]:
    pairs = (p.split(",") for p in polyline.get("points", "").split())
    return [(float(x), float(y)) for x, y in pairs]


def _inside(root: ET.Element, x: float, y: float) -> bool:
    return 0 <= x <= float(root.get("width", "0")) and 0 <= y <= float(root.get("height", "0"))


def _no_numbers_lost(svg: str) -> None:
    assert "nan" not in svg.lower() and "inf" not in svg.lower()


ROC = [0.0, 0.1, 0.3, 0.6, 1.0]


def test_lines_svg_draws_one_line_per_series_with_a_legend() -> None:
    fpr = [i / 50 for i in range(51)]
    root = _parse(
        lines_svg(
            [("challenger", fpr, [f**0.3 for f in fpr]), ("champion", fpr, [f**0.6 for f in fpr])],
            x_label="false positive rate",
            y_label="true positive rate",
            x_range=(0.0, 1.0),
            y_range=(0.0, 1.0),
            title="ROC",
        )
    )
    lines = _all(root, "polyline")
    assert [line.get("stroke") for line in lines] == [CURRENT, REFERENCE]
    assert all(len(_points(line)) == 51 for line in lines)
    assert all(_inside(root, x, y) for line in lines for x, y in _points(line))
    texts = _texts(root)
    for text in ("challenger", "champion", "ROC", "false positive rate", "0", "0.5", "1"):
        assert text in texts
    assert not _all(root, "circle")  # more than 20 points: the line alone
    assert not _dashed(root)


def test_lines_svg_tells_four_series_apart() -> None:
    series = [(f"model {i}", ROC, [v ** (i + 1) for v in ROC]) for i in range(4)]
    root = _parse(lines_svg(series, x_label="x", y_label="y"))
    lines = _all(root, "polyline")
    assert len(lines) == 4
    assert len({(line.get("stroke"), line.get("stroke-dasharray")) for line in lines}) == 4


def test_lines_svg_draws_a_dashed_diagonal_from_corner_to_corner() -> None:
    root = _parse(
        lines_svg(
            [("model", ROC, ROC)],
            x_label="fpr",
            y_label="tpr",
            x_range=(0.0, 1.0),
            y_range=(0.0, 1.0),
            diagonal=True,
        )
    )
    (diagonal,) = _dashed(root)
    (line,) = _all(root, "polyline")
    ends = _points(line)
    start, end = (
        (float(diagonal.get("x1", "")), float(diagonal.get("y1", ""))),
        (
            float(diagonal.get("x2", "")),
            float(diagonal.get("y2", "")),
        ),
    )
    assert (start, end) == (ends[0], ends[-1])  # y = x from (0, 0) to (1, 1)


def test_lines_svg_marks_the_points_of_a_short_series() -> None:
    predicted = [0.05 + 0.1 * i for i in range(10)]
    observed = [0.04 + 0.1 * i for i in range(10)]
    root = _parse(
        lines_svg(
            [("challenger", predicted, observed)],
            x_label="mean predicted",
            y_label="observed frequency",
            diagonal=True,
        )
    )
    circles = _all(root, "circle")
    assert len(circles) == 10
    assert len(_dashed(root)) == 1


def test_lines_svg_escapes_every_label() -> None:
    svg = lines_svg(
        [(EVIL, ROC, ROC), ("a & b", ROC, ROC)],
        x_label=EVIL,
        y_label=EVIL,
        title=EVIL,
    )
    root = _parse(svg)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "a &amp; b" in svg
    tips = ["".join(t.itertext()) for t in _all(root, "title")]
    assert EVIL in tips  # the whole name survives in a tooltip where the label is clipped


def test_lines_svg_skips_points_that_are_not_finite() -> None:
    root = _parse(
        lines_svg(
            [("a", [0.0, NAN, 0.5, INF, 1.0], [0.0, 0.5, NAN, 1.0, 1.0]), ("b", [NAN], [NAN])],
            x_label="x",
            y_label="y",
        )
    )
    (line,) = _all(root, "polyline")  # a series with no finite point draws no line...
    assert len(_points(line)) == 2
    assert "b" in _texts(root)  # ...but keeps its legend entry


@pytest.mark.parametrize(
    "series",
    [[], [("a", [], [])], [("a", [NAN, INF], [1.0, 2.0])]],
    ids=["no series", "empty series", "nothing finite"],
)
def test_lines_svg_without_data_says_so(
    series: list[tuple[str, list[float], list[float]]],
) -> None:
    root = _parse(lines_svg(series, x_label="x", y_label="y", title="PR curve"))
    assert "no data" in "".join(root.itertext())
    assert not _all(root, "polyline")


@pytest.mark.parametrize(
    ("xs", "ys", "x_range"),
    [
        ([1.0, 1.0, 1.0], [2.0, 2.0, 2.0], None),
        ([0.0, 0.0], [0.0, 0.0], None),
        ([0.5], [0.5], (0.3, 0.3)),
        ([1e-300, 1e-300], [-1e299, 1e299], None),
        ([1e308, 1.0, 2.0], [1.0, 1.0, 1.0], (NAN, 1.0)),
    ],
    ids=["constant", "all zero", "degenerate pinned range", "extremes", "huge and nan range"],
)
def test_lines_svg_pads_a_degenerate_range(
    xs: list[float], ys: list[float], x_range: tuple[float, float] | None
) -> None:
    svg = lines_svg([("a", xs, ys)], x_label="x", y_label="y", x_range=x_range)
    root = _parse(svg)
    _no_numbers_lost(svg)
    points = [(float(c.get("cx", "")), float(c.get("cy", ""))) for c in _all(root, "circle")]
    assert points and all(_inside(root, x, y) for x, y in points)


def test_lines_svg_widens_a_pinned_range_to_the_data() -> None:
    root = _parse(
        lines_svg([("a", [0.0, 2.0], [0.0, 1.0])], x_label="x", y_label="y", x_range=(0, 1))
    )
    (line,) = _all(root, "polyline")
    assert all(_inside(root, x, y) for x, y in _points(line))


def test_lines_svg_thins_a_long_line() -> None:
    n = 50_000
    xs = [i / n for i in range(n)]
    ys = [0.5 + 0.4 * math.sin(i) for i in range(n)]
    root = _parse(lines_svg([("noisy", xs, ys)], x_label="recall", y_label="precision"))
    (line,) = _all(root, "polyline")
    points = _points(line)
    assert 100 < len(points) <= 2000
    assert points[0][0] < points[-1][0]  # first and last kept: the line spans the whole axis


def test_lines_svg_rejects_a_series_of_unequal_lengths() -> None:
    with pytest.raises(InvalidInput, match="one y per x"):
        lines_svg([("a", [0.0, 1.0], [0.0])], x_label="x", y_label="y")


def test_matrix_svg_shades_cells_by_their_share_of_the_row() -> None:
    counts = [[50, 3, 2], [4, 40, 10], [0, 0, 0]]
    root = _parse(matrix_svg(["cat", "dog", "bird"], counts, title="Confusion"))
    cells = _all(root, "rect")
    assert len(cells) == 9
    opacity = [float(c.get("fill-opacity", "")) for c in cells]
    assert opacity[0] > opacity[4] > opacity[5] > opacity[3] > opacity[1]
    assert opacity[6:] == [opacity[6]] * 3  # an empty row is all light, with no division by zero
    texts = _texts(root)
    for count in (50, 3, 2, 4, 40, 10):
        assert str(count) in texts
    assert texts.count("0") == 3
    for text in ("cat", "dog", "bird", "predicted", "actual", "Confusion"):
        assert text in texts
    tips = ["".join(t.itertext()) for t in _all(root, "title")]
    assert "actual cat → predicted cat: 50 (90.9% of actual cat)" in tips


def test_matrix_svg_prints_light_text_on_dark_cells() -> None:
    root = _parse(matrix_svg(["no", "yes"], [[90_123, 877], [1_200, 5_000]]))
    by_text = {t.text: t.get("fill") for t in _all(root, "text")}
    assert by_text["90,123"] == "#ffffff" and by_text["5,000"] == "#ffffff"
    assert by_text["877"] is None and by_text["1,200"] is None  # the group's dark ink


def test_matrix_svg_clips_and_escapes_labels() -> None:
    long = "a rather long class name"
    svg = matrix_svg([EVIL, long], [[1, 2], [3, 4]], x_label="<i>guess</i>")
    root = _parse(svg)
    assert "<script>" not in svg and "<i>" not in svg
    texts = _texts(root)
    assert long not in texts and any(t.startswith("a rather") and t.endswith("…") for t in texts)
    tips = ["".join(t.itertext()) for t in _all(root, "title")]
    assert long in tips and EVIL in tips


def test_matrix_svg_fits_twenty_classes() -> None:
    n = 20
    counts = [[100 if i == j else (i * j) % 13 for j in range(n)] for i in range(n)]
    svg = matrix_svg([f"class_{i}" for i in range(n)], counts)
    root = _parse(svg)
    assert len(_all(root, "rect")) == n * n
    assert float(root.get("width", "")) <= 640
    assert len(svg) < 100_000


def test_matrix_svg_survives_odd_counts() -> None:
    svg = matrix_svg(["a", "b"], [[NAN, 1], [INF, -3]])  # type: ignore[list-item]
    root = _parse(svg)
    _no_numbers_lost(svg)
    assert len(_all(root, "rect")) == 4
    assert "–" in _texts(root)


def test_matrix_svg_without_classes_says_so() -> None:
    assert "no data" in "".join(_parse(matrix_svg([], [])).itertext())


@pytest.mark.parametrize("counts", [[[1, 2]], [[1, 2], [3]], [[1], [2]]])
def test_matrix_svg_rejects_a_matrix_that_is_not_square(counts: list[list[int]]) -> None:
    with pytest.raises(InvalidInput, match="rows of 2 counts"):
        matrix_svg(["a", "b"], counts)


def test_scatter_svg_draws_at_most_max_points() -> None:
    n = 20_000
    actual = [float(i % 97) for i in range(n)]
    predicted = [a + (i % 7) - 3 for i, a in enumerate(actual)]
    svg = scatter_svg(predicted, actual, x_label="predicted", y_label="actual", diagonal=True)
    root = _parse(svg)
    circles = _all(root, "circle")
    assert len(circles) == 2000
    assert all(_inside(root, float(c.get("cx", "")), float(c.get("cy", ""))) for c in circles)
    assert "2,000 of 20,000 points shown" in _texts(root)
    assert len(_dashed(root)) == 1
    assert len(svg) < 120_000


def test_scatter_svg_keeps_a_small_sample_whole() -> None:
    root = _parse(scatter_svg([1.0, 2.0, 3.0], [1.0, 4.0, 9.0], x_label="x", y_label="y"))
    assert len(_all(root, "circle")) == 3
    assert not any("points shown" in t for t in _texts(root))
    assert not _dashed(root)


def test_scatter_svg_draws_a_residual_baseline() -> None:
    residuals = [0.5, -0.25, 0.1, -0.4]
    root = _parse(
        scatter_svg(
            [1.0, 2.0, 3.0, 4.0], residuals, x_label="predicted", y_label="residual", hline=0.0
        )
    )
    (baseline,) = _dashed(root)
    assert baseline.get("y1") == baseline.get("y2")
    assert len(_all(root, "circle")) == 4


def test_scatter_svg_shows_the_baseline_when_data_lies_above_it() -> None:
    root = _parse(scatter_svg([1.0, 2.0], [5.0, 6.0], x_label="x", y_label="y", hline=0.0))
    (baseline,) = _dashed(root)
    assert _inside(root, float(baseline.get("x1", "")), float(baseline.get("y1", "")))


def test_scatter_svg_skips_points_that_are_not_finite() -> None:
    svg = scatter_svg(
        [1.0, NAN, 3.0, INF, 5.0], [1.0, 2.0, -INF, 4.0, 5.0], x_label="x", y_label="y", hline=NAN
    )
    root = _parse(svg)
    _no_numbers_lost(svg)
    assert len(_all(root, "circle")) == 2
    assert not _dashed(root)


@pytest.mark.parametrize(
    ("xs", "ys"),
    [([], []), ([NAN, INF], [1.0, 2.0])],
    ids=["empty", "nothing finite"],
)
def test_scatter_svg_without_data_says_so(xs: list[float], ys: list[float]) -> None:
    root = _parse(scatter_svg(xs, ys, x_label="x", y_label="y", title=EVIL))
    assert "no data" in "".join(root.itertext())
    assert EVIL in "".join(root.itertext())


def test_scatter_svg_draws_constant_values() -> None:
    svg = scatter_svg([3.0] * 5, [3.0] * 5, x_label="x", y_label="y", diagonal=True)
    _no_numbers_lost(svg)
    assert len(_all(_parse(svg), "circle")) == 5


def test_scatter_svg_escapes_labels() -> None:
    svg = scatter_svg([1.0, 2.0], [1.0, 2.0], x_label=EVIL, y_label=EVIL, title=EVIL)
    _parse(svg)
    assert "<script>" not in svg and svg.count("&lt;script&gt;") >= 3


def test_scatter_svg_rejects_bad_arguments() -> None:
    with pytest.raises(InvalidInput, match="one y per x"):
        scatter_svg([1.0], [1.0, 2.0], x_label="x", y_label="y")
    with pytest.raises(InvalidInput, match="max_points"):
        scatter_svg([1.0], [1.0], x_label="x", y_label="y", max_points=0)


def test_charts_are_deterministic() -> None:
    xs = [((i * 7919) % 1000) / 10 for i in range(5000)]
    ys = [x + ((i * 104729) % 21 - 10) for i, x in enumerate(xs)]

    def render() -> list[str]:
        return [
            lines_svg([("a", ROC, ROC), ("b", ROC, ROC[::-1])], x_label="x", y_label="y"),
            matrix_svg(["a", "b", "c"], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
            scatter_svg(xs, ys, x_label="x", y_label="y", max_points=300),
        ]

    assert render() == render()
    one = scatter_svg(xs, ys, x_label="x", y_label="y", max_points=1)
    assert len(_all(_parse(one), "circle")) == 1
