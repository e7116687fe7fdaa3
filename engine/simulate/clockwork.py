"""Virtual time: moving the injected clock and letting the timers fire through the real sweep
(``engine.time.sweep``) as a punctual scheduler would, each at its due moment.

``advance: 5 working days`` moves to the same local time of day on the fifth working day after
today (by the configured working-day calendar); ``3 days``, ``2 weeks``, ``4 hours``,
``30 minutes`` are plain durations; ``until: DATE`` is the end of that local day."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.clock import FakeClock
from engine.runtime import Engine
from engine.time.sweep import Firing, sweep

__all__ = ["MAX_SWEEPS", "Drive", "advance_target", "drive"]

MAX_SWEEPS = 10_000  # due moments in one time jump: more means timers re-arm without end
_ADVANCE = re.compile(r"^(\d+) (working days?|days?|hours?|minutes?|weeks?)$")


def advance_target(engine: Engine, now: datetime, text: str) -> datetime:
    """The moment ``advance: TEXT`` reaches from ``now``."""
    found = _ADVANCE.match(text)
    if found is None:  # pragma: no cover - the scenario schema allows only these
        raise ValueError(text)
    amount, unit = int(found.group(1)), found.group(2).rstrip("s")
    if unit == "working day":
        calendar = engine.planner.calendar
        moment = now.astimezone(calendar.tz)
        left = amount
        while left > 0:
            moment = _next_local_day(moment)
            if calendar.is_working_day(moment.date()):
                left -= 1
        return moment.astimezone(now.tzinfo)
    if unit in ("day", "week"):
        days = amount * (7 if unit == "week" else 1)
        moment = now.astimezone(engine.planner.calendar.tz)
        for _ in range(days):
            moment = _next_local_day(moment)
        return moment.astimezone(now.tzinfo)
    return now + (timedelta(hours=amount) if unit == "hour" else timedelta(minutes=amount))


def _next_local_day(moment: datetime) -> datetime:
    """The same wall-clock time on the next local day."""
    return (moment.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=moment.tzinfo)


@dataclass
class Drive:
    """What one time jump did: each due moment's firings, in order."""

    firings: list[Firing] = field(default_factory=list)
    moments: list[datetime] = field(default_factory=list)
    stuck: str = ""  # why the jump stopped short of its target


def _next_due(engine: Engine, target: datetime) -> datetime | None:
    with engine.store.read() as tx:
        timer = tx.next_due_timer(target)
        return timer.due_at if timer is not None else None


def drive(
    engine: Engine,
    clock: FakeClock,
    target: datetime,
    after_each: Callable[[], None] | None = None,
) -> Drive:
    """Move ``clock`` to ``target``, stopping at every due moment on the way to sweep there, so
    each timer fires at its due time (and the timers its firing arms fire at theirs). The
    sweep at ``target`` runs last (it also recounts provisional due times)."""
    done = Drive()
    for _ in range(MAX_SWEEPS):
        due = _next_due(engine, target)
        if due is None:
            break
        moment = max(due, clock.now())
        clock.set(moment)
        result = sweep(engine, moment)
        done.moments.append(moment)
        done.firings.extend(result.firings)
        if after_each is not None:
            after_each()
        if not any(f.outcome in ("fired", "skipped") for f in result.firings):
            reasons = "; ".join(f.reason for f in result.firings) or "nothing could be swept"
            done.stuck = f"the timers due at {moment.isoformat()} do not fire ({reasons})"
            return done
    else:
        done.stuck = f"more than {MAX_SWEEPS} due moments: timers re-arm without end"
        return done
    clock.set(max(target, clock.now()))
    result = sweep(engine, clock.now())
    done.firings.extend(result.firings)
    if callable(after_each):
        after_each()
    return done
