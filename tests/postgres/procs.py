"""Bodies of the worker and scheduler processes of test_multiprocess.py (spawned: each builds
its own engine, connection pool and clock from the settings it is given)."""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from datetime import datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event
from typing import Any

from engine.clock import FakeClock
from engine.errors import StaleVersion
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings, build_engine
from engine.time.sweep import sweep

CLERK = Actor("clerk", "clerk")
STEPS = (("assess", {}), ("note", {"note": "checked"}), ("approve", {}), ("close", {}))
MAX_RETRIES = 200
MAX_SWEEPS = 5000


def _fire(engine: Engine, case_id: int, trigger: str, payload: dict[str, Any]) -> int:
    """Fire once, retrying while a concurrent writer (a sweep) moves the case; the retries."""
    for attempt in range(MAX_RETRIES):
        try:
            engine.fire(case_id, trigger, CLERK, payload)
            return attempt
        except StaleVersion:
            continue
    raise RuntimeError(f"case {case_id}: {trigger} kept conflicting")


def worker(
    settings: Settings,
    now: datetime,
    steps: Sequence[int],
    ticking: Sequence[int],
    barrier: Barrier,
    out: Queue[dict[str, Any]],
) -> None:
    """Advance ``steps`` cases through assess, note, approve, close; note each ``ticking`` case
    (whose timers the schedulers fire at the same time)."""
    report: dict[str, Any] = {"role": "worker", "transitions": 0, "retries": 0}
    try:
        engine = build_engine(settings, clock=FakeClock(now))
        barrier.wait(timeout=120)
        for i, case_id in enumerate(steps):
            for trigger, payload in STEPS:
                report["retries"] += _fire(engine, case_id, trigger, payload)
                report["transitions"] += 1
            if i < len(ticking):
                report["retries"] += _fire(engine, ticking[i], "note", {"note": "seen"})
                report["transitions"] += 1
        engine.store.dispose()
    except BaseException:
        report["error"] = traceback.format_exc()
    out.put(report)


def _sweep_until_empty(engine: Engine, report: dict[str, Any]) -> None:
    while report["sweeps"] < MAX_SWEEPS:
        report["sweeps"] += 1
        result = sweep(engine, limit=25)
        for firing in result.firings:
            report["outcomes"][firing.outcome] = report["outcomes"].get(firing.outcome, 0) + 1
            if firing.outcome == "fired":
                report["fired"].append(firing.timer_id)
        if not result.firings:
            return


def scheduler(
    settings: Settings,
    now: datetime,
    barrier: Barrier,
    workers_done: Event,
    out: Queue[dict[str, Any]],
) -> None:
    """Sweep in small batches until a sweep finds nothing due. A sweep passes over cases that a
    worker holds at that moment, so once the workers are done, sweep again (the next tick)."""
    report: dict[str, Any] = {"role": "scheduler", "fired": [], "outcomes": {}, "sweeps": 0}
    try:
        engine = build_engine(settings, clock=FakeClock(now))
        barrier.wait(timeout=120)
        _sweep_until_empty(engine, report)
        if not workers_done.wait(timeout=600):
            raise RuntimeError("the workers did not finish")
        _sweep_until_empty(engine, report)
        engine.store.dispose()
    except BaseException:
        report["error"] = traceback.format_exc()
    out.put(report)
