"""The trace of a simulation: what happened, event by event, read back from the engine's own
history and timer rows after each step (nothing here decides anything).

Each ``Entry`` is one history row (a case opened, a transition, a skipped timer, a paused
deadline ...) with its time, actor and role, trigger, states with their Chinese titles, and the
timers the step armed, fired or cancelled on that case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.definition.model import Definition
from engine.runtime import Engine
from engine.store.repository import EventRow, TimerRow, Tx

__all__ = ["Entry", "Recorder", "TimerNote", "local"]

_NOTES = ("deadline_paused", "deadline_resumed", "timer_moved", "timer_recomputed")


def local(moment: datetime, zone: ZoneInfo) -> str:
    """``2024-07-01 00:00`` in the calendar's zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class TimerNote:
    name: str
    trigger: str
    due_at: datetime
    status: str = "pending"

    def to_json(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "name": self.name,
            "trigger": self.trigger,
            "due_at": self.due_at.isoformat(),
            "due_local": local(self.due_at, zone),
            "status": self.status,
        }


@dataclass
class Entry:
    step: int
    at: datetime
    case_id: int
    workflow: str
    workflow_title: str
    actor: str
    role: str
    kind: str  # the history row's kind: created, transition, timer_skipped, ...
    trigger: str | None = None
    trigger_title: str = ""
    from_state: str | None = None
    from_title: str = ""
    to_state: str | None = None
    to_title: str = ""
    fired_by: TimerNote | None = None  # the timer whose firing this is
    reason: str = ""  # why a timer was skipped
    armed: list[TimerNote] = field(default_factory=list)
    ended: list[TimerNote] = field(default_factory=list)  # fired, skipped or cancelled

    def to_json(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "step": self.step,
            "at": self.at.isoformat(),
            "local": local(self.at, zone),
            "case": self.case_id,
            "workflow": self.workflow,
            "workflow_title": self.workflow_title,
            "actor": self.actor,
            "role": self.role,
            "kind": self.kind,
            "trigger": self.trigger,
            "trigger_title": self.trigger_title,
            "from": self.from_state,
            "from_title": self.from_title,
            "to": self.to_state,
            "to_title": self.to_title,
            "timer": self.fired_by.to_json(zone) if self.fired_by else None,
            "reason": self.reason,
            "armed": [t.to_json(zone) for t in self.armed],
            "ended": [t.to_json(zone) for t in self.ended],
        }

    def lines(self, zone: ZoneInfo) -> list[str]:
        """The entry as people read it: one line, then one per timer armed or ended."""
        who = f"{self.actor}({self.role})"
        if self.fired_by is not None:
            who = f"⏰ {self.fired_by.name}"
        what = self.kind if self.kind != "transition" else (self.trigger or "")
        if self.trigger_title:
            what += f"「{self.trigger_title}」"
        move = ""
        if self.kind == "created":
            move = f"→ {_state(self.to_state, self.to_title)}"
        elif self.kind == "transition":
            source = _state(self.from_state, self.from_title)
            move = f"{source} → {_state(self.to_state, self.to_title)}"
            if self.to_state == self.from_state:
                move = f"(留在 {source})"
        elif self.reason:
            move = f"({self.reason})"
        head = f"{local(self.at, zone)}  #{self.case_id} {self.workflow_title}  {who}  {what}"
        out = [f"{head}  {move}".rstrip()]
        for t in self.ended:
            out.append(
                f"{'':18}{t.status:<6} {t.name} → {t.trigger} (was due {local(t.due_at, zone)})"
            )
        for t in self.armed:
            out.append(f"{'':18}armed  {t.name} → {t.trigger}, due {local(t.due_at, zone)}")
        return out


def _state(name: str | None, title: str) -> str:
    if name is None:
        return "-"
    return f"{title}({name})" if title and title != name else name


def _note(t: TimerRow, status: str | None = None) -> TimerNote:
    return TimerNote(t.name, t.trigger, t.due_at, status or t.status)


