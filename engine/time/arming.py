"""Arming, cancelling, pausing and resuming timers as a case moves; called by the facade inside
the transaction of the state change, so timers and state always commit together.

* State timers (``timers:``) are armed on entering their state and cancelled on leaving it.
* Deadlines (``deadlines:``) are armed the first time a case enters a ``starts_in`` state,
  cancelled on entering a ``runs_until`` state, paused in ``pauses_in`` states (the remaining
  time is stored: working days for a working-day deadline, else seconds) and resumed with the
  remaining time on leaving them. Each pause and resume returns a ``Note`` (``notes.py``)
  that the facade appends to the history after the transition's own row.
* A live timer or deadline dated by a data field (``at: {data: field}``) follows that field:
  a transition that changes it (an approved extension) moves the timer to the new date, or
  cancels it if the field is emptied, with a ``timer_moved`` note.

Durations count from ``base``: the moment the transition was due (a timer's due time) or now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.definition.model import AtSpec, DeadlineSpec, Definition, Duration, TimerSpec
from engine.store.repository import LIVE_TIMER, TimerRow, Tx
from engine.time.notes import Armed, Note
from engine.time.timers import Due, TimerPlanner

__all__ = ["Arming", "Planned"]


def _provisional(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"timer": r["name"], "due_at": _iso(r["due_at"])} for r in rows if r["provisional"]]


@dataclass(frozen=True)
class Planned:
    """When a timer falls if armed at ``base``: ``due`` is None when its ``at`` field is empty."""

    due: Due | None
    duration: Duration | None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


class Arming:
    def __init__(self, planner: TimerPlanner) -> None:
        self.planner = planner
        self.calendar = planner.calendar

    # -- planning ---------------------------------------------------------------------------

    def plan(
        self,
        after: Duration | None,
        at: AtSpec | None,
        data: Mapping[str, Any],
        base: datetime,
    ) -> Planned:
        if at is not None:
            return Planned(self.planner.at(at, data), None)
        assert after is not None
        return Planned(self.planner.after(base, after), after)

    def plan_timer(self, spec: TimerSpec, data: Mapping[str, Any], base: datetime) -> Planned:
        return self.plan(spec.after or spec.every, spec.at, data, base)

    def next_occurrence(self, timer: TimerRow, now: datetime) -> tuple[Due, datetime]:
        """The next due time of a repeating timer that fell due at ``timer.due_at``, and the
        base it counts from. Counted from the previous due time; with ``catch_up: skip`` the
        first occurrence after ``now`` (missed periods are dropped, the rhythm is kept)."""
        assert timer.every is not None
        every = Duration.parse(timer.every)
        base = timer.due_at
        due = self.planner.after(base, every)
        while timer.catch_up == "skip" and due.at <= now:
            base = due.at
            due = self.planner.after(base, every)
        return due, base

    def repeat_row(self, timer: TimerRow, now: datetime) -> dict[str, Any]:
        """The next occurrence of a repeating timer that has just fired (or been skipped)."""
        due, base = self.next_occurrence(timer, now)
        planned = Planned(due, Duration.parse(timer.every or ""))
        return self._row(
            timer.case_id,
            timer.name,
            timer.trigger,
            planned,
            base,
            now,
            state=timer.state,
            payload=dict(timer.payload),
            catch_up=timer.catch_up,
            every=timer.every,
        )

    # -- rows -------------------------------------------------------------------------------

    @staticmethod
    def _row(
        case_id: int,
        name: str,
        trigger: str,
        planned: Planned,
        base: datetime,
        now: datetime,
        **extra: Any,
    ) -> dict[str, Any]:
        assert planned.due is not None
        values: dict[str, Any] = {
            "case_id": case_id,
            "name": name,
            "trigger": trigger,
            "state": None,
            "deadline": None,
            "due_at": planned.due.at,
            "status": "pending",
            "payload": {},
            "catch_up": "fire",
            "every": None,
            "provisional": planned.due.provisional,
            "created_at": now,
            "fired_at": None,
            "base_at": base if planned.duration is not None else None,
            "duration": str(planned.duration) if planned.duration is not None else None,
            "remaining_seconds": None,
            "remaining_working_days": None,
        }
        values.update(extra)
        return values

    def state_rows(
        self,
        definition: Definition,
        case_id: int,
        state: str,
        data: Mapping[str, Any],
        base: datetime,
        now: datetime,
    ) -> list[dict[str, Any]]:
        rows = []
        for spec in definition.timers.get(state, ()):
            planned = self.plan_timer(spec, data, base)
            if planned.due is None:
                continue
            rows.append(
                self._row(
                    case_id,
                    spec.name,
                    spec.fires,
                    planned,
                    base,
                    now,
                    state=state,
                    payload=dict(spec.payload),
                    catch_up=spec.catch_up,
                    every=str(spec.every) if spec.every else None,
                )
            )
        return rows

    def _deadline_row(
        self,
        d: DeadlineSpec,
        case_id: int,
        data: Mapping[str, Any],
        base: datetime,
        now: datetime,
    ) -> dict[str, Any] | None:
        planned = self.plan(d.after, d.at, data, base)
        if planned.due is None:
            return None
        return self._row(
            case_id,
            d.name,
            d.fires,
            planned,
            base,
            now,
            deadline=d.name,
            payload=dict(d.payload),
            catch_up=d.catch_up,
        )

    # -- the facade's hooks -----------------------------------------------------------------

    def on_create(
        self,
        tx: Tx,
        definition: Definition,
        case_id: int,
        data: Mapping[str, Any],
        now: datetime,
    ) -> Armed:
        state = definition.initial
        rows = self.state_rows(definition, case_id, state, data, now, now)
        for d in definition.deadlines:
            if state in d.starts_in:
                row = self._deadline_row(d, case_id, data, now, now)
                rows.extend([row] if row else [])
        tx.insert_timers(rows)
        return Armed(provisional=_provisional(rows))

    def on_transition(
        self,
        tx: Tx,
        definition: Definition,
        case_id: int,
        source: str,
        dest: str,
        data: Mapping[str, Any],
        base: datetime,
        now: datetime,
    ) -> Armed:
        """Leave ``source`` and enter ``dest`` (not for internal transitions)."""
        if definition.timers.get(source):  # rows with a state come only from its timers
            tx.cancel_state_timers(case_id, source)
        rows = self.state_rows(definition, case_id, dest, data, base, now)
        armed = Armed()
        for d in definition.deadlines:
            note = self._deadline_step(tx, d, case_id, dest, data, base, now, rows)
            if note is not None:
                armed.notes.append(note)
        tx.insert_timers(rows)
        armed.provisional.extend(_provisional(rows))
        return armed

    def _deadline_step(
        self,
        tx: Tx,
        d: DeadlineSpec,
        case_id: int,
        dest: str,
        data: Mapping[str, Any],
        base: datetime,
        now: datetime,
        new_rows: list[dict[str, Any]],
    ) -> Note | None:
        """Disarm, arm (appended to ``new_rows``), pause or resume deadline ``d``."""
        rows = tx.deadline_timers(case_id, d.name)
        live = next((r for r in rows if r.status in LIVE_TIMER), None)
        if dest in d.runs_until:
            if live is not None:
                tx.set_timer(live.id, {"status": "cancelled"})
            return None
        if live is None:
            if dest in d.starts_in and not rows:
                row = self._deadline_row(d, case_id, data, base, now)
                new_rows.extend([row] if row else [])
            return None
        if live.status == "pending" and dest in d.pauses_in:
            return self._pause(tx, live, base)
        if live.status == "paused" and dest not in d.pauses_in:
            return self._resume(tx, live, base)
        return None

    # -- dates taken from the case data ------------------------------------------------------

    def follow_data(
        self,
        tx: Tx,
        definition: Definition,
        case_id: int,
        before: Mapping[str, Any],
        after: Mapping[str, Any],
    ) -> list[Note]:
        """Move every live timer of the case whose ``at`` names a data field that changed from
        ``before`` to ``after``. Timers armed by this same transition already have the new date
        and are left alone."""
        dated = definition.dated
        if not any(before.get(f) != after.get(f) for f in dated.values()):
            return []
        notes = []
        for timer in tx.live_timers(case_id):
            data_field = dated.get((timer.deadline, timer.state, timer.name))
            if data_field is not None and before.get(data_field) != after.get(data_field):
                note = self._move(tx, timer, data_field, after)
                notes.extend([note] if note is not None else [])
        return notes

    def _move(
        self, tx: Tx, timer: TimerRow, data_field: str, data: Mapping[str, Any]
    ) -> Note | None:
        due = self.planner.at(AtSpec(data_field=data_field), data)
        if due is not None and due.at == timer.due_at:
            return None
        payload: dict[str, Any] = {
            "timer": timer.id,
            "name": timer.name,
            "deadline": timer.deadline,
            "field": data_field,
            "old_due_at": _iso(timer.due_at),
        }
        if due is None:  # the field was emptied: no date, no timer
            tx.set_timer(timer.id, {"status": "cancelled"})
            return Note("timer_moved", {**payload, "due_at": None, "cancelled": True})
        values: dict[str, Any] = {"due_at": due.at, "provisional": due.provisional}
        if timer.status == "paused" and timer.remaining_seconds is not None:
            shift = int((due.at - timer.due_at).total_seconds())
            values["remaining_seconds"] = max(0, timer.remaining_seconds + shift)
            payload["remaining_seconds"] = values["remaining_seconds"]
        tx.set_timer(timer.id, values)
        return Note("timer_moved", {**payload, "due_at": _iso(due.at)})

    # -- pause and resume -------------------------------------------------------------------

    def remaining_working_days(self, moment: datetime, due_at: datetime) -> tuple[int, bool]:
        """Working days left after ``moment``'s local day up to the day ``due_at`` ends (a due
        time is the end of a day), and whether an uncovered year was involved."""
        day = self.calendar.day_of(moment)
        last = self.calendar.day_of(due_at)
        count, provisional = 0, False
        while day < last:
            day += timedelta(days=1)
            provisional = provisional or not self.calendar.covered(day.year)
            count += self.calendar.is_working_day(day)
        return count, provisional

    @staticmethod
    def _working(timer: TimerRow) -> bool:
        return timer.duration is not None and timer.duration.endswith("working days")

    def _pause(self, tx: Tx, timer: TimerRow, base: datetime) -> Note:
        values: dict[str, Any] = {"status": "paused"}
        if self._working(timer):
            days, provisional = self.remaining_working_days(base, timer.due_at)
            values.update(remaining_working_days=days, provisional=provisional)
            remaining: dict[str, Any] = {"remaining_working_days": days}
        else:
            seconds = max(0, int((timer.due_at - base).total_seconds()))
            values.update(remaining_seconds=seconds)
            remaining = {"remaining_seconds": seconds}
        tx.set_timer(timer.id, values)
        payload = {"deadline": timer.deadline, "timer": timer.id, "due_at": _iso(timer.due_at)}
        return Note("deadline_paused", {**payload, **remaining, "paused_at": _iso(base)})

    def resume_due(self, timer: TimerRow, base: datetime) -> tuple[Due, Duration | None]:
        """Where a paused deadline falls if it resumes at ``base``."""
        days = timer.remaining_working_days
        if days is not None:
            if days < 1:  # paused on its last day: it ends with the day it resumes
                return Due(self.calendar.end_of_day(self.calendar.day_of(base))), None
            duration = Duration(days, "working_days")
            return self.planner.after(base, duration), duration
        return Due(base + timedelta(seconds=timer.remaining_seconds or 0)), None

    def _resume(self, tx: Tx, timer: TimerRow, base: datetime) -> Note:
        due, duration = self.resume_due(timer, base)
        tx.set_timer(
            timer.id,
            {
                "status": "pending",
                "due_at": due.at,
                "provisional": due.provisional,
                "base_at": base if duration is not None else None,
                "duration": str(duration) if duration is not None else None,
                "remaining_seconds": None,
                "remaining_working_days": None,
            },
        )
        remaining = (
            {"remaining_working_days": timer.remaining_working_days}
            if timer.remaining_working_days is not None
            else {"remaining_seconds": timer.remaining_seconds}
        )
        return Note(
            "deadline_resumed",
            {
                "deadline": timer.deadline,
                "timer": timer.id,
                "resumed_at": _iso(base),
                **remaining,
                "due_at": _iso(due.at),
                "provisional": due.provisional,
            },
        )
