"""The SVG of a ``Graph``: self-contained (no external font, script, stylesheet or image; colours
as presentation attributes, so a strict Content-Security-Policy shows it as drawn), every text
escaped, and stable hooks for the console and the tests:

    <svg class="qingliu-diagram" data-workflow=.. data-version=.. [data-case=.. data-current=..]>
    <g class="state [initial] [final] [visited] [current]" id="state-NAME" data-state="NAME">
    <g class="edge [timer] [taken]" id="edge-INDEX-SOURCE" data-trigger=.. data-source=..
       data-dest=.. data-index=.. [data-steps="1 4"]>
    the lines listed in a state: <g class="line internal|timer|deadline|pause [taken]">
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from engine.diagram.graph import Edge, Graph, Line, Node
from engine.diagram.layout import Box, EdgeIn, Placed, Route, layout

__all__ = ["FONT_FAMILY", "render_svg", "text_width"]

FONT_FAMILY = (
    "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', "
    "'PingFang SC', sans-serif"
)
MARGIN = 24.0
PAD = 10.0
TITLE, NAME, SMALL = 15.0, 11.0, 12.0
LINE_MAX = 330.0  # a state's line wraps beyond this width
LABEL_MAX = 240.0
START = "\0start"
INK, MUTED, ACCENT, TIMER = "#33415c", "#6b7280", "#d9480f", "#6741d9"
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def esc(text: object) -> str:
    """Text or an attribute value, safe anywhere in the document."""
    s = _INVALID_XML.sub("\ufffd", str(text))
    return (
        s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def text_width(text: str, size: float) -> float:
    """About how wide ``text`` is at ``size`` px: full-width characters one em, others 0.6."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * 0.6 for c in text)


def wrap(text: str, size: float, limit: float) -> list[str]:
    """``text`` in lines no wider than ``limit``, broken after a space or a separator where
    one is in the second half of the line."""
    lines, line = [], ""
    for c in text:
        if line and text_width(line + c, size) > limit:
            cut = max(line.rfind(" "), line.rfind("·"), line.rfind("，"), line.rfind(","))
            if cut > len(line) // 3:
                keep = cut if line[cut] == " " else cut + 1  # a space goes, a separator stays
                lines.append(line[:keep])
                line = line[cut + 1 :]
            else:
                lines.append(line)
                line = ""
        line += c
    return [*lines, line] if line else lines or [""]


Row = tuple[str, Line, bool]  # text, the line it is of, whether it is the line's first row


def _node_rows(n: Node) -> list[Row]:
    """The text rows of a state's box, after its title and name."""
    rows: list[Row] = []
    for line in n.lines:
        limit = LINE_MAX - 18 * len(line.steps)
        for k, part in enumerate(wrap(line.text, SMALL, limit)):
            rows.append((part, line, k == 0))
    return rows


def _node_box(n: Node) -> Box:
    name = n.name + (" · 终态" if n.final else "")
    width = max(text_width(n.title, TITLE), text_width(name, NAME))
    for text, line, first in _node_rows(n):
        extra = 18 * len(line.steps) if first else 0
        width = max(width, text_width(text, SMALL) + extra)
    rows = len(_node_rows(n))
    height = PAD + 15 + 16 + (14 + 17 * rows if rows else 0) + 4 + PAD
    return Box(max(width + 2 * PAD + (16 if n.lines else 0), 110), height)


def _label_rows(e: Edge) -> list[tuple[str, float, str]]:
    rows = [(t, SMALL, "title") for t in wrap(e.title, SMALL, LABEL_MAX - 18 * len(e.steps))]
    rows += [(t, NAME, "who") for t in wrap(f"{e.trigger} · {e.who}", NAME, LABEL_MAX)]
    if e.timer:
        rows.append((e.timer, NAME, "timer"))
    return rows


