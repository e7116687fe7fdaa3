"""The installation's logical clock (``qingliu time``): a moment kept in the database that
every engine built on it reads as "now" (the CLI, the server, the scheduler, reports), until it
is cleared. Setting and clearing it is a change in the audited history."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.settings import Settings, build_engine
from engine.time.logical import InstallationClock, clear_logical_time, set_logical_time
from engine.time.scheduler import run_sweep
from tests.conftest import Run

OPERATOR = Actor("运维值班员", "admin")
MOMENT = datetime(2025, 3, 31, 1, 0, tzinfo=UTC)


def test_every_engine_built_on_the_database_reads_the_logical_time(settings: Settings) -> None:
    first = build_engine(settings)
    try:
        assert isinstance(first.clock, InstallationClock)
        assert first.clock.logical is None  # nothing set: the system clock
        set_logical_time(first, MOMENT, OPERATOR)
        assert first.clock.now() == MOMENT
    finally:
        first.store.dispose()
    second = build_engine(settings)
    try:
        assert second.clock.now() == MOMENT
        history = second.verify_audit()
        assert history == []  # the change is in the keyed chain like any other
        clear_logical_time(second, OPERATOR)
        assert second.clock.now() != MOMENT
    finally:
        second.store.dispose()
    third = build_engine(settings)
    try:
        assert isinstance(third.clock, InstallationClock)
        assert third.clock.logical is None
    finally:
        third.store.dispose()


def test_an_injected_clock_wins_and_a_running_scheduler_picks_up_a_new_time(
    settings: Settings,
) -> None:
    fake = FakeClock(datetime(2024, 1, 1, tzinfo=UTC))
    injected = build_engine(settings, clock=fake)
    running = build_engine(settings)  # a scheduler started before the time was set
    try:
        set_logical_time(injected, MOMENT, OPERATOR)
        assert injected.clock is fake  # tests keep driving their own clock
        assert running.clock.now() != MOMENT
        result = run_sweep(running)
        assert result is not None
        assert result.now == MOMENT  # each sweep reads the stored time first
        assert running.clock.now() == MOMENT
    finally:
        injected.store.dispose()
        running.store.dispose()


def test_qingliu_time_shows_sets_and_clears_the_logical_clock(run: Run) -> None:
    assert "系统时钟" in run("time")
    shown = run("time", "set", "2025-03-31")
    assert "2025-03-31 09:00" in shown  # a bare date is 09:00 that day in Liaocheng
    assert "逻辑时钟" in run("time")
    assert "2025-03-31 09:00" in run("time")
    assert "tick at 2025-03-31T01:00:00+00:00" in run("tick")  # the sweep runs at that time
    assert "2025-04-02T18:30" in run("time", "set", "2025-04-03T02:30+08:00")
    assert "not an ISO date" in run("time", "set", "31/03/2025", code=2)
    assert "admin" in run("time", "set", "2025-03-31", "--as", "county_eeb", code=4)
    assert "系统时钟" in run("time", "clear")
    assert "系统时钟" in run("time")
