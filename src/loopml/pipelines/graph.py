"""A pipeline's graph as plain data for the renderers (text, Mermaid, SVG) in ``reports``."""

from __future__ import annotations

from collections.abc import Mapping

from loopml.pipelines.definition import Graph
from loopml.pipelines.runner import StepRun
from loopml.reports import Dag, DagNode


def to_dag(graph: Graph, steps: Mapping[str, StepRun] | None = None) -> Dag:
    """Nodes in call order with their status when a run is given; edges labelled by argument."""
    nodes = []
    for call in graph.calls:
        step = (steps or {}).get(call.name)
        nodes.append(
            DagNode(
                name=call.name,
                status=step.status if step else None,
                cached=bool(step and step.cached),
                detail="cache hit" if step and step.cached else "",
            )
        )
    edges = tuple(
        (handle.call, call.name, argument)
        for call in graph.calls
        for argument, handle in call.upstream.items()
    )
    return Dag(tuple(nodes), edges)
