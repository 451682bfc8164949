"""SVG charts are well-formed XML, escape every label and refuse mismatched inputs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from loopml.errors import InvalidInput
from loopml.reports import bars_svg, histogram_svg, page, table

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert('x')</script>"


def _texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter() if node.tag in {f"{SVG}title"}]


def test_histogram_svg_is_well_formed() -> None:
    svg = histogram_svg([0.0, 1.0, 2.0, 3.0], [5.0, 10.0, 2.5])
    root = ET.fromstring(svg)
    bars = [r for r in root.iter(f"{SVG}rect")]
    assert root.tag == f"{SVG}svg"
    assert len(bars) == 3
    assert all(float(r.get("height", "-1")) >= 0 for r in bars)


def test_histogram_svg_overlays_the_reference_with_a_legend() -> None:
    svg = histogram_svg(
        [0.0, 1.0, 2.0],
        [0.25, 0.75],
        overlay_counts=[0.5, 0.5],
        labels=("now", EVIL),
        percent=True,
    )
    root = ET.fromstring(svg)
    assert len(list(root.iter(f"{SVG}path"))) == 1
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    legend = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "now" in legend and EVIL in legend
    assert "80%" in legend  # the y-axis reads as shares, up to a round step above 75%


def test_histogram_svg_draws_a_constant_column() -> None:
    root = ET.fromstring(histogram_svg([4.0, 4.0], [7.0]))
    assert len(list(root.iter(f"{SVG}rect"))) == 1


def test_bars_svg_escapes_category_labels() -> None:
    names = [EVIL, "a & b", 'say "hi"', "tab\there"]
    svg = bars_svg(names, [4, 3, 2, 1], [1, 2, 3, 4], labels=("cur", "ref"))
    root = ET.fromstring(svg)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    titles = _texts(root)
    for name in names:
        assert any(t.startswith(name) for t in titles)  # full names survive in tooltips


def test_bars_svg_replaces_characters_xml_forbids() -> None:
    root = ET.fromstring(bars_svg(["nul\x00byte", "bell\x07"], [1, 2]))
    assert any("nul\ufffdbyte" in t for t in _texts(root))


def test_bars_svg_without_categories_says_so() -> None:
    root = ET.fromstring(bars_svg([], []))
    assert "no categories" in "".join(root.itertext())


@pytest.mark.parametrize(
    ("edges", "counts", "overlay"),
    [([0.0, 1.0], [1.0, 2.0], None), ([0.0, 1.0, 2.0], [1.0, 2.0], [1.0])],
)
def test_histogram_svg_rejects_mismatched_bins(
    edges: list[float], counts: list[float], overlay: list[float] | None
) -> None:
    with pytest.raises(InvalidInput, match=r"edge|per bin"):
        histogram_svg(edges, counts, overlay_counts=overlay)


def test_bars_svg_rejects_mismatched_lengths() -> None:
    with pytest.raises(InvalidInput, match="one value each"):
        bars_svg(["a", "b"], [1.0])


def test_page_and_table_escape_text() -> None:
    html = page(EVIL, [table([EVIL], [[EVIL], [1234.5], [None]])])
    assert "<script>" not in html
    assert html.count("&lt;script&gt;") == 4  # <title>, <h1>, the header and the cell
    assert "1,234" in html and "—" in html
