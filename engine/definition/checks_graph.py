"""Checks over the state graph: every state reachable from ``initial``, none a dead end, no
final state with a way out, ``initial`` not final, and from every reachable state some final
state reachable (a cycle with no exit, or exits whose ``when`` can never hold, would keep a
case open for ever). Internal transitions stay in their state and are not edges; a transition
whose ``when`` can never hold (``checks_data.impossible_when``) is not a way out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.definition.checks_data import impossible_when
from engine.definition.loader import Document
from engine.errors import Problem

__all__ = ["ending_problems", "graph_problems"]


def _sources(t: Mapping[str, Any], states: Mapping[str, Any]) -> list[str]:
    if t["source"] == "*":
        return [name for name, s in states.items() if not s.get("final", False)]
    return [t["source"]] if isinstance(t["source"], str) else list(t["source"])


def _edges(v: Mapping[str, Any], possible_only: bool) -> dict[str, set[str]]:
    states: Mapping[str, Any] = v["states"]
    edges: dict[str, set[str]] = {name: set() for name in states}
    for t in v["transitions"]:
        dest = t.get("dest")
        if t.get("internal", False) or dest not in states:
            continue
        if possible_only and impossible_when(t.get("when"), v.get("data_schema")):
            continue
        for source in _sources(t, states):
            if source in edges:
                edges[source].add(dest)
    return edges


def _reached(edges: Mapping[str, set[str]], start: str) -> set[str]:
    """The states reachable from ``start`` in one step or more."""
    seen: set[str] = set()
    stack = list(edges[start])
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(edges[name] - seen)
    return seen


def graph_problems(doc: Document, v: Mapping[str, Any]) -> Iterator[Problem]:
    states: Mapping[str, Any] = v["states"]
    initial = v["initial"]
    if initial not in states:
        return
    edges = _edges(v, possible_only=False)
    seen = {initial} | _reached(edges, initial)
    for name, state in states.items():
        final = state.get("final", False)
        if name not in seen:
            yield doc.problem(
                ("states", name), f"state {name!r} cannot be reached from initial", True
            )
        if not final and not (edges[name] - {name}):
            yield doc.problem(
                ("states", name), f"state {name!r} is not final and has no transition out", True
            )
        if final and edges[name]:
            yield doc.problem(("states", name), f"final state {name!r} has transitions out", True)


def ending_problems(doc: Document, v: Mapping[str, Any]) -> Iterator[Problem]:
    """``initial`` is not final, and every reachable state can still end (dead ends, which
    ``graph_problems`` names, are not named twice)."""
    states: Mapping[str, Any] = v["states"]
    initial = v["initial"]
    if initial not in states:
        return
    if states[initial].get("final", False):
        yield doc.problem(
            ("initial",),
            f"the initial state {initial!r} is final: every case would be closed as it opens",
        )
    edges = _edges(v, possible_only=False)
    dead_ends = {n for n in states if not states[n].get("final") and not edges[n] - {n}}
    reachable = ({initial} | _reached(edges, initial)) - dead_ends
    possible = _edges(v, possible_only=True)
    can_end = _ending(possible, {n for n, s in states.items() if s.get("final", False)})
    for name in sorted(reachable - can_end, key=lambda n: doc.mark(("states", n), True)):
        onward = _reached(possible, name)
        if onward & dead_ends:
            continue  # it leads to a dead end, which is named already
        if onward - {name}:
            listed = ", ".join(repr(s) for s in sorted(onward))
            stuck = any(not possible[s] for s in onward)
            how = "where every way on needs a when that can never hold" if stuck else "a cycle"
            why = f"from there, transitions lead only to {listed} ({how} with no exit)"
        else:
            why = "its only ways out need a when that can never hold"
        yield doc.problem(
            ("states", name), f"no final state can be reached from state {name!r}: {why}", True
        )


def _ending(edges: Mapping[str, set[str]], finals: set[str]) -> set[str]:
    """The states from which a final state can be reached (in time linear in the graph)."""
    into: dict[str, set[str]] = {name: set() for name in edges}
    for source, dests in edges.items():
        for dest in dests:
            into[dest].add(source)
    seen = set(finals)
    stack = list(finals)
    while stack:
        for source in into[stack.pop()] - seen:
            seen.add(source)
            stack.append(source)
    return seen