def _label_box(e: Edge) -> Box:
    rows = _label_rows(e)
    width = max(text_width(t, s) + (16 if kind == "timer" else 0) for t, s, kind in rows)
    width += 18 * len(e.steps) if e.steps else 0
    return Box(width + 14, 15 * len(rows) + 6)


def _clock(x: float, y: float, colour: str) -> str:
    return (
        f'<g class="clock"><circle cx="{x:.1f}" cy="{y:.1f}" r="5.5" fill="#fff" '
        f'stroke="{colour}" stroke-width="1.4"/><path d="M{x:.1f} {y - 3.5:.1f}V{y:.1f}'
        f'H{x + 3:.1f}" fill="none" stroke="{colour}" stroke-width="1.3"/></g>'
    )


def _badges(x: float, y: float, numbers: Iterable[int]) -> tuple[str, float]:
    out = []
    for n in numbers:
        out.append(
            f'<g class="step"><circle cx="{x + 8:.1f}" cy="{y:.1f}" r="8" fill="{ACCENT}"/>'
            f'<text x="{x + 8:.1f}" y="{y + 3.5:.1f}" font-size="10" fill="#fff" '
            f'text-anchor="middle">{n}</text></g>'
        )
        x += 18
    return "".join(out), x


def _state(n: Node, cx: float, cy: float, box: Box) -> str:
    x, y = cx - box.w / 2, cy - box.h / 2
    classes = " ".join(
        c
        for c, on in (
            ("state", True),
            ("initial", n.initial),
            ("final", n.final),
            ("visited", n.visited),
            ("current", n.current),
        )
        if on
    )
    fill = "#fff3cd" if n.current else "#eef7ee" if n.final else "#f5f8fc"
    stroke = ACCENT if n.current or n.visited else "#2e7d32" if n.final else "#4a6fa5"
    width = 3 if n.current else 1.8 if n.visited else 1.2
    out = [f'<g class="{classes}" id="state-{esc(n.name)}" data-state="{esc(n.name)}">']
    out.append(f"<title>{esc(n.title)} ({esc(n.name)})</title>")
    out.append(
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" rx="8" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>'
    )
    if n.final:
        out.append(
            f'<rect x="{x + 3.5:.1f}" y="{y + 3.5:.1f}" width="{box.w - 7:.1f}" '
            f'height="{box.h - 7:.1f}" rx="6" fill="none" stroke="{stroke}" stroke-width="1"/>'
        )
    ty = y + PAD + 15
    out.append(
        f'<text class="title" x="{cx:.1f}" y="{ty:.1f}" font-size="{TITLE}" font-weight="bold" '
        f'fill="{INK}" text-anchor="middle">{esc(n.title)}</text>'
    )
    name = n.name + (" · 终态" if n.final else "")
    out.append(
        f'<text class="name" x="{cx:.1f}" y="{ty + 16:.1f}" font-size="{NAME}" fill="{MUTED}" '
        f'text-anchor="middle">{esc(name)}</text>'
    )
    rows = _node_rows(n)
    if rows:
        ly = ty + 26
        out.append(
            f'<path d="M{x + 6:.1f} {ly:.1f}H{x + box.w - 6:.1f}" stroke="#c9d3e0" '
            'stroke-width="1"/>'
        )
        ly += 4
        for k, (text, line, first) in enumerate(rows):
            ly += 17
            out.append(_state_row(x + PAD, ly, text, line, first))
            if k + 1 == len(rows) or rows[k + 1][2]:
                out.append("</g>")  # the last row of the line
    out.append("</g>")
    return "".join(out)


