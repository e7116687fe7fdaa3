"""Helpers for the timer tests: Shanghai wall-clock times, the timer fixture workflows, and a
loop that moves a fake clock and sweeps (the scheduler's job, without threads)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.clock import FakeClock
from engine.runtime import Engine
from engine.settings import Settings, build_engine
from engine.store.repository import TimerRow
from engine.time.sweep import Firing, sweep

SH = ZoneInfo("Asia/Shanghai")
WORKFLOWS = Path(__file__).resolve().parent / "fixtures" / "workflows"


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock moment (aware)."""
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def end_of(year: int, month: int, day: int) -> datetime:
    """The due time of a timer that ends with that Shanghai day: 00:00 of the next day."""
    return sh(year, month, day) + timedelta(days=1)


def timer_engine(settings: Settings, clock: FakeClock, url: str | None = None) -> Engine:
    """An engine (on ``url`` if given) with the timer fixture workflows loaded."""
    if url is not None:
        settings = Settings(
            config_dir=settings.config_dir,
            database_url=url,
            handlers=settings.handlers,
            workflows=settings.workflows,
            reference=settings.reference,
        )
    engine = build_engine(settings, clock=clock)
    engine.load([WORKFLOWS])
    return engine


def run_until(engine: Engine, clock: FakeClock, end: datetime, step: timedelta) -> list[Firing]:
    """Sweep every ``step`` up to ``end`` (a scheduler that never misses a beat)."""
    firings: list[Firing] = []
    while clock.now() < end:
        clock.set(min(clock.now() + step, end))
        firings.extend(sweep(engine).firings)
    return firings


def live(engine: Engine, case_id: int) -> list[TimerRow]:
    with engine.store.read() as tx:
        return tx.live_timers(case_id)


def timers_of(engine: Engine, case_id: int) -> list[TimerRow]:
    """Every timer row of a case, any status, in id order."""
    with engine.store.read() as tx:
        return tx.case_timers(case_id)
