"""What a migration plans and reports, case by case (``engine.migration`` runs it), and the
refusal of a migration with unmappable cases."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.definition.model import ADMIN, Definition
from engine.errors import Conflict, FieldError, Forbidden
from engine.handlers import Actor
from engine.history import MIGRATED
from engine.store.repository import EventRow

__all__ = [
    "CasePlan",
    "DefinitionOf",
    "MigrationRefused",
    "MigrationReport",
    "TimerChange",
    "entered_at",
    "require_admin",
]

DefinitionOf = Callable[[int], Definition]


class MigrationRefused(Conflict):
    """Some cases asked to move to another version cannot be: none was moved. ``cases``: one
    ``{"case_id", "state", "reasons"}`` per refused case."""

    status, kind, exit_code = 409, "migration-refused", 6
    title = "Some cases cannot be migrated; none was"

    def __init__(self, workflow: str, version: int, cases: Sequence[dict[str, Any]]) -> None:
        self.cases = list(cases)
        named = "; ".join(f"case {c['case_id']}: {', '.join(c['reasons'])}" for c in self.cases)
        super().__init__(
            f"{len(self.cases)} case(s) of {workflow!r} cannot move to v{version}, so none "
            f"was moved: {named}"
        )

    def extensions(self) -> dict[str, Any]:
        return {"cases": self.cases}


def require_admin(actor: Actor) -> None:
    if actor.role != ADMIN:
        raise Forbidden(
            f"only the admin role may do this (your role: {actor.role})", role=actor.role
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass(frozen=True)
class TimerChange:
    name: str
    deadline: bool
    change: str  # kept | cancelled | rearmed | armed
    due_at: datetime | None  # before (None: a new timer)
    new_due_at: datetime | None  # after (None: cancelled)
    paused: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": "deadline" if self.deadline else "timer",
            "change": self.change,
            "due_at": _iso(self.due_at),
            "new_due_at": _iso(self.new_due_at),
            "paused": self.paused,
        }


@dataclass
class CasePlan:
    case_id: int
    from_version: int
    to_version: int
    from_state: str
    to_state: str | None
    data_errors: list[FieldError] = field(default_factory=list)
    timers: list[TimerChange] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    # What the real run writes: timer ids to cancel, (id, values) to update, rows to insert.
    cancel: list[int] = field(default_factory=list)
    update: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    insert: list[dict[str, Any]] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.reasons)

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "state": self.from_state,
            "to_state": self.to_state,
            "data_errors": [
                {"json_path": e.json_path, "message": e.message} for e in self.data_errors
            ],
            "timers": [t.to_json() for t in self.timers],
            "refused": self.refused,
            "reasons": self.reasons,
        }


@dataclass
class MigrationReport:
    workflow: str
    to_version: int
    dry_run: bool
    cases: list[CasePlan]
    migrated: list[int] = field(default_factory=list)

    @property
    def refused(self) -> list[CasePlan]:
        return [p for p in self.cases if p.refused]

    def to_json(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "to_version": self.to_version,
            "dry_run": self.dry_run,
            "cases": [p.to_json() for p in self.cases],
            "refused": [p.case_id for p in self.refused],
            "migrated": self.migrated,
        }


def entered_at(events: Sequence[EventRow], state: str, definition_of: DefinitionOf) -> datetime:
    """When the case last entered ``state`` (its due time for a timer's firing): internal
    transitions do not enter; a ``migrated`` row carries the state over from the one it maps."""
    version: int | None = None
    for e in reversed(events):
        moment = e.due_at or e.at
        if e.kind == MIGRATED:
            version = int(e.payload["from_version"])
            state = e.from_state or state
        elif e.to_state == state and e.kind in ("created", "reopened"):
            return moment
        elif e.to_state == state and e.kind == "transition" and e.transition is not None:
            d = definition_of(version) if version is not None else None
            spec = d.transitions[e.transition] if d is not None else None
            if spec is None or not spec.internal or e.from_state != state:
                return moment
    return events[0].at if events else datetime.min