def _state_row(x: float, y: float, text: str, line: Line, first: bool) -> str:
    colour = INK if line.kind == "internal" else TIMER
    parts = []
    if first:
        taken = " taken" if line.steps else ""
        trigger = f' data-trigger="{esc(line.trigger)}"' if line.trigger else ""
        if line.steps:
            trigger += f' data-steps="{" ".join(map(str, line.steps))}"'
        parts.append(f'<g class="line {esc(line.kind)}{taken}"{trigger}>')
        if line.clock:
            parts.append(_clock(x + 6, y - 4, TIMER))
        elif line.kind == "internal":
            parts.append(
                f'<text x="{x:.1f}" y="{y:.1f}" font-size="{SMALL}" fill="{MUTED}">↻</text>'
            )
        badges, x = _badges(x + 16, y - 4, line.steps)
        parts.append(badges)
    else:
        x += 16
    parts.append(
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{SMALL}" fill="{colour}">{esc(text)}</text>'
    )
    return "".join(parts)  # the caller closes the line's group after its last row


def _curve(points: tuple[tuple[float, float], ...], loop: bool) -> str:
    (x0, y0), rest = points[0], points[1:]
    d = [f"M{x0:.1f} {y0:.1f}"]
    if loop:
        d += [f"L{x:.1f} {y:.1f}" for x, y in rest]
        return "".join(d)
    for x1, y1 in rest:
        my = (y0 + y1) / 2
        d.append(f"C{x0:.1f} {my:.1f} {x1:.1f} {my:.1f} {x1:.1f} {y1:.1f}")
        x0, y0 = x1, y1
    return "".join(d)


def _edge(e: Edge, route: Route, box: Box) -> str:
    classes = "edge" + (" timer" if e.timer else "") + (" taken" if e.taken else "")
    colour = ACCENT if e.taken else TIMER if e.timer else "#8a94a6"
    marker = "qd-arrow-taken" if e.taken else "qd-arrow-timer" if e.timer else "qd-arrow"
    attrs = (
        f'class="{classes}" id="edge-{esc(e.key)}" data-trigger="{esc(e.trigger)}" '
        f'data-source="{esc(e.source)}" data-dest="{esc(e.dest)}" data-index="{e.index}"'
    )
    if e.steps:
        attrs += f' data-steps="{" ".join(map(str, e.steps))}"'
    out = [f"<g {attrs}><title>{esc(e.title)} ({esc(e.trigger)}): {esc(e.who)}</title>"]
    dash = ' stroke-dasharray="6 4"' if e.timer and not e.taken else ""
    out.append(
        f'<path d="{_curve(route.points, route.loop)}" fill="none" stroke="{colour}" '
        f'stroke-width="{2.6 if e.taken else 1.3}"{dash} marker-end="url(#{marker})"/>'
    )
    lx, ly = route.label
    out.append(
        f'<g class="label"><rect x="{lx + 2:.1f}" y="{ly:.1f}" width="{box.w - 2:.1f}" '
        f'height="{box.h:.1f}" rx="4" fill="#ffffff" fill-opacity="0.92"/>'
    )
    y = ly + 3
    for k, (text, size, kind) in enumerate(_label_rows(e)):
        y += 15
        x = lx + 8
        if k == 0 and e.steps:
            badges, x = _badges(x, y - 4, e.steps)
            out.append(badges)
        if kind == "timer":
            out.append(_clock(x + 5, y - 4, TIMER))
            x += 14
        fill = {"title": INK, "who": MUTED, "timer": TIMER}[kind]
        weight = ' font-weight="bold"' if kind == "title" else ""
        out.append(
            f'<text class="{kind}" x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}"'
            f"{weight}>{esc(text)}</text>"
        )
    out.append("</g></g>")
    return "".join(out)


def _defs() -> str:
    def marker(mid: str, colour: str) -> str:
        return (
            f'<marker id="{mid}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
            'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
            f'<path d="M0 0L10 5L0 10z" fill="{colour}"/></marker>'
        )

    arrows = marker("qd-arrow", "#8a94a6") + marker("qd-arrow-taken", ACCENT)
    return f"<defs>{arrows}{marker('qd-arrow-timer', TIMER)}</defs>"


