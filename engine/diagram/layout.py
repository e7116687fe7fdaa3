"""A small layered (Sugiyama-style) layout, top to bottom, in pure Python.

1. **Ranks.** A breadth-first walk from the first node (the start, then the initial state)
   orders the nodes; the edges going against that order are laid out reversed, so the rest is
   acyclic, and each node gets the longest-path rank from the top.
2. **Layers.** State ranks become the even layers; every edge becomes a chain of virtual nodes
   through the layers between its ends, and the chain's node in the layer next to the edge's
   real source is the edge's *label*, a box of the label's size. Labels take part in the layout
   like nodes, so they never sit on a node or on another label.
3. **Order.** Barycentre sweeps, down and up, keeping the order with the fewest crossings.
4. **Coordinates.** Each layer is packed left to right in its order; a few sweeps pull every
   node towards the mean of its neighbours, keeping the gaps.
5. **Routes.** An edge leaves its source's bottom (a reversed edge: its top), passes the left
   side of its label and through its virtual nodes, and ends on its destination's side; the
   ports of one side are spread by the direction they go.

A self-loop (a transition back into its own source, not an internal one) gets its label to the
right of its node: the node takes the room for its loops' labels, stacked, in the layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Box", "EdgeIn", "Placed", "Route", "layout"]

LAYER_GAP = 26.0
NODE_GAP = 30.0
DUMMY_WIDTH = 14.0
LOOP_GAP = 34.0
LOOP_STACK = 6.0
SWEEPS = 12


@dataclass(frozen=True)
class Box:
    w: float
    h: float


@dataclass(frozen=True)
class EdgeIn:
    key: str
    source: str
    dest: str
    label: Box


@dataclass(frozen=True)
class Route:
    points: tuple[tuple[float, float], ...]  # from the real source to the real destination
    label: tuple[float, float]  # top-left corner of the label box
    loop: bool = False


@dataclass
class Placed:
    nodes: dict[str, tuple[float, float]] = field(default_factory=dict)  # centres
    routes: dict[str, Route] = field(default_factory=dict)
    width: float = 0.0
    height: float = 0.0


@dataclass
class _V:
    """A node of the layered graph: a real node, a label or a bend of an edge."""

    id: str
    w: float
    h: float
    layer: int
    x: float = 0.0
    y: float = 0.0
    up: list[str] = field(default_factory=list)
    down: list[str] = field(default_factory=list)


def _walk(names: Sequence[str], edges: Sequence[EdgeIn]) -> dict[str, tuple[int, int]]:
    """Each node's (depth, place) in breadth-first walks from the first node, then from each
    node not reached yet."""
    out: dict[str, list[str]] = {n: [] for n in names}
    for e in edges:
        out[e.source].append(e.dest)
    order: dict[str, tuple[int, int]] = {}
    base = 0
    for root in names:
        if root in order:
            continue
        queue, depth = [root], {root: base}
        for node in queue:  # grows while it is walked
            order[node] = (depth[node], len(order))
            fresh = [n for n in dict.fromkeys(out[node]) if n not in depth and n not in order]
            for nxt in fresh:
                depth[nxt] = depth[node] + 1
                queue.append(nxt)
        base = max(d for d, _ in order.values()) + 1
    return order


def _ranks(names: Sequence[str], edges: Sequence[EdgeIn]) -> tuple[dict[str, int], set[str]]:
    """Each node's rank and the keys of the edges laid out reversed: a breadth-first walk from
    the first node (then from each node not reached) orders the nodes; an edge against that
    order is reversed, so the rest is acyclic and forward transitions point down."""
    order = _walk(names, edges)
    reversed_keys = {e.key for e in edges if order[e.dest] < order[e.source]}
    rank = {n: 0 for n in names}
    for _ in names:  # longest path on the acyclic orientation (Bellman-Ford style)
        changed = False
        for e in edges:
            if e.source == e.dest:
                continue
            u, v = (e.dest, e.source) if e.key in reversed_keys else (e.source, e.dest)
            if rank[v] < rank[u] + 1:
                rank[v] = rank[u] + 1
                changed = True
        if not changed:
            break
    return rank, reversed_keys


def _link(vs: dict[str, _V], a: str, b: str) -> None:
    vs[a].down.append(b)
    vs[b].up.append(a)


def _chains(
    sizes: dict[str, Box], edges: Sequence[EdgeIn], rank: dict[str, int], rev: set[str]
) -> tuple[dict[str, _V], dict[str, list[str]], dict[str, str]]:
    """The layered graph: virtual nodes, each edge's chain (top to bottom) and label node."""
    vs = {n: _V(n, b.w, b.h, 2 * rank[n]) for n, b in sizes.items()}
    chains: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for e in edges:
        if e.source == e.dest:
            continue
        top, bottom = (e.dest, e.source) if e.key in rev else (e.source, e.dest)
        first, last = vs[top].layer + 1, vs[bottom].layer - 1
        label_layer = last if e.key in rev else first
        chain = [top]
        for layer in range(first, last + 1):
            vid = f"\0{e.key}\0{layer}"
            box = e.label if layer == label_layer else Box(DUMMY_WIDTH, 0.0)
            vs[vid] = _V(vid, box.w, box.h, layer)
            if layer == label_layer:
                labels[e.key] = vid
            chain.append(vid)
        chain.append(bottom)
        for a, b in zip(chain, chain[1:], strict=False):
            _link(vs, a, b)
        chains[e.key] = chain
    return vs, chains, labels


