"""The graph a diagram draws, independent of how it is drawn: a definition's states (with their
internal transitions and timer notes listed on them) and its transitions (one edge per source,
timers and deadlines that fire them marked), and for a case the path its history took.

Every format (``svg``, ``text``) renders a ``Graph``; none of them reads the definition."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from engine.definition.model import AtSpec, Definition, Duration, TransitionSpec
from engine.store.rows import EventRow

__all__ = ["Edge", "Graph", "Line", "Node", "Step", "build", "steps_of"]

_UNITS = {
    "minutes": "分钟",
    "hours": "小时",
    "days": "天",
    "weeks": "周",
    "months": "个月",
    "working_days": "个工作日",
}


@dataclass(frozen=True)
class Step:
    """One transition a case took (its history's ``transition`` events, numbered from 1)."""

    number: int
    index: int
    trigger: str
    title: str
    source: str
    dest: str
    at: datetime
    actor: str
    role: str


@dataclass(frozen=True)
class Line:
    """A line listed inside a state's box: an internal transition, or a timer or deadline
    note (``clock``: drawn with a clock glyph)."""

    text: str
    kind: str  # internal | timer | deadline | pause
    clock: bool = False
    trigger: str | None = None
    index: int | None = None  # an internal transition's index in the definition
    steps: tuple[int, ...] = ()


@dataclass(frozen=True)
class Node:
    name: str
    title: str
    final: bool
    initial: bool
    lines: tuple[Line, ...] = ()
    current: bool = False
    visited: bool = False


@dataclass(frozen=True)
class Edge:
    """A transition from one of its sources to its destination."""

    index: int
    trigger: str
    title: str
    roles: tuple[str, ...]
    source: str
    dest: str
    timer: str | None = None  # what fires it on its own: "5 个工作日", "期限 review_limit"
    steps: tuple[int, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.index}-{self.source}"

    @property
    def taken(self) -> bool:
        return bool(self.steps)

    @property
    def who(self) -> str:
        return ", ".join(self.roles) if self.roles else "系统"


@dataclass(frozen=True)
class Graph:
    name: str
    title: str
    version: int | None
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    case_id: int | None = None
    current: str | None = None
    steps: tuple[Step, ...] = ()

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)


def duration_zh(d: Duration) -> str:
    return f"{d.amount} {_UNITS.get(d.unit, d.unit)}"


def _when(after: Duration | None, at: AtSpec | None, every: Duration | None = None) -> str:
    if every is not None:
        return f"每 {duration_zh(every)}"
    if after is not None:
        return duration_zh(after)
    if at is not None and at.data_field:
        return f"至 {at.data_field} 所载日期"
    if at is not None and at.value:
        return f"至 {at.value}"
    return ""


def steps_of(definition: Definition, events: Iterable[EventRow]) -> tuple[Step, ...]:
    """The transitions a case took, in order, from its history rows."""
    out: list[Step] = []
    for e in events:
        index, source = e.transition, e.from_state
        if e.kind != "transition" or index is None or source is None:
            continue
        if not 0 <= index < len(definition.transitions):
            continue
        dest = e.to_state or source
        spec = definition.transitions[index]
        number = len(out) + 1
        out.append(
            Step(number, index, spec.trigger, _label(spec), source, dest, e.at, e.actor, e.role)
        )
    return tuple(out)


def _span(d: Definition, starts: Sequence[str], until: Sequence[str]) -> set[str]:
    """The states a deadline runs in: reached from where it starts, not through where it ends."""
    seen: set[str] = set()
    todo = [s for s in starts if s not in until]
    while todo:
        state = todo.pop()
        if state in seen:
            continue
        seen.add(state)
        for t in d.transitions_from(state):
            if t.dest is not None and t.dest not in until and t.dest not in seen:
                todo.append(t.dest)
    return seen


def _fired(d: Definition) -> dict[tuple[str, str], str]:
    """(state, trigger) -> what fires it there on its own (a timer's time or a deadline)."""
    out: dict[tuple[str, str], str] = {}
    for state, timers in d.timers.items():
        for t in timers:
            out[(state, t.fires)] = _when(t.after, t.at, t.every)
    for dl in d.deadlines:
        for state in _span(d, dl.starts_in, dl.runs_until):
            out.setdefault((state, dl.fires), f"期限 {dl.name}")
    return out


def _label(t: TransitionSpec) -> str:
    return t.title or t.trigger


def _state_lines(d: Definition, state: str, fired: dict[tuple[str, str], str]) -> list[Line]:
    lines: list[Line] = []
    for t in d.transitions_from(state):
        if t.internal:
            when = fired.get((state, t.trigger))
            who = ", ".join(t.roles) if t.roles else "系统"
            text = f"{_label(t)} · {t.trigger} · {who}" + (f" · {when}" if when else "")
            lines.append(Line(text, "internal", when is not None, t.trigger, t.index))
    for timer in d.timers.get(state, ()):
        when = _when(timer.after, timer.at, timer.every)
        lines.append(Line(f"定时 {when} → {timer.fires}", "timer", True, timer.fires))
    for dl in d.deadlines:
        if state in dl.starts_in:
            when = _when(dl.after, dl.at)
            text = f"期限 {dl.name} 起算：{when} → {dl.fires}"
            lines.append(Line(text, "deadline", True, dl.fires))
        if state in dl.pauses_in:
            lines.append(Line(f"期限 {dl.name} 暂停计时", "pause", True))
        if state in dl.runs_until and not d.states[state].final:
            lines.append(Line(f"期限 {dl.name} 终止", "pause", False))
    return lines


def build(
    d: Definition,
    version: int | None = None,
    *,
    case_id: int | None = None,
    current: str | None = None,
    steps: Sequence[Step] = (),
) -> Graph:
    """The graph of ``d``; with ``current`` and ``steps``, a case's: its state and path marked."""
    fired = _fired(d)
    taken: dict[tuple[int, str], list[int]] = {}
    for s in steps:
        taken.setdefault((s.index, s.source), []).append(s.number)
    visited = {s.source for s in steps} | {s.dest for s in steps}
    if current is not None:
        visited |= {d.initial, current}
    nodes = []
    for state in d.states.values():
        lines = [
            replace(line, steps=tuple(taken.get((line.index, state.name), ())))
            if line.index is not None
            else line
            for line in _state_lines(d, state.name, fired)
        ]
        nodes.append(
            Node(
                state.name,
                state.title,
                state.final,
                state.name == d.initial,
                tuple(lines),
                state.name == current,
                state.name in visited,
            )
        )
    edges = [
        Edge(
            t.index,
            t.trigger,
            _label(t),
            t.roles,
            source,
            t.dest,
            fired.get((source, t.trigger)),
            tuple(taken.get((t.index, source), ())),
        )
        for t in d.transitions
        if t.dest is not None
        for source in t.sources
    ]
    return Graph(
        d.name, d.title, version, tuple(nodes), tuple(edges), case_id, current, tuple(steps)
    )
