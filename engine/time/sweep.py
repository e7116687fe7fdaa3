"""The sweep: fire every timer that is due, each in its own transaction, exactly once.

For each due timer (pending, ``due_at <= now``, oldest first) one write transaction

1. claims it (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises writers
   with ``BEGIN IMMEDIATE``) and marks it ``fired`` only while it is still ``pending``;
2. fires its trigger as the system actor with ``due_at`` = the timer's due time, so timers the
   transition arms count from when it was due, not from when the sweep ran;
3. re-arms a repeating (``every``) timer while the case stays in its state.

Claim and case change commit together: a second sweep either waits for the first and finds the
timer fired, or (PostgreSQL) skips the locked row. If the trigger cannot fire (guard false, the
state already left, the case closed, a handler failed) the transaction rolls back and a second
one marks the timer ``skipped`` with a ``timer_skipped`` history row giving the reason. A timer
is never retried, except after a version conflict or a database error, which leave it pending
for the next sweep. One bad timer never stops the sweep.

A firing more than ``late_after`` (default 5 minutes) after its due time is *late*: the history
row's payload carries ``_timer = {id, name, due_at, fired_at, late, late_seconds}`` and the row's
``due_at`` column keeps the due time next to ``at`` (the firing time).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

from engine.errors import Conflict, QingliuError, StaleVersion
from engine.handlers import Actor
from engine.store.repository import TimerRow, Tx
from engine.time.recompute import Recomputed, recompute_provisional

if TYPE_CHECKING:
    from engine.runtime import Engine

__all__ = ["LATE_AFTER", "BehindHistory", "Firing", "SweepResult", "check_not_behind", "sweep"]

LATE_AFTER = timedelta(minutes=5)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Firing:
    """What happened to one due timer: ``fired``, ``skipped``, ``retry`` (left pending for the
    next sweep) or ``taken`` (another sweep dealt with it first)."""

    timer_id: int
    case_id: int
    name: str
    trigger: str
    due_at: datetime
    fired_at: datetime
    outcome: str
    late: bool
    reason: str = ""
    state: str | None = None  # the case's state after the firing

    def to_json(self) -> dict[str, Any]:
        return {
            "timer": self.timer_id,
            "case": self.case_id,
            "name": self.name,
            "trigger": self.trigger,
            "due_at": self.due_at.isoformat(),
            "fired_at": self.fired_at.isoformat(),
            "outcome": self.outcome,
            "late": self.late,
            "reason": self.reason,
            "state": self.state,
        }

    def __str__(self) -> str:
        late = " late" if self.late else ""
        tail = f" -> {self.state}" if self.outcome == "fired" else f": {self.reason}"
        return (
            f"{self.outcome}{late}: case {self.case_id} timer {self.timer_id} {self.name} "
            f"({self.trigger}, due {self.due_at.isoformat()}){tail}"
        )


@dataclass
class SweepResult:
    now: datetime
    firings: list[Firing] = field(default_factory=list)
    recomputed: list[Recomputed] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.firings if f.outcome == outcome)

    def to_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "fired": self.count("fired"),
            "skipped": self.count("skipped"),
            "retry": self.count("retry"),
            "recomputed": [r.to_json() for r in self.recomputed],
            "firings": [f.to_json() for f in self.firings],
        }


class BehindHistory(Conflict):
    """A sweep asked for at a moment before the last history row: its rows would make the
    history run backwards (``qingliu tick --now`` in the past; ``--force`` overrides)."""

    status, kind, exit_code = 409, "time-behind-history", 6
    title = "That moment is before the last history row"

    def __init__(self, moment: datetime, last: datetime) -> None:
        self.moment, self.last = moment, last
        super().__init__(
            f"{moment.isoformat()} is before the last history row ({last.isoformat()}): "
            "sweeping then would make the history run backwards; give a later moment, or "
            "--force to sweep there anyway"
        )

    def extensions(self) -> dict[str, Any]:
        return {"now": self.moment.isoformat(), "last_history_at": self.last.isoformat()}


def check_not_behind(engine: Engine, moment: datetime) -> datetime | None:
    """Refuse ``moment`` if the history has already gone past it (``BehindHistory``);
    returns the time of the last history row (None: no history yet)."""
    with engine.store.read() as tx:
        last = tx.last_history_at()
    if last is not None and moment < last:
        raise BehindHistory(moment, last)
    return last


class _Skip(Exception):
    """The timer cannot fire; the reason goes into the history."""


def sweep(
    engine: Engine,
    now: datetime | None = None,
    limit: int = 1000,
    late_after: timedelta = LATE_AFTER,
) -> SweepResult:
    """Fire up to ``limit`` timers due by ``now`` (default: the engine's clock), in due order."""
    now = now or engine.clock.now()
    result = SweepResult(now, recomputed=recompute_provisional(engine))
    tried: list[int] = []
    while len(result.firings) < limit:
        firing = _sweep_one(engine, now, tried, late_after)
        if firing is None:
            break
        result.firings.append(firing)
        if firing.outcome in ("retry", "taken"):
            tried.append(firing.timer_id)
    return result


def _firing(timer: TimerRow, now: datetime, late_after: timedelta, outcome: str) -> Firing:
    late = now - timer.due_at > late_after
    return Firing(
        timer.id, timer.case_id, timer.name, timer.trigger, timer.due_at, now, outcome, late
    )


def _sweep_one(
    engine: Engine, now: datetime, tried: list[int], late_after: timedelta
) -> Firing | None:
    claimed: list[TimerRow] = []
    try:
        with engine.store.write() as tx:
            timer = tx.next_due_timer(now, tried)
            if timer is None:
                return None
            claimed.append(timer)
            if not tx.set_timer(
                timer.id, {"status": "fired", "fired_at": now}, if_status="pending"
            ):
                return _firing(timer, now, late_after, "taken")  # by another sweep meanwhile
            return _fire(engine, tx, timer, now, late_after)
    except StaleVersion as exc:  # the case moved under us: the next sweep tries again
        return _retry(claimed, now, late_after, str(exc))
    except DBAPIError as exc:
        log.warning("sweep: database error on timer %s: %s", claimed[:1], exc)
        return _retry(claimed, now, late_after, f"database error: {exc.orig}")
    except (_Skip, QingliuError) as exc:
        reason = str(exc)
    except Exception as exc:  # a bug must not stop the other timers
        if not claimed:
            raise  # not about one timer: the due timers cannot even be read
        log.exception("sweep: timer %s failed", claimed[0].id)
        reason = f"{type(exc).__name__}: {exc}"
    if not claimed:
        raise RuntimeError(f"sweep: cannot read due timers: {reason}")
    return _skip(engine, claimed[0], now, late_after, reason)


def _retry(claimed: list[TimerRow], now: datetime, late_after: timedelta, why: str) -> Firing:
    if not claimed:
        raise RuntimeError(f"sweep: cannot read due timers: {why}")
    firing = _firing(claimed[0], now, late_after, "retry")
    return Firing(**{**firing.__dict__, "reason": why})


def _precheck(tx: Tx, timer: TimerRow) -> None:
    case = tx.get_case(timer.case_id)
    if case is None:
        raise _Skip(f"case {timer.case_id} does not exist")
    if not case.is_open:
        raise _Skip(f"case {case.id} is closed in final state {case.state!r}")
    if timer.state is not None and case.state != timer.state:
        raise _Skip(f"case {case.id} has left state {timer.state!r} (now in {case.state!r})")


def _fire(engine: Engine, tx: Tx, timer: TimerRow, now: datetime, late_after: timedelta) -> Firing:
    _precheck(tx, timer)
    firing = _firing(timer, now, late_after, "fired")
    note = {
        "id": timer.id,
        "name": timer.name,
        "due_at": timer.due_at.isoformat(),
        "fired_at": now.isoformat(),
        "late": firing.late,
        "late_seconds": int((now - timer.due_at).total_seconds()),
    }
    view = engine.fire_in(
        tx,
        timer.case_id,
        timer.trigger,
        Actor.system(),
        timer.payload,
        due_at=timer.due_at,
        timer=note,
    )
    _repeat(engine, tx, timer, now)
    return Firing(**{**firing.__dict__, "state": view.state})


def _repeat(engine: Engine, tx: Tx, timer: TimerRow, now: datetime) -> None:
    """Arm the next occurrence of an ``every`` timer while its case stays in the state."""
    if timer.every is None or timer.state is None:
        return
    case = tx.get_case(timer.case_id)
    if case is None or not case.is_open or case.state != timer.state:
        return
    if not tx.has_pending_timer(case.id, timer.name):  # a self-transition re-armed it already
        tx.insert_timers([engine.arming.repeat_row(timer, now)])


def _skip(
    engine: Engine, timer: TimerRow, now: datetime, late_after: timedelta, reason: str
) -> Firing:
    firing = _firing(timer, now, late_after, "skipped")
    firing = Firing(**{**firing.__dict__, "reason": reason})
    try:
        with engine.store.write() as tx:
            tx.lock_case(timer.case_id)  # the case before its timers (Tx.lock_case)
            if not tx.set_timer(
                timer.id, {"status": "skipped", "fired_at": now}, if_status="pending"
            ):
                return Firing(**{**firing.__dict__, "outcome": "taken", "reason": "taken"})
            if tx.get_case(timer.case_id) is not None:
                payload = {
                    "timer": timer.id,
                    "name": timer.name,
                    "trigger": timer.trigger,
                    "due_at": timer.due_at.isoformat(),
                    "fired_at": now.isoformat(),
                    "late": firing.late,
                    "reason": reason,
                }
                view = engine.record_in(
                    tx, timer.case_id, "timer_skipped", payload, due_at=timer.due_at
                )
                firing = Firing(**{**firing.__dict__, "state": view.state})
            _repeat(engine, tx, timer, now)
    except Exception:  # not even the skip could be written: mark it without a history row
        log.exception("sweep: could not record the skip of timer %s", timer.id)
        with engine.store.write() as tx:
            tx.lock_case(timer.case_id)
            tx.set_timer(timer.id, {"status": "skipped", "fired_at": now}, if_status="pending")
    return firing