def _crossings(layers: list[list[str]], vs: dict[str, _V]) -> int:
    total = 0
    for upper, lower in zip(layers, layers[1:], strict=False):
        pos = {v: i for i, v in enumerate(lower)}
        pairs = sorted((i, pos[d]) for i, u in enumerate(upper) for d in vs[u].down if d in pos)
        for k, (i, a) in enumerate(pairs):
            total += sum(1 for j, b in pairs[k + 1 :] if j > i and b < a)
    return total


def _order(vs: dict[str, _V]) -> list[list[str]]:
    depth = max((v.layer for v in vs.values()), default=0)
    layers: list[list[str]] = [[] for _ in range(depth + 1)]
    for v in vs.values():
        layers[v.layer].append(v.id)
    best, best_count = [list(layer) for layer in layers], _crossings(layers, vs)
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        seq = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        for i in seq:
            ref = {v: k for k, v in enumerate(layers[i - 1 if downward else i + 1])}

            def centre(vid: str, k: int, ref: dict[str, int] = ref, down: bool = downward) -> float:
                near = [ref[n] for n in (vs[vid].up if down else vs[vid].down) if n in ref]
                return sum(near) / len(near) if near else float(k)

            keyed = [(centre(v, k), k, v) for k, v in enumerate(layers[i])]
            layers[i] = [v for _, _, v in sorted(keyed)]
        count = _crossings(layers, vs)
        if count < best_count:
            best, best_count = [list(layer) for layer in layers], count
    return best


def _pack(layer: list[str], vs: dict[str, _V], want: dict[str, float]) -> None:
    """Place ``layer`` as near ``want`` as its order and gaps allow."""
    xs = [want[v] for v in layer]
    for k in range(1, len(layer)):
        gap = (vs[layer[k - 1]].w + vs[layer[k]].w) / 2 + NODE_GAP
        xs[k] = max(xs[k], xs[k - 1] + gap)
    shift = sum(want[v] - x for v, x in zip(layer, xs, strict=True)) / max(len(layer), 1)
    xs = [x + min(shift, 0.0) for x in xs]
    for k in range(len(layer) - 2, -1, -1):
        gap = (vs[layer[k]].w + vs[layer[k + 1]].w) / 2 + NODE_GAP
        xs[k] = min(xs[k], xs[k + 1] - gap)
    for v, x in zip(layer, xs, strict=True):
        vs[v].x = x


def _coordinates(layers: list[list[str]], vs: dict[str, _V]) -> None:
    for layer in layers:
        x = 0.0
        for vid in layer:
            vs[vid].x = x + vs[vid].w / 2
            x += vs[vid].w + NODE_GAP
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        seq = layers if downward else list(reversed(layers))
        for layer in seq:
            want = {}
            for vid in layer:
                v = vs[vid]
                near = v.up + v.down if sweep >= 2 else (v.up if downward else v.down)
                want[vid] = sum(vs[n].x for n in near) / len(near) if near else v.x
            _pack(layer, vs, want)
    left = min((v.x - v.w / 2 for v in vs.values()), default=0.0)
    for node in vs.values():
        node.x -= left
    y = 0.0
    for layer in layers:
        h = max((vs[vid].h for vid in layer), default=0.0)
        for vid in layer:
            vs[vid].y = y + h / 2
        y += h + LAYER_GAP


