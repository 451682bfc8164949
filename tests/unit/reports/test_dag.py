"""Pipeline DAGs layer by longest path, refuse cycles and unknown steps, and render every step
and edge once as text, Mermaid and well-formed, escaped, deterministic SVG."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from loopml.errors import InvalidInput
from loopml.reports import Dag, DagNode, dag_mermaid, dag_svg, dag_text, layers

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert('x')</script>"


def _dag(names: str, *edges: tuple[str, str] | tuple[str, str, str]) -> Dag:
    return Dag(
        nodes=tuple(DagNode(name) for name in names.split()),
        edges=tuple((e[0], e[1], e[2] if len(e) == 3 else "") for e in edges),
    )


# load → features, split → train → report, with report also reading load directly.
PIPELINE = Dag(
    nodes=(
        DagNode("report", "pending"),
        DagNode("train", "finished", cached=True, detail="2.3 s"),
        DagNode("split", "failed"),
        DagNode("features", "running"),
        DagNode("load", "finished", detail="0.4 s"),
    ),
    edges=(
        ("load", "features", "raw"),
        ("load", "split", "raw"),
        ("features", "train", "X"),
        ("split", "train", "y"),
        ("train", "report", "model"),
        ("load", "report", "schema"),
    ),
)


def test_a_diamond_layers_by_longest_path() -> None:
    dag = _dag("d c b a", ("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("a", "d"))
    assert layers(dag) == [["a"], ["c", "b"], ["d"]]  # input order within a layer


def test_independent_branches_share_layers_in_input_order() -> None:
    dag = _dag("x1 y1 x2 y2 x3 lone", ("x1", "x2"), ("x2", "x3"), ("y1", "y2"))
    assert layers(dag) == [["x1", "y1", "lone"], ["x2", "y2"], ["x3"]]
    assert layers(Dag(nodes=())) == []


def test_a_cycle_is_refused_naming_its_steps() -> None:
    dag = _dag("src a b c after", ("src", "a"), ("a", "b"), ("b", "c"), ("c", "a"), ("c", "after"))
    with pytest.raises(InvalidInput, match=r"cycle: 'a' → 'b' → 'c' → 'a'") as caught:
        layers(dag)
    assert caught.value.field == "edges"
    with pytest.raises(InvalidInput, match=r"cycle: 'self' → 'self'"):
        dag_svg(_dag("self", ("self", "self")))


def test_an_edge_to_an_unknown_step_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"names an unknown step 'ghost'"):
        layers(_dag("a b", ("a", "ghost", "x")))
    with pytest.raises(InvalidInput, match=r"names an unknown step 'ghost'"):
        dag_mermaid(_dag("a b", ("ghost", "b")))
    with pytest.raises(InvalidInput, match=r"step 'a' appears more than once"):
        dag_text(_dag("a a"))


def test_text_lists_every_step_once_in_topological_order() -> None:
    text = dag_text(PIPELINE)
    header, *rows = text.splitlines()
    assert header == "pipeline: 5 steps, 6 edges, 4 layers"
    # layer order; within a layer, input order (split is listed before features)
    assert [row.split()[1] for row in rows] == ["load", "split", "features", "train", "report"]
    train = next(row for row in rows if row.split()[1] == "train")
    assert "← features (X), split (y)" in train
    assert train.endswith("[finished, cached, 2.3 s]")
    assert next(row for row in rows if row.split()[1] == "load").endswith("[finished, 0.4 s]")
    assert dag_text(PIPELINE) == text
    assert dag_text(Dag(nodes=())) == "pipeline: no steps\n"


def test_text_keeps_control_characters_out_of_the_terminal() -> None:
    text = dag_text(Dag(nodes=(DagNode("bad\nname\x1b[31m", detail="\r"),)))
    assert len(text.splitlines()) == 2
    assert "\x1b" not in text


def test_mermaid_has_a_line_per_step_and_per_edge_with_classes() -> None:
    mermaid = dag_mermaid(PIPELINE)
    lines = mermaid.splitlines()
    assert lines[0] == "flowchart LR"
    node_lines = [line for line in lines if re.fullmatch(r'\s+\w+\[".*"\]', line)]
    edge_lines = [line for line in lines if "-->" in line]
    assert len(node_lines) == len(PIPELINE.nodes)
    assert len(edge_lines) == len(PIPELINE.edges)
    assert '  s_load -->|"raw"| s_features' in lines
    assert "  classDef cached stroke-dasharray:5 3" in lines
    assert "  class s_train,s_load finished" in lines
    assert "  class s_split failed" in lines
    assert "  class s_report pending" in lines
    assert "  class s_train cached" in lines
    assert dag_mermaid(Dag(nodes=())) == "flowchart LR\n  %% no steps\n"


def test_mermaid_sanitises_ids_and_escapes_labels() -> None:
    odd = 'say "hi" <b>'
    dag = Dag(
        nodes=(DagNode(odd), DagNode("end"), DagNode("say _hi_ _b_"), DagNode("a|b#c")),
        edges=((odd, "end", 'in "x"'), ("end", "a|b#c", "")),
    )
    lines = dag_mermaid(dag).splitlines()
    node_lines = [line for line in lines if "[" in line]
    assert len(node_lines) == 4
    ids = [line.split("[")[0].strip() for line in node_lines]
    assert all(re.fullmatch(r"s_\w+", i) for i in ids)
    assert len(set(ids)) == 4  # two names sanitise alike and still get distinct ids
    label = node_lines[0].split("[", 1)[1]
    assert label == '"say #34;hi#34; #60;b#62;"]'
    edges = [line for line in lines if "-->" in line]
    assert edges[0].endswith('-->|"in #34;x#34;"| s_end')
    assert "a#124;b#35;c" in node_lines[3]


def _svg_root(dag: Dag, title: str = "") -> tuple[str, ET.Element]:
    svg = dag_svg(dag, title=title)
    return svg, ET.fromstring(svg)


def test_svg_draws_a_box_per_step_and_an_arrow_per_edge() -> None:
    svg, root = _svg_root(PIPELINE, title="demo")
    assert root.tag == f"{SVG}svg"
    assert len(list(root.iter(f"{SVG}rect"))) == len(PIPELINE.nodes)
    arrows = list(root.iter(f"{SVG}path")) + list(root.iter(f"{SVG}line"))
    assert len(arrows) == len(PIPELINE.edges)
    marker = root.find(f"{SVG}defs/{SVG}marker")
    assert marker is not None
    assert all(a.get("marker-end") == f"url(#{marker.get('id')})" for a in arrows)
    rects = {
        "".join(g.itertext()).split("\n")[0]: g.find(f"{SVG}rect") for g in root.iter(f"{SVG}g")
    }
    assert rects["train"] is not None and rects["train"].get("stroke-dasharray")
    assert rects["split"] is not None and rects["split"].get("fill") == "#fde8e8"
    assert rects["load"] is not None and rects["load"].get("stroke-dasharray") is None
    columns = {name: float(rect.get("x", "0")) for name, rect in rects.items() if rect is not None}
    assert columns["load"] < columns["features"] == columns["split"] < columns["train"]
    assert dag_svg(PIPELINE, title="demo") == svg  # deterministic


def test_svg_escapes_and_clips_names_keeping_the_full_name_in_a_title() -> None:
    long_name = "featurise_" + "x" * 80
    dag = Dag(
        nodes=(DagNode(EVIL, detail="<b>"), DagNode(long_name)),
        edges=((EVIL, long_name, EVIL),),
    )
    svg, root = _svg_root(dag, title=EVIL)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    titles = ["".join(t.itertext()) for t in root.iter(f"{SVG}title")]
    assert long_name in titles
    shown = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert long_name not in "".join(shown)
    assert any(text.startswith("featurise_x") and text.endswith("…") for text in shown)


def test_svg_grows_with_the_graph_and_handles_the_edges_of_size() -> None:
    _, empty = _svg_root(Dag(nodes=()))
    assert "no steps" in "".join(empty.itertext())
    assert not list(empty.iter(f"{SVG}rect"))
    _, one = _svg_root(_dag("only"))
    assert len(list(one.iter(f"{SVG}rect"))) == 1
    steps = [f"s{i}" for i in range(100)]
    chain = _dag(" ".join(steps), *itertools.pairwise(steps))
    fan = _dag(
        "root " + " ".join(f"leaf{i}" for i in range(99)),
        *(("root", f"leaf{i}", "in") for i in range(99)),
    )
    for dag in (chain, fan):
        _, root = _svg_root(dag)
        assert len(list(root.iter(f"{SVG}rect"))) == 100
        assert len(list(root.iter(f"{SVG}path"))) == 99
    assert float(_svg_root(chain)[1].get("width", "0")) > 10 * float(one.get("width", "0"))
    assert float(_svg_root(fan)[1].get("height", "0")) > 10 * float(one.get("height", "0"))


def test_svg_routes_an_edge_that_skips_columns_around_the_boxes() -> None:
    dag = _dag("a b c", ("a", "b"), ("b", "c"), ("a", "c"))
    _, root = _svg_root(dag)
    boxes = [
        (float(r.get("y", "0")), float(r.get("y", "0")) + float(r.get("height", "0")))
        for r in root.iter(f"{SVG}rect")
    ]
    b_top, b_bottom = boxes[1]
    skip = next(p for p in root.iter(f"{SVG}path") if "".join(p.itertext()) == "a → c")
    run = re.search(r"H[\d.]+", skip.get("d", ""))
    assert run is not None  # a straight run through b's column...
    y_before = float(skip.get("d", "").split("H")[0].rsplit(",", 1)[1])
    assert not b_top <= y_before <= b_bottom  # ...beside b's box, not through it
