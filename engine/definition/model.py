"""The frozen definition model: what a checked YAML file means, independent of how it runs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from engine.definition.fields import Confidential

__all__ = [
    "ADMIN",
    "SYSTEM",
    "AtSpec",
    "DeadlineSpec",
    "Definition",
    "Duration",
    "StateSpec",
    "TimerSpec",
    "TransitionSpec",
]

ADMIN = "admin"
SYSTEM = "system"

_DURATION = re.compile(
    r"^\s*(?P<n>[1-9][0-9]*)\s+(?P<unit>working days?|minutes?|hours?|days?|weeks?|months?)\s*$"
)
_UNITS = {
    "minute": "minutes",
    "hour": "hours",
    "day": "days",
    "week": "weeks",
    "month": "months",
    "working day": "working_days",
}


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # minutes, hours, days, weeks, months, working_days

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION.match(text)
        if not match:
            raise ValueError(
                f"{text!r} is not a duration: write e.g. '20 working days', '3 days', '6 months'"
            )
        unit = match["unit"].removesuffix("s")
        return cls(int(match["n"]), _UNITS[unit])

    def __str__(self) -> str:
        return f"{self.amount} {self.unit.replace('_', ' ')}"


@dataclass(frozen=True)
class AtSpec:
    """An absolute date/datetime, or the name of a case-data field holding one."""

    value: str | None = None
    data_field: str | None = None


@dataclass(frozen=True)
class TimerSpec:
    name: str
    state: str
    fires: str
    after: Duration | None = None
    at: AtSpec | None = None
    every: Duration | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    catch_up: str = "fire"


@dataclass(frozen=True)
class DeadlineSpec:
    name: str
    starts_in: tuple[str, ...]
    runs_until: tuple[str, ...]
    pauses_in: tuple[str, ...]
    fires: str
    after: Duration | None = None
    at: AtSpec | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    catch_up: str = "fire"


@dataclass(frozen=True)
class StateSpec:
    name: str
    title: str
    final: bool = False
    on_enter: tuple[str, ...] = ()
    on_exit: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class TransitionSpec:
    index: int
    trigger: str
    sources: tuple[str, ...]
    dest: str | None  # None: internal transition
    roles: tuple[str, ...] = ()
    title: str = ""
    payload_schema: Mapping[str, Any] | bool | None = None
    when: Mapping[str, Any] | bool | None = None
    guards: tuple[str, ...] = ()
    merge_payload: bool = False
    actions: tuple[str, ...] = ()

    @property
    def internal(self) -> bool:
        return self.dest is None

    def admits(self, role: str) -> bool:
        """Whether ``role`` may fire this transition (no roles listed: system and admin only)."""
        return role in (ADMIN, SYSTEM) or role in self.roles


@dataclass(frozen=True)
class Definition:
    name: str
    title: str
    roles: tuple[str, ...]
    initial: str
    states: Mapping[str, StateSpec]
    transitions: tuple[TransitionSpec, ...]
    source_text: str
    content_hash: str
    description: str = ""
    subject: str | None = None
    one_open_case_per_subject: bool = False
    jurisdiction_field: str = "jurisdiction"
    data_schema: Mapping[str, Any] | bool | None = None
    timers: Mapping[str, tuple[TimerSpec, ...]] = field(default_factory=dict)
    deadlines: tuple[DeadlineSpec, ...] = ()
    # Who may read its cases (None: the roles it names and the levels above them,
    # engine.access) and the data fields that name a party to a case (a token's name).
    readers: tuple[str, ...] | None = None
    party_fields: tuple[str, ...] = ()
    confidential: Mapping[str, Confidential] = field(default_factory=dict)
    read_only: frozenset[str] = frozenset()

    def transitions_from(self, state: str) -> list[TransitionSpec]:
        return [t for t in self.transitions if state in t.sources]

    @cached_property
    def dated(self) -> Mapping[tuple[str | None, str | None, str], str]:
        """The data field that dates each timer and deadline with ``at: {data: field}``, keyed
        as their timer rows are: (deadline, state, name). Worked out once per definition."""
        out: dict[tuple[str | None, str | None, str], str] = {}
        for d in self.deadlines:
            if d.at is not None and d.at.data_field:
                out[(d.name, None, d.name)] = d.at.data_field
        for state, specs in self.timers.items():
            for spec in specs:
                if spec.at is not None and spec.at.data_field:
                    out[(None, state, spec.name)] = spec.at.data_field
        return out

    def is_final(self, state: str) -> bool:
        return self.states[state].final

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape of a definition (API and CLI)."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "subject": self.subject,
            "roles": list(self.roles),
            "access": {
                "read": list(self.readers) if self.readers is not None else None,
                "parties": list(self.party_fields),
            },
            "initial": self.initial,
            "data_schema": self.data_schema,
            "states": [
                {"name": s.name, "title": s.title, "final": s.final} for s in self.states.values()
            ],
            "transitions": [
                {
                    "trigger": t.trigger,
                    "title": t.title,
                    "source": list(t.sources),
                    "dest": t.dest,
                    "internal": t.internal,
                    "roles": list(t.roles),
                    "payload_schema": t.payload_schema,
                }
                for t in self.transitions
            ],
            "timers": {
                state: [_timer_json(t) for t in timers] for state, timers in self.timers.items()
            },
            "deadlines": [
                {
                    "name": d.name,
                    "starts_in": list(d.starts_in),
                    "runs_until": list(d.runs_until),
                    "pauses_in": list(d.pauses_in),
                    "after": str(d.after) if d.after else None,
                    "at": _at_json(d.at),
                    "fires": d.fires,
                }
                for d in self.deadlines
            ],
        }


def _at_json(at: AtSpec | None) -> Any:
    if at is None:
        return None
    return at.value if at.value is not None else {"data": at.data_field}


def _timer_json(t: TimerSpec) -> dict[str, Any]:
    return {
        "name": t.name,
        "fires": t.fires,
        "after": str(t.after) if t.after else None,
        "at": _at_json(t.at),
        "every": str(t.every) if t.every else None,
        "payload": dict(t.payload),
        "catch_up": t.catch_up,
    }