def _heading(g: Graph) -> list[str]:
    version = f" v{g.version}" if g.version is not None else ""
    lines = [f"{g.title}（{g.name}{version}）"]
    if g.case_id is not None and g.current is not None:
        lines.append(
            f"案件 #{g.case_id} · 当前状态：{g.node(g.current).title}（{g.current}）"
            f" · 已办 {len(g.steps)} 步"
        )
    return lines


def _steps_list(g: Graph, y: float) -> tuple[list[str], float]:
    out = ['<g class="steps">']
    for s in g.steps:
        y += 17
        when = s.at.isoformat(timespec="minutes")
        text = (
            f"{s.number}. {when} {s.title}（{s.trigger}）{s.source} → {s.dest} "
            f"· {s.actor}（{s.role}）"
        )
        out.append(
            f'<text x="{MARGIN:.1f}" y="{y:.1f}" font-size="{SMALL}" fill="{INK}" '
            f'data-step="{s.number}">{esc(text)}</text>'
        )
    out.append("</g>")
    return out, y


def render_svg(g: Graph) -> str:
    """The SVG document of ``g``."""
    sizes: dict[str, Box] = {START: Box(14, 14)}
    sizes.update({n.name: _node_box(n) for n in g.nodes})
    labels = {e.key: _label_box(e) for e in g.edges}
    start = EdgeIn("start", START, next(n.name for n in g.nodes if n.initial), Box(1, 0))
    edges = [start, *(EdgeIn(e.key, e.source, e.dest, labels[e.key]) for e in g.edges)]
    placed: Placed = layout(sizes, edges)
    heading = _heading(g)
    top = MARGIN + 24 * len(heading) + 8
    body: list[str] = []
    sx, sy = placed.nodes[START]
    dx, dy = MARGIN, top
    body.append(
        f'<g class="start"><circle cx="{sx + dx:.1f}" cy="{sy + dy:.1f}" r="7" fill="{INK}"/>'
    )
    s_route = placed.routes["start"]
    body.append(
        f'<path d="{_curve(_shift(s_route.points, dx, dy), False)}" fill="none" stroke="{INK}" '
        'stroke-width="1.3" marker-end="url(#qd-arrow)"/></g>'
    )
    for e in g.edges:
        r = placed.routes[e.key]
        moved = Route(_shift(r.points, dx, dy), (r.label[0] + dx, r.label[1] + dy), r.loop)
        body.append(_edge(e, moved, labels[e.key]))
    for n in g.nodes:
        x, y = placed.nodes[n.name]
        body.append(_state(n, x + dx, y + dy, sizes[n.name]))
    bottom = top + placed.height
    steps, bottom = _steps_list(g, bottom + 12) if g.steps else ([], bottom)
    body += steps
    width = max(placed.width + 2 * MARGIN, max(text_width(h, 16) for h in heading) + 2 * MARGIN)
    height = bottom + MARGIN
    head = [
        f'<text class="heading" x="{MARGIN}" y="{MARGIN + 18 + 24 * k:.1f}" '
        f'font-size="{17 if k == 0 else 14}" font-weight="{"bold" if k == 0 else "normal"}" '
        f'fill="{INK}">{esc(text)}</text>'
        for k, text in enumerate(heading)
    ]
    data = f'data-workflow="{esc(g.name)}"'
    if g.version is not None:
        data += f' data-version="{g.version}"'
    if g.case_id is not None:
        data += f' data-case="{g.case_id}" data-current="{esc(g.current or "")}"'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" class="qingliu-diagram" {data} '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="{esc(FONT_FAMILY)}">'
        f"<title>{esc(heading[0])}</title>{_defs()}"
        f'<rect class="background" x="0" y="0" width="100%" height="100%" fill="#ffffff"/>'
        + "".join(head)
        + "".join(body)
        + "</svg>\n"
    )


def _shift(
    points: tuple[tuple[float, float], ...], dx: float, dy: float
) -> tuple[tuple[float, float], ...]:
    return tuple((x + dx, y + dy) for x, y in points)