class Recorder:
    """Reads what changed since the last look: new history rows of every case, and the timers
    that appeared or went away."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: dict[int, int] = {}  # case id -> last history seq read
        self.live: dict[int, dict[int, TimerRow]] = {}  # case id -> timer id -> row
        self.entries: list[Entry] = []
        self._definitions: dict[tuple[str, int], Definition] = {}

    def definition(self, name: str, version: int) -> Definition:
        key = (name, version)
        if key not in self._definitions:
            self._definitions[key] = self.engine.definition(name, version)[1]
        return self._definitions[key]

    def collect(self, step: int) -> list[Entry]:
        with self.engine.store.read() as tx:
            ids = tx.case_ids()
            timers = {case_id: tx.live_timers(case_id) for case_id in ids}
            ended = {case_id: self._ended(tx, case_id, timers[case_id]) for case_id in ids}
        new: list[Entry] = []
        for case_id in ids:
            view = self.engine.get_case(case_id)
            d = self.definition(view.case.workflow, view.case.workflow_version)
            events = [e for e in self.engine.history(case_id) if e.seq > self.seen.get(case_id, 0)]
            entries = [self._entry(step, case_id, d, e) for e in events]
            before = self.live.get(case_id, {})
            now_live = {t.id: t for t in timers[case_id]}
            armed = [_note(t) for tid, t in now_live.items() if tid not in before]
            gone = ended[case_id]
            if (armed or gone) and not entries:
                entries = [self._timers_only(step, case_id, d)]
            if entries:
                entries[-1].armed.extend(armed)
                entries[-1].ended.extend(gone)
            if events:
                self.seen[case_id] = events[-1].seq
            self.live[case_id] = now_live
            new.extend(entries)
        new.sort(key=lambda e: (e.at, e.case_id))
        self.entries.extend(new)
        return new

    def _ended(self, tx: Tx, case_id: int, live: list[TimerRow]) -> list[TimerNote]:
        before = self.live.get(case_id, {})
        still = {t.id for t in live}
        out = []
        for tid, t in before.items():
            if tid in still:
                continue
            row = tx.get_timer(tid)
            status = row.status if row is not None else "cancelled"
            out.append(_note(t, status if status != "pending" else "cancelled"))
        return out

    def _entry(self, step: int, case_id: int, d: Definition, e: EventRow) -> Entry:
        title = ""
        if e.transition is not None and e.transition < len(d.transitions):
            title = d.transitions[e.transition].title
        timer = e.payload.get("_timer") if e.kind == "transition" else None
        fired_by = None
        if isinstance(timer, dict):
            due = datetime.fromisoformat(str(timer.get("due_at")))
            fired_by = TimerNote(str(timer.get("name")), e.trigger or "", due, "fired")
        reason = str(e.payload.get("reason", "")) if e.kind == "timer_skipped" else ""
        if e.kind in _NOTES:
            reason = self._note_text(e.payload)
        if e.kind == "timer_skipped":
            due = datetime.fromisoformat(str(e.payload.get("due_at")))
            fired_by = TimerNote(str(e.payload.get("name")), str(e.payload.get("trigger")), due)
        return Entry(
            step=step,
            at=e.at,
            case_id=case_id,
            workflow=d.name,
            workflow_title=d.title,
            actor=e.actor,
            role=e.role,
            kind=e.kind,
            trigger=e.trigger,
            trigger_title=title,
            from_state=e.from_state,
            from_title=_title(d, e.from_state),
            to_state=e.to_state,
            to_title=_title(d, e.to_state),
            fired_by=fired_by,
            reason=reason,
        )

    def _note_text(self, payload: dict[str, Any]) -> str:
        """A paused, resumed, moved or recounted timer, in a few words."""
        zone = self.engine.planner.calendar.tz
        parts = [str(payload.get("name") or payload.get("deadline") or "")]
        if payload.get("remaining_working_days") is not None:
            parts.append(f"{payload['remaining_working_days']} working day(s) left")
        if payload.get("due_at"):
            parts.append(f"due {local(datetime.fromisoformat(str(payload['due_at'])), zone)}")
        return ", ".join(p for p in parts if p)

    def _timers_only(self, step: int, case_id: int, d: Definition) -> Entry:
        now = self.engine.clock.now()
        return Entry(step, now, case_id, d.name, d.title, "system", "system", "timers")


def _title(d: Definition, state: str | None) -> str:
    if state is None or state not in d.states:
        return ""
    return d.states[state].title