def _ports(
    vs: dict[str, _V], chains: dict[str, list[str]], sizes: dict[str, Box]
) -> dict[tuple[str, str], tuple[float, float]]:
    """Where each chain meets its end nodes: (edge key, node) -> point on the node's side."""
    sides: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for key, chain in chains.items():
        top, bottom = chain[0], chain[-1]
        sides.setdefault((top, "bottom"), []).append((vs[chain[1]].x, key))
        sides.setdefault((bottom, "top"), []).append((vs[chain[-2]].x, key))
    out: dict[tuple[str, str], tuple[float, float]] = {}
    for (node, side), attached in sides.items():
        v = vs[node]
        attached.sort()
        span = sizes[node].w * 0.6  # the node's own box, not the room kept for its loops
        for k, (_, key) in enumerate(attached):
            x = v.x if len(attached) == 1 else v.x - span / 2 + span * k / (len(attached) - 1)
            half = sizes[node].h / 2
            y = v.y + half if side == "bottom" else v.y - half
            out[(key, node)] = (x, y)
    return out


def _loop_room(edges: Sequence[EdgeIn]) -> dict[str, tuple[float, float]]:
    """The room each node's self-loops need to its right: their labels' width and the height
    of the labels stacked."""
    room: dict[str, tuple[float, float]] = {}
    for e in edges:
        if e.source == e.dest:
            w, h = room.get(e.source, (0.0, -LOOP_STACK))
            room[e.source] = (max(w, e.label.w + LOOP_GAP + 4), h + e.label.h + LOOP_STACK)
    return room


def _loops(
    edges: Sequence[EdgeIn],
    sizes: dict[str, Box],
    vs: dict[str, _V],
    room: dict[str, tuple[float, float]],
) -> dict[str, Route]:
    """Each self-loop: out of its node's right side and back, its label to the right; the
    labels of one node stacked, centred on it."""
    out: dict[str, Route] = {}
    top = {n: vs[n].y - h / 2 for n, (_, h) in room.items()}
    for e in edges:
        if e.source != e.dest:
            continue
        v, box = vs[e.source], sizes[e.source]
        right = v.x + box.w / 2
        d = min(6.0, box.h / 4)
        mid = top[e.source] + e.label.h / 2
        mid = min(max(mid, v.y - box.h / 2 + d), v.y + box.h / 2 - d)
        out[e.key] = Route(
            (
                (right, mid - d),
                (right + LOOP_GAP, mid - d),
                (right + LOOP_GAP, mid + d),
                (right, mid + d),
            ),
            (right + LOOP_GAP + 4, top[e.source]),
            loop=True,
        )
        top[e.source] += e.label.h + LOOP_STACK
    return out


def layout(sizes: dict[str, Box], edges: Sequence[EdgeIn]) -> Placed:
    """Place the nodes of ``sizes`` and route ``edges``: see the module's docstring. A node
    with self-loops takes the room for their labels on both sides (it stays centred)."""
    room = _loop_room(edges)
    grown = {
        n: Box(b.w + 2 * room[n][0], max(b.h, room[n][1])) if n in room else b
        for n, b in sizes.items()
    }
    rank, rev = _ranks(list(sizes), edges)
    vs, chains, labels = _chains(grown, edges, rank, rev)
    layers = _order(vs)
    _coordinates(layers, vs)
    ports = _ports(vs, chains, sizes)
    placed = Placed()
    for n in sizes:
        placed.nodes[n] = (vs[n].x, vs[n].y)
    placed.routes.update(_loops(edges, sizes, vs, room))
    for e in edges:
        if e.source == e.dest:
            continue
        chain = chains[e.key]
        points = [ports[(e.key, chain[0])]]
        for vid in chain[1:-1]:
            v = vs[vid]
            x = v.x - v.w / 2 if vid == labels.get(e.key) else v.x
            points.append((x, v.y))
        points.append(ports[(e.key, chain[-1])])
        lab = vs[labels[e.key]]
        corner = (lab.x - lab.w / 2, lab.y - lab.h / 2)
        if e.key in rev:
            points.reverse()
        placed.routes[e.key] = Route(tuple(points), corner)
    placed.width = max((v.x + v.w / 2 for v in vs.values()), default=0.0)
    placed.height = max((v.y + v.h / 2 for v in vs.values()), default=0.0)
    return placed
