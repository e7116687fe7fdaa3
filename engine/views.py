"""What the facade hands out: plain, JSON-ready views of cases, events and timers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.store.repository import CaseRow, EventRow, TimerRow

__all__ = ["CaseView", "event_json", "timer_json"]


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def timer_json(t: TimerRow) -> dict[str, Any]:
    """A timer as people see it. A paused deadline has no due time (the one it had before the
    pause no longer holds): ``due_at`` is null and ``paused`` says how much time is left
    (working days for a working-day deadline, else seconds); it is null while not paused."""
    paused = t.status == "paused"
    return {
        "id": t.id,
        "name": t.name,
        "trigger": t.trigger,
        "state": t.state,
        "deadline": t.deadline,
        "due_at": None if paused else _iso(t.due_at),
        "paused": {
            "remaining_working_days": t.remaining_working_days,
            "remaining_seconds": t.remaining_seconds,
        }
        if paused
        else None,
        "status": t.status,
        "provisional": t.provisional,
        "catch_up": t.catch_up,
        "every": t.every,
        "duration": t.duration,
        "remaining_seconds": t.remaining_seconds,
        "remaining_working_days": t.remaining_working_days,
    }


def event_json(e: EventRow) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "kind": e.kind,
        "trigger": e.trigger,
        "from_state": e.from_state,
        "to_state": e.to_state,
        "actor": e.actor,
        "role": e.role,
        "jurisdiction": e.jurisdiction,
        "payload": e.payload,
        "patch": e.patch,
        "at": _iso(e.at),
        "due_at": _iso(e.due_at),
        "hash": e.hash,
    }


@dataclass(frozen=True)
class CaseView:
    case: CaseRow
    state_title: str
    final: bool
    timers: list[TimerRow] = field(default_factory=list)
    available_triggers: list[str] | None = None
    # Confidential fields the viewer may not read (engine.access): left out of ``to_json``.
    hidden: frozenset[str] = frozenset()
    # The round of a joint sign-off the case is in (engine.sign_off), read-only.
    sign_off: dict[str, Any] | None = None

    @property
    def id(self) -> int:
        return self.case.id

    @property
    def state(self) -> str:
        return self.case.state

    @property
    def data(self) -> dict[str, Any]:
        return self.case.data

    @property
    def version(self) -> int:
        return self.case.version

    def to_json(self) -> dict[str, Any]:
        c = self.case
        out: dict[str, Any] = {
            "id": c.id,
            "workflow": c.workflow,
            "workflow_version": c.workflow_version,
            "state": c.state,
            "state_title": self.state_title,
            "final": self.final,
            "open": c.is_open,
            "data": {k: v for k, v in c.data.items() if k not in self.hidden}
            if self.hidden
            else c.data,
            "version": c.version,
            "subject": c.subject,
            "jurisdiction": c.jurisdiction,
            "created_at": _iso(c.created_at),
            "updated_at": _iso(c.updated_at),
            "timers": [timer_json(t) for t in self.timers],
        }
        if self.available_triggers is not None:
            out["available_triggers"] = self.available_triggers
        if self.hidden:
            out["redacted"] = sorted(self.hidden)
        if self.sign_off is not None:
            out["sign_off"] = self.sign_off
        return out
