"""Diagrams of workflows and cases (docs/diagrams.md): pure Python, no Graphviz, no network.

    graph.py    the graph to draw: states with their lines, edges, a case's path
    layout.py   a small layered layout (ranks, label nodes, barycentre order, coordinates)
    svg.py      the self-contained SVG writer (stable classes and data-* hooks)
    text.py     Mermaid (stateDiagram-v2) and Graphviz dot text

``render(graph, fmt)`` is the one entrance; ``workflow_graph`` and ``case_graph`` build the graph
of a definition, or of a case from its history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from engine.definition.model import Definition
from engine.diagram.graph import Graph, build, steps_of
from engine.diagram.svg import render_svg
from engine.diagram.text import render_dot, render_mermaid
from engine.store.rows import CaseRow, EventRow

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "Format",
    "Graph",
    "case_graph",
    "render",
    "workflow_graph",
]

Format = Literal["svg", "mermaid", "dot"]
FORMATS: tuple[Format, ...] = ("svg", "mermaid", "dot")
_WRITERS: dict[str, Callable[[Graph], str]] = {
    "svg": render_svg,
    "mermaid": render_mermaid,
    "dot": render_dot,
}
MEDIA_TYPES = {
    "svg": "image/svg+xml",
    "mermaid": "text/plain; charset=utf-8",
    "dot": "text/plain; charset=utf-8",
}


def workflow_graph(definition: Definition, version: int | None = None) -> Graph:
    return build(definition, version)


def case_graph(definition: Definition, case: CaseRow, events: Iterable[EventRow]) -> Graph:
    """The graph of ``case`` (of ``definition``, its version): its state and path marked."""
    return build(
        definition,
        case.workflow_version,
        case_id=case.id,
        current=case.state,
        steps=steps_of(definition, events),
    )


def render(graph: Graph, fmt: Format = "svg") -> str:
    """``graph`` as an SVG document, Mermaid or dot text."""
    return _WRITERS[fmt](graph)
