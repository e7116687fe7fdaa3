"""Deadlines and timers that could never fire their trigger.

The sweep (``engine/time/sweep.py``) fires a due timer's trigger as the system actor, with the
timer's ``payload`` (``{}`` when none is written). The system is admitted by every transition
(``TransitionSpec.admits``), so roles never stop a timer; what does:

- **a deadline** runs from the first entry into a ``starts_in`` state until a ``runs_until``
  state is entered, and is paused in its ``pauses_in`` states (``engine/time/arming.py``). It
  can fire only in a state it runs in and is not paused in: some transition of its ``fires``
  trigger must have such a state among its sources. Final states close the case.
- **a timer's or deadline's payload** must fit the ``payload_schema`` of some transition it
  could take, or the firing is refused (and the timer skipped) every time.

A ``when`` or a guard is not judged here: they depend on the case.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from referencing.exceptions import Unresolvable

from engine.definition.loader import Document, Path
from engine.definition.schemas import PatternError, validator
from engine.definition.wording import worded
from engine.errors import Problem

__all__ = ["timing_problems"]


def _names(value: Any) -> set[str]:
    if value is None:
        return set()
    return {value} if isinstance(value, str) else set(value)


def _sources(t: Mapping[str, Any], states: Mapping[str, Any]) -> set[str]:
    if t["source"] == "*":
        return {name for name, s in states.items() if not s.get("final", False)}
    return _names(t["source"])


def _running(v: Mapping[str, Any], d: Mapping[str, Any]) -> set[str]:
    """The states in which deadline ``d`` is armed and not paused."""
    states: Mapping[str, Any] = v["states"]
    until = _names(d["runs_until"])
    seen = _names(d["starts_in"]) & set(states)
    stack = list(seen)
    while stack:
        state = stack.pop()
        for t in v["transitions"]:
            dest = t.get("dest")
            if t.get("internal") or dest not in states or dest in until or dest in seen:
                continue
            if state in _sources(t, states):
                seen.add(dest)
                stack.append(dest)
    finals = {name for name, s in states.items() if s.get("final", False)}
    return seen - _names(d.get("pauses_in")) - finals


def _misfit(t: Mapping[str, Any], payload: Any) -> str | None:
    """Why ``payload`` does not fit ``t``'s payload_schema (None: it fits, or cannot be told)."""
    schema = t.get("payload_schema")
    if schema is None:
        return None
    try:
        error = next(iter(validator(schema).iter_errors(payload)), None)
    except (PatternError, Unresolvable):  # reported by schema_rules
        return None
    return None if error is None else worded(error, root="the payload")


def _payload_problem(
    doc: Document,
    at: Path,
    owner: Mapping[str, Any],
    what: str,
    candidates: list[tuple[int, Mapping[str, Any]]],
    where: str,
) -> Iterator[Problem]:
    payload = owner.get("payload", {})
    reasons = [(i, _misfit(t, payload)) for i, t in candidates]
    if not reasons or any(reason is None for _, reason in reasons):
        return
    i, first = reasons[0]
    yield doc.problem(
        (*at, "payload") if "payload" in owner else at,
        f"the {what}'s payload fits the payload_schema of no transition {owner['fires']!r} "
        f"from {where} (transitions[{i}]: {first}): it would never fire",
    )


def timing_problems(doc: Document, v: Mapping[str, Any]) -> Iterator[Problem]:
    states: Mapping[str, Any] = v["states"]
    transitions: list[Mapping[str, Any]] = v["transitions"]
    for name, d in (v.get("deadlines") or {}).items():
        at: Path = ("deadlines", name)
        if not any(t["trigger"] == d["fires"] for t in transitions):
            continue  # "no such trigger", said by validate
        running = _running(v, d)
        candidates = [
            (i, t)
            for i, t in enumerate(transitions)
            if t["trigger"] == d["fires"] and _sources(t, states) & running
        ]
        if not candidates:
            listed = ", ".join(repr(s) for s in sorted(running)) or "none"
            yield doc.problem(
                (*at, "fires"),
                f"deadline {name!r} fires {d['fires']!r}, which no transition allows from a "
                f"state where the deadline runs ({listed}): it would never fire",
            )
            continue
        yield from _payload_problem(doc, at, d, "deadline", candidates, "where it runs")
    for state, items in (v.get("timers") or {}).items():
        for k, timer in enumerate(items):
            candidates = [
                (i, t)
                for i, t in enumerate(transitions)
                if t["trigger"] == timer["fires"] and state in _sources(t, states)
            ]
            yield from _payload_problem(
                doc, ("timers", state, k), timer, "timer", candidates, repr(state)
            )
