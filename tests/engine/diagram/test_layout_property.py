"""The layered layout on random graphs (cycles, parallel edges, self-loops, unreachable nodes):
every node placed, every edge routed from its source to its destination, and no two boxes
(nodes, labels) overlapping."""

from __future__ import annotations

from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.diagram.layout import Box, EdgeIn, layout

Rect = tuple[float, float, float, float]


@st.composite
def graphs(draw: st.DrawFn) -> tuple[dict[str, Box], list[EdgeIn]]:
    n = draw(st.integers(1, 9))
    names = [f"s{k}" for k in range(n)]
    size = st.builds(Box, st.floats(20, 300), st.floats(10, 120))
    sizes = {name: draw(size) for name in names}
    pairs = draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names)), max_size=16))
    labels = st.builds(Box, st.floats(1, 200), st.floats(0, 60))
    edges = [EdgeIn(f"e{k}", a, b, draw(labels)) for k, (a, b) in enumerate(pairs)]
    return sizes, edges


def _apart(a: Rect, b: Rect) -> bool:
    eps = 1e-6
    return a[2] <= b[0] + eps or b[2] <= a[0] + eps or a[3] <= b[1] + eps or b[3] <= a[1] + eps


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_layout_places_everything_without_overlap(
    graph: tuple[dict[str, Box], list[EdgeIn]],
) -> None:
    sizes, edges = graph
    placed = layout(sizes, edges)
    assert set(placed.nodes) == set(sizes)
    assert set(placed.routes) == {e.key for e in edges}
    rects: dict[str, Rect] = {}
    for name, (x, y) in placed.nodes.items():
        b = sizes[name]
        rects[name] = (x - b.w / 2, y - b.h / 2, x + b.w / 2, y + b.h / 2)
    for e in edges:
        route = placed.routes[e.key]
        (x0, y0), (x1, y1) = route.points[0], route.points[-1]
        src, dst = rects[e.source], rects[e.dest]
        assert src[0] - 1 <= x0 <= src[2] + 1
        assert src[1] - 1 <= y0 <= src[3] + 1
        assert dst[0] - 1 <= x1 <= dst[2] + 1
        assert dst[1] - 1 <= y1 <= dst[3] + 1
        lx, ly = route.label
        rects[f"label {e.key}"] = (lx, ly, lx + e.label.w, ly + e.label.h)
    for (a, ra), (b, rb) in combinations(rects.items(), 2):
        assert _apart(ra, rb), f"{a} {ra} overlaps {b} {rb}"
    assert all(r[0] >= -1e-6 and r[1] >= -1e-6 for r in rects.values())
    assert all(r[2] <= placed.width + 1e-6 and r[3] <= placed.height + 1e-6 for r in rects.values())
