"""Transitions that can never be taken: an earlier one with the same trigger and source takes
every firing they would.

The runtime (``engine/definition/compile.py``) tries the transitions of a trigger from a state in
file order and takes the first whose role check, ``payload_schema``, ``when`` and guards all
pass. So a later transition is unreachable only when earlier ones, each with no guard and no
``when``, and none with a ``payload_schema`` that could refuse a payload the later one accepts
(none, or exactly the later one's), together admit every role the later one admits. Anything
this cannot prove (a ``when``, a guard, a different ``payload_schema``) is left alone: role-split
and payload-split transitions are the way to branch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from engine.definition.loader import Document
from engine.definition.model import ADMIN, SYSTEM
from engine.errors import Problem

__all__ = ["unreachable_transitions"]

_ALWAYS = frozenset({ADMIN, SYSTEM})  # TransitionSpec.admits: these may fire any transition


def _sources(t: Mapping[str, Any], states: Mapping[str, Any]) -> list[str]:
    if t["source"] == "*":
        return [name for name, s in states.items() if not s.get("final", False)]
    return [t["source"]] if isinstance(t["source"], str) else list(t["source"])


def _schema_key(t: Mapping[str, Any]) -> str | None:
    schema = t.get("payload_schema")
    return None if schema in (None, True, {}) else json.dumps(schema, sort_keys=True)


def _takes_all_of(earlier: Mapping[str, Any], later: Mapping[str, Any]) -> bool:
    """``earlier`` accepts every payload ``later`` accepts and never refuses on the case."""
    if "guard" in earlier or "when" in earlier:
        return False
    mine = _schema_key(earlier)
    return mine is None or mine == _schema_key(later)


def unreachable_transitions(
    doc: Document, transitions: list[Mapping[str, Any]], states: Mapping[str, Any]
) -> Iterator[Problem]:
    seen: dict[tuple[str, str], list[int]] = {}
    for i, t in enumerate(transitions):
        for source in _sources(t, states):
            earlier = seen.setdefault((t["trigger"], source), [])
            covering = _covering(transitions, earlier, t)
            if covering:
                yield doc.problem(
                    ("transitions", i, "trigger"),
                    f"trigger {t['trigger']!r} from {source!r} can never be taken: "
                    + _covered_by(covering),
                )
            earlier.append(i)


def _covering(
    transitions: list[Mapping[str, Any]], earlier: list[int], t: Mapping[str, Any]
) -> list[int]:
    """The earlier transitions that together take every firing of ``t`` (none: it can be
    taken)."""
    remaining = set(t.get("roles", ())) - _ALWAYS
    chosen: list[int] = []
    for j in earlier:
        if not _takes_all_of(transitions[j], t):
            continue
        roles = set(transitions[j].get("roles", ()))
        if not remaining or roles & remaining:
            chosen.append(j)
            remaining -= roles
        if not remaining:
            return chosen
    return []


def _covered_by(covering: list[int]) -> str:
    if len(covering) == 1:
        return (
            f"transitions[{covering[0]}] comes first, has no guard, no when and no stricter "
            "payload_schema, and admits every role it admits"
        )
    names = [f"transitions[{j}]" for j in covering]
    listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    return (
        f"{listed} come first, have no guard, no when and no stricter payload_schema, "
        "and admit every role it admits"
    )
