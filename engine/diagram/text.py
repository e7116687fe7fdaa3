"""The text formats of a ``Graph``: Mermaid ``stateDiagram-v2`` and a Graphviz ``digraph``, for
people who keep diagrams in Markdown or have Graphviz. Every name and title is quoted for its
format; a case's current state and taken edges are marked as in the SVG (classes, numbers)."""

from __future__ import annotations

import re

from engine.diagram.graph import Edge, Graph, Node
from engine.diagram.svg import FONT_FAMILY

__all__ = ["render_dot", "render_mermaid"]

# Words Mermaid's state grammar reads as keywords: such a state gets an id with a prefix.
_MERMAID_WORDS = frozenset(
    {
        "state",
        "note",
        "end",
        "direction",
        "class",
        "classdef",
        "style",
        "click",
        "as",
        "left",
        "right",
        "of",
        "over",
        "hide",
        "scale",
        "title",
        "accTitle",
        "accDescr",
    }
)
_MERMAID_ESCAPES = {
    "#": "#35;",
    ";": "#59;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "%": "#37;",
    "{": "#123;",
    "}": "#125;",
    "[": "#91;",
    "]": "#93;",
    "|": "#124;",
    "\\": "#92;",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _m(text: str) -> str:
    """Text for a Mermaid label: one line, its syntax characters as entity codes."""
    flat = _CONTROL.sub(" ", text)
    return "".join(_MERMAID_ESCAPES.get(c, c) for c in flat).strip() or " "


def _mid(name: str) -> str:
    return f"s_{name}" if name.lower() in {w.lower() for w in _MERMAID_WORDS} else name


def _edge_text(e: Edge) -> str:
    steps = f"({', '.join(map(str, e.steps))}) " if e.steps else ""
    timer = f" ⏰{e.timer}" if e.timer else ""
    return f"{steps}{e.title} ({e.trigger} · {e.who}){timer}"


def _mermaid_state(n: Node) -> list[str]:
    out = [f'    state "{_m(n.title)}" as {_mid(n.name)}']
    if n.lines:
        out.append(f"    note right of {_mid(n.name)}")
        for line in n.lines:
            mark = "⏰ " if line.clock else "↻ " if line.kind == "internal" else ""
            steps = f"({', '.join(map(str, line.steps))}) " if line.steps else ""
            out.append(f"        {_m(mark + steps + line.text)}")
        out.append("    end note")
    return out


def render_mermaid(g: Graph) -> str:
    version = f" v{g.version}" if g.version is not None else ""
    case = f" · 案件 #{g.case_id}" if g.case_id is not None else ""
    out = [
        "---",
        f'title: "{_m(g.title)}（{g.name}{version}）{case}"',
        "---",
        "stateDiagram-v2",
    ]
    for n in g.nodes:
        out += _mermaid_state(n)
    initial = next(n.name for n in g.nodes if n.initial)
    out.append(f"    [*] --> {_mid(initial)}")
    for e in g.edges:
        out.append(f"    {_mid(e.source)} --> {_mid(e.dest)} : {_m(_edge_text(e))}")
    for n in g.nodes:
        if n.final:
            out.append(f"    {_mid(n.name)} --> [*]")
    if g.case_id is not None:
        out.append("    classDef visited stroke:#d9480f,stroke-width:2px")
        out.append("    classDef current fill:#fff3cd,stroke:#d9480f,stroke-width:3px")
        visited = [_mid(n.name) for n in g.nodes if n.visited and not n.current]
        if visited:
            out.append(f"    class {','.join(visited)} visited")
        if g.current is not None:
            out.append(f"    class {_mid(g.current)} current")
    return "\n".join(out) + "\n"


def _d(text: str) -> str:
    """A dot double-quoted string (its content)."""
    flat = _CONTROL.sub(" ", text)
    return flat.replace("\\", "\\\\").replace('"', '\\"')


def _dot_node(n: Node) -> str:
    rows = [n.title, n.name + (" · 终态" if n.final else "")]
    for line in n.lines:
        mark = "⏰ " if line.clock else "↻ " if line.kind == "internal" else ""
        steps = f"({', '.join(map(str, line.steps))}) " if line.steps else ""
        rows.append(mark + steps + line.text)
    label = "\\n".join(_d(r) for r in rows)
    classes = " ".join(
        c
        for c, on in (
            ("state", True),
            ("final", n.final),
            ("visited", n.visited),
            ("current", n.current),
        )
        if on
    )
    style = "rounded,filled"
    colour = "#d9480f" if n.current or n.visited else "#2e7d32" if n.final else "#4a6fa5"
    fill = "#fff3cd" if n.current else "#eef7ee" if n.final else "#f5f8fc"
    extra = ", peripheries=2" if n.final else ""
    width = 3 if n.current else 1
    return (
        f'    "{_d(n.name)}" [label="{label}", id="state-{_d(n.name)}", class="{classes}", '
        f'style="{style}", color="{colour}", fillcolor="{fill}", penwidth={width}{extra}];'
    )


def render_dot(g: Graph) -> str:
    version = f" v{g.version}" if g.version is not None else ""
    case = f" · 案件 #{g.case_id}" if g.case_id is not None else ""
    font = _d(FONT_FAMILY.split(",")[0].strip("' "))
    out = [
        f'digraph "{_d(g.name)}" {{',
        f'    graph [label="{_d(g.title)}（{_d(g.name)}{version}）{case}", labelloc=t, '
        f'fontname="{font}", rankdir=TB];',
        f'    node [shape=box, fontname="{font}", fontsize=12];',
        f'    edge [fontname="{font}", fontsize=10];',
        '    "__start__" [shape=point, width=0.15, label=""];',
    ]
    out += [_dot_node(n) for n in g.nodes]
    initial = next(n.name for n in g.nodes if n.initial)
    out.append(f'    "__start__" -> "{_d(initial)}";')
    for e in g.edges:
        classes = "edge" + (" timer" if e.timer else "") + (" taken" if e.taken else "")
        attrs = f'label="{_d(_edge_text(e))}", id="edge-{_d(e.key)}", class="{classes}"'
        if e.taken:
            attrs += ', color="#d9480f", penwidth=2.5'
        elif e.timer:
            attrs += ', color="#6741d9", style=dashed'
        out.append(f'    "{_d(e.source)}" -> "{_d(e.dest)}" [{attrs}];')
    out.append("}")
    return "\n".join(out) + "\n"
