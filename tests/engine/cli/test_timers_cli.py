"""The time commands as an operator runs them (the installed `qingliu`), and the APScheduler
wiring of the sweep."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings
from engine.store.repository import Store
from engine.time.scheduler import (
    JOB_ID,
    build_scheduler,
    job_options,
    run_sweep,
    start_background_sweeper,
)
from engine.time.sweep import SweepResult
from tests.conftest import START, Run
from tests.timekit import WORKFLOWS, timer_engine


def test_tick_case_timers_and_calendar_commands(run: Run) -> None:
    assert "ladder v1 (new version)" in run("load", str(WORKFLOWS))
    created = json.loads(run("case", "create", "ladder", "--data", '{"deadline": "2030-01-31"}'))
    case_id = str(created["id"])

    preview = json.loads(run("case", "timers", case_id, "--json"))
    assert preview["state"] == "rectifying"
    pending = {t["name"]: t for t in preview["pending"]}
    assert set(pending) == {"daily_reminder", "rectifying_0_overdue"}
    assert pending["rectifying_0_overdue"]["due_at"] == "2030-01-31T16:00:00+00:00"
    assert {i["name"] for i in preview["if_armed_now"]} == set(pending)
    text = run("case", "timers", case_id)
    assert "daily_reminder" in text
    assert "if armed now:" in text

    reminder_due = datetime.fromisoformat(pending["daily_reminder"]["due_at"])
    out = run("tick", "--now", (reminder_due + timedelta(minutes=1)).isoformat())
    assert "fired: case 1" in out
    assert "daily_reminder" in out
    assert "1 fired, 0 skipped" in out

    result = json.loads(run("tick", "--now", "2030-02-01T09:00", "--json"))
    assert [f["trigger"] for f in result["firings"]] == ["remind", "overdue"]
    assert result["firings"][1]["state"] == "notice"
    assert result["firings"][1]["late"] is True
    shown = json.loads(run("case", "show", case_id))
    assert shown["state"] == "notice"

    check = run("calendar", "check")
    assert "time zone: Asia/Shanghai" in check
    assert "covered years: 2004-2026" in check
    # the notice rung's 5 working days fall in 2030, which the calendar does not cover yet
    assert "provisional timers: 1" in check
    # (from the end of 01-31: 02-01, 02-04 .. 02-07)
    assert "notice_0_escalate pending due 2030-02-07T16:00:00+00:00" in check
    assert json.loads(run("calendar", "check", "--json"))["covered_years"][0] == 2004
    assert "recomputed 0 timer(s)" in run("calendar", "recompute")


def test_tick_refuses_a_moment_before_the_last_history_row_unless_forced(run: Run) -> None:
    run("load", str(WORKFLOWS))
    created = json.loads(run("case", "create", "ladder", "--data", '{"deadline": "2030-01-31"}'))
    case_id = str(created["id"])
    assert "overdue" in run("tick", "--now", "2030-02-01T09:00")
    before = json.loads(run("case", "history", case_id, "--json"))

    out = run("tick", "--now", "2030-01-15T09:00", code=6)
    assert "2030-01-15T01:00:00+00:00 is before the last history row" in out
    assert "(2030-02-01T01:00:00+00:00)" in out
    assert "--force" in out
    assert json.loads(run("case", "history", case_id, "--json")) == before  # nothing fired
    # the same moment is not in the past: a second sweep then is fine
    assert "0 fired" in run("tick", "--now", "2030-02-01T09:00")

    forced = run("tick", "--now", "2030-01-15T09:00", "--force")
    assert "warning: --force" in forced
    assert "the history will run backwards" in forced
    assert "tick at 2030-01-15T01:00:00+00:00" in forced


def test_bad_time_command_input_is_a_clear_error(run: Run) -> None:
    out = run("tick", "--now", "next tuesday", code=2)
    assert "--now" in out
    assert "not an ISO date" in out
    assert "at least 1 second" in run("scheduler", "--interval", "0", code=2)
    assert "case 99 not found" in run("case", "timers", "99", code=3)


def test_sweeper_job_settings(settings: Settings, clock: FakeClock) -> None:
    engine = timer_engine(settings, clock)
    assert job_options(30) == {"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
    with pytest.raises(ValueError, match="at least 1 second"):
        job_options(0)
    blocking = build_scheduler(engine, 15, blocking=True)
    assert isinstance(blocking, BlockingScheduler)
    background = build_scheduler(engine, 15)
    assert isinstance(background, BackgroundScheduler)
    job = background.get_job(JOB_ID)
    assert job is not None
    assert job.coalesce is True
    assert job.max_instances == 1
    assert job.misfire_grace_time == 15
    assert job.trigger.interval == timedelta(seconds=15)
    assert job.func is run_sweep


def test_the_scheduled_job_sweeps_and_reports(settings: Settings, clock: FakeClock) -> None:
    engine = timer_engine(settings, clock)
    case = engine.create_case("ladder", {"deadline": "2030-01-31"}, Actor("t", "admin"))
    clock.set(START + timedelta(days=1, minutes=1))
    seen: list[SweepResult] = []
    result = run_sweep(engine, seen.append)
    assert result is not None
    assert seen == [result]
    assert [f.case_id for f in result.firings] == [case.id]


def test_a_failing_sweep_is_logged_not_raised(
    tmp_path: Path, settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    working = timer_engine(settings, clock)
    unreachable = Store(f"sqlite:///{tmp_path / 'no-such-folder' / 'q.db'}")
    engine = Engine(unreachable, working.catalog.registry, clock=clock)
    with caplog.at_level(logging.ERROR):
        assert run_sweep(engine) is None
    assert "scheduled sweep failed" in caplog.text
    unreachable.dispose()


def test_background_sweeper_starts_and_stops(settings: Settings, clock: FakeClock) -> None:
    engine = timer_engine(settings, clock)
    stop = start_background_sweeper(engine, interval_seconds=3600)
    stop()
    stop()  # harmless twice
