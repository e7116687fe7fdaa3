"""APScheduler 3 runs the sweep inside a long-running process.

``qingliu scheduler`` uses a ``BlockingScheduler``; the HTTP server starts a
``BackgroundScheduler`` with :func:`start_background_sweeper`. Both add one interval job:

* ``coalesce=True``: runs missed while the process was busy or suspended collapse into one
  (a sweep fires *everything* due, so one run catches up fully);
* ``max_instances=1``: a sweep never overlaps itself in one process (two processes are safe
  anyway: each timer is claimed in its own transaction);
* ``misfire_grace_time`` = the interval: a run delayed by less than one interval still runs, a
  later one is dropped in favour of the next, which sweeps the same timers.

The scheduler keeps wall-clock time; the sweep asks the engine's clock what "now" is (the
installation's logical time when one is set, re-read before each sweep). A failing
sweep is logged and the job keeps its schedule.

Each sweep that ran writes its scheduler's heartbeat (``serve@host`` or ``scheduler@host``:
the wall-clock time and the interval, ``engine.store._ops``), which ``GET /readyz`` reads, and
adds to the sweep counters of ``engine.metrics``. The server's sweeper runs once at start too,
so that a new server is ready without waiting one interval.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from datetime import UTC
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from engine.clock import Clock
from engine.metrics import instruments
from engine.time.logical import InstallationClock
from engine.time.sweep import SweepResult, sweep

if TYPE_CHECKING:
    from engine.runtime import Engine

__all__ = [
    "DEFAULT_INTERVAL",
    "JOB_ID",
    "build_scheduler",
    "job_options",
    "scheduler_name",
    "wall_clock",
    "run_scheduler",
    "run_sweep",
    "start_background_sweeper",
]

DEFAULT_INTERVAL = 60
JOB_ID = "qingliu-sweep"
SWEEP_LIMIT = 10_000
log = logging.getLogger(__name__)

OnResult = Callable[[SweepResult], None]


def job_options(interval_seconds: int) -> dict[str, Any]:
    if interval_seconds < 1:
        raise ValueError(f"the sweep interval must be at least 1 second, got {interval_seconds}")
    return {"coalesce": True, "max_instances": 1, "misfire_grace_time": interval_seconds}


def scheduler_name(kind: str) -> str:
    """The heartbeat's name of a scheduler of ``kind`` (``serve``, ``scheduler``) here."""
    return f"{kind}@{socket.gethostname()}"[:128]


def wall_clock(engine: Engine) -> Clock:
    """The clock of heartbeats: real time even while the installation's logical time stands
    still (its fallback); an injected clock (tests) as it is."""
    clock = engine.clock
    return clock.fallback if isinstance(clock, InstallationClock) else clock


def run_sweep(
    engine: Engine,
    on_result: OnResult | None = None,
    *,
    name: str | None = None,
    interval_seconds: int = DEFAULT_INTERVAL,
) -> SweepResult | None:
    """One scheduled sweep; errors are logged, never raised into the scheduler. The
    installation's logical clock is read again first (``qingliu time set`` in another process).
    With a ``name``, a sweep that ran records the heartbeat of that scheduler."""
    counts = instruments()
    try:
        if isinstance(engine.clock, InstallationClock):
            engine.clock.refresh()
        result = sweep(engine, limit=SWEEP_LIMIT)
    except Exception:
        counts.sweeps.labels("failed").inc()
        log.exception("scheduled sweep failed")
        return None
    counts.sweeps.labels("ok").inc()
    fired = [f for f in result.firings if f.outcome == "fired"]
    counts.timers_fired.inc(len(fired))
    counts.timers_fired_late.inc(sum(1 for f in fired if f.late))
    counts.timers_skipped.inc(result.count("skipped"))
    if name is not None:
        _beat(engine, name, interval_seconds)
    if result.firings or result.recomputed:
        log.info(
            "sweep at %s: %d fired, %d skipped, %d recomputed",
            result.now.isoformat(),
            result.count("fired"),
            result.count("skipped"),
            len(result.recomputed),
        )
    if on_result is not None:
        on_result(result)
    return result


def _beat(engine: Engine, name: str, interval_seconds: int) -> None:
    try:
        with engine.store.write() as tx:
            tx.beat(name, wall_clock(engine).now(), interval_seconds)
    except Exception:  # the sweep itself went through; readiness will notice a stale beat
        log.exception("could not record the heartbeat of %s", name)


def build_scheduler(
    engine: Engine,
    interval_seconds: int = DEFAULT_INTERVAL,
    *,
    blocking: bool = False,
    on_result: OnResult | None = None,
    name: str | None = None,
) -> BaseScheduler:
    """A scheduler (not started) with the sweep job, first run one interval after start."""
    options = job_options(interval_seconds)
    scheduler: BaseScheduler = (
        BlockingScheduler(timezone=UTC) if blocking else BackgroundScheduler(timezone=UTC)
    )
    scheduler.add_job(
        run_sweep,
        "interval",
        seconds=interval_seconds,
        args=[engine, on_result],
        kwargs={"name": name, "interval_seconds": interval_seconds},
        id=JOB_ID,
        name="qingliu timer sweep",
        **options,
    )
    return scheduler


def run_scheduler(
    engine: Engine, interval_seconds: int = DEFAULT_INTERVAL, on_result: OnResult | None = None
) -> None:
    """Sweep now, then every ``interval_seconds`` until interrupted (``qingliu scheduler``)."""
    name = scheduler_name("scheduler")
    scheduler = build_scheduler(
        engine, interval_seconds, blocking=True, on_result=on_result, name=name
    )
    run_sweep(engine, on_result, name=name, interval_seconds=interval_seconds)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)


def start_background_sweeper(
    engine: Engine, interval_seconds: int = DEFAULT_INTERVAL
) -> Callable[[], None]:
    """Start sweeping in a background thread (the HTTP server), now and then every
    ``interval_seconds``; returns the function that stops it (waiting for a running sweep to
    finish). Calling it twice is harmless."""
    name = scheduler_name("serve")
    scheduler = build_scheduler(engine, interval_seconds, name=name)
    first = threading.Thread(
        target=run_sweep,
        args=[engine],
        kwargs={"name": name, "interval_seconds": interval_seconds},
        name="qingliu-first-sweep",
        daemon=True,
    )
    first.start()  # now, not one interval after start (a sweep may overlap it: that is safe)
    scheduler.start()

    def stop() -> None:
        first.join()
        if scheduler.running:
            scheduler.shutdown(wait=True)

    return stop
