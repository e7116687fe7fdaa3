"""Deadline preview: what is pending on a case, how much time is left, and when each timer of its
current state would fall if it were armed now (``qingliu case timers ID``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.clock import Clock
from engine.definition.model import Definition
from engine.store.repository import CaseRow, TimerRow
from engine.time.arming import Arming
from engine.views import timer_json

__all__ = ["PreviewItem", "TimerPreview", "preview"]


@dataclass(frozen=True)
class PreviewItem:
    """A timer as it would be armed now (``due_at`` None: its ``at`` data field is empty)."""

    name: str
    trigger: str
    kind: str  # "timer" (of the current state) or "deadline" (a paused one, if resumed now)
    due_at: datetime | None
    provisional: bool
    repeats: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trigger": self.trigger,
            "kind": self.kind,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "provisional": self.provisional,
            "every": self.repeats,
        }


@dataclass(frozen=True)
class TimerPreview:
    case_id: int
    state: str
    now: datetime
    live: list[dict[str, Any]] = field(default_factory=list)
    if_armed_now: list[PreviewItem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case_id,
            "state": self.state,
            "now": self.now.isoformat(),
            "pending": self.live,
            "if_armed_now": [item.to_json() for item in self.if_armed_now],
        }


def remaining(arming: Arming, timer: TimerRow, now: datetime) -> dict[str, Any]:
    """Time left on a live timer: stored while paused, counted from ``now`` while pending
    (negative seconds: overdue). Working-day deadlines also count working days."""
    if timer.status == "paused":
        return {
            "remaining_seconds": timer.remaining_seconds,
            "remaining_working_days": timer.remaining_working_days,
        }
    out: dict[str, Any] = {"remaining_seconds": int((timer.due_at - now).total_seconds())}
    working = timer.duration is not None and timer.duration.endswith("working days")
    if working and timer.due_at > now:
        out["remaining_working_days"] = arming.remaining_working_days(now, timer.due_at)[0]
    return out


def preview(
    arming: Arming, definition: Definition, case: CaseRow, live: list[TimerRow], clock: Clock
) -> TimerPreview:
    now = clock.now()
    pending = [{**timer_json(t), **remaining(arming, t, now)} for t in live]
    items: list[PreviewItem] = []
    if case.is_open:
        for spec in definition.timers.get(case.state, ()):
            planned = arming.plan_timer(spec, case.data, now)
            due = planned.due
            items.append(
                PreviewItem(
                    spec.name,
                    spec.fires,
                    "timer",
                    due.at if due else None,
                    due.provisional if due else False,
                    str(spec.every) if spec.every else None,
                )
            )
        for timer in live:
            if timer.status == "paused":
                resumed, _ = arming.resume_due(timer, now)
                items.append(
                    PreviewItem(
                        timer.name, timer.trigger, "deadline", resumed.at, resumed.provisional
                    )
                )
    return TimerPreview(case.id, case.state, now, pending, items)
