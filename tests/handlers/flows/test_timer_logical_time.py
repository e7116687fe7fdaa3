"""The logical time of a firing: a timer fired late does its work as of its due time. A 30-day
scheduler outage caught up in one sweep leaves every case exactly as daily ticking does: the
same cases (escalation ladders opened by overdue rectifications), states, data dates
(``ladder[].at``, ``proposal.proposed_at``, ``listing_overdue_at``) and timer due times; only
the history's wall-clock ``at`` and its late marker say when the sweep really ran. Working days
are counted here with ``chinese_calendar.is_workday`` alone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings, build_engine
from engine.time.sweep import sweep
from handlers.flows.escalation import escalation_data, escalation_subject
from tests.conftest import ROOT
from tests.handlers.flows.support import outfall, seed_ledger

SH = ZoneInfo("Asia/Shanghai")
CITY = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
START = datetime(2026, 9, 1, 9, tzinfo=SH)
OUTAGE_FROM = datetime(2026, 9, 3, 10, tzinfo=SH)  # the last sweep before the outage
BACK = datetime(2026, 10, 3, 10, tzinfo=SH)  # 30 days later
END = datetime(2026, 11, 20, 10, tzinfo=SH)
# county, outfall code, rectification deadline (given)
RECTIFICATIONS = [
    ("donge", "371524-0901", "2026-09-01"),
    ("yanggu", "371521-0902", "2026-09-03"),
    ("shenxian", "371522-0903", "2026-09-16"),
    ("gaotang", "371526-0904", "2026-09-29"),
]


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=SH)


def _working_days_after(day: date, n: int) -> date:
    """The n-th working day after ``day`` (chinese_calendar alone)."""
    seen = 0
    while seen < n:
        day += timedelta(days=1)
        seen += bool(chinese_calendar.is_workday(day))
    return day


def _engine(settings: Settings, url: str, clock: FakeClock) -> Engine:
    engine = build_engine(
        Settings(
            config_dir=settings.config_dir,
            database_url=url,
            handlers=settings.handlers,
            workflows=settings.workflows,
            reference=settings.reference,
        ),
        clock=clock,
    )
    engine.load([ROOT / "workflows" / f"{n}.yaml" for n in ("rectification", "escalation")])
    return engine


def _open_all(engine: Engine) -> None:
    """The same cases, opened at START in the same order, in either database."""
    for county, code, deadline in RECTIFICATIONS:
        seed_ledger(engine, outfall(code, county=county))
        body = {"outfall_code": code, "county": county, "sub_type": "industrial_enterprise"}
        body.update(river="huanghe", deadline=deadline)
        eeb = Actor(f"{county}分局", "county_eeb", county)
        engine.create_case("rectification", body, eeb, subject=code)
    # a ladder the city lists at once for one month: the listing ends during the outage
    listed = _ladder(engine, "chiping")
    engine.fire(
        listed,
        "escalate",
        CITY,
        {"escalate_to": "supervised_listing", "decision": "聊环督〔2026〕1号", "listing_months": 1},
    )
    # an interview whose 30-day written-report period runs out during the outage
    interviewed = _ladder(engine, "linqing")
    engine.fire(interviewed, "escalate", CITY, {"escalate_to": "interview", "decision": "约谈"})
    engine.fire(interviewed, "approve_interview", CITY)
    engine.fire(interviewed, "hold_interview", CITY, {"held_on": "2026-09-01"})
    engine.fire(interviewed, "issue_minutes", CITY, {"minutes": "纪要〔2026〕1号"})


def _ladder(engine: Engine, target: str) -> int:
    data = escalation_data(engine.reference, target, "rectification", "整治滞后")
    subject = escalation_subject(target, "rectification")
    return engine.create_case("escalation", data, CITY, subject=subject).id


def _tick_daily(engine: Engine, clock: FakeClock, until: datetime) -> None:
    while clock.now() < until:
        clock.set(min(clock.now() + timedelta(days=1), until))
        sweep(engine)


def _picture(engine: Engine) -> list[dict[str, Any]]:
    """Everything that must not depend on when the scheduler ran, case by case."""
    out = []
    for view in sorted(engine.list_cases(), key=lambda v: v.id):
        history = [
            (
                e.kind,
                e.trigger,
                e.to_state,
                e.due_at or e.at,  # the logical time of the row
                {k: v for k, v in e.payload.items() if k != "_timer"},
            )
            for e in engine.history(view.id)
        ]
        out.append(
            {
                "id": view.id,
                "workflow": view.case.workflow,
                "subject": view.case.subject,
                "state": view.state,
                "data": view.data,
                "created_at": view.case.created_at,
                "timers": [(t.name, t.status, t.due_at) for t in view.timers],
                "history": history,
            }
        )
    return out


def test_a_30_day_outage_caught_up_at_once_matches_daily_ticking(
    settings: Settings, database_url: str, second_database_url: str
) -> None:
    daily_clock, late_clock = FakeClock(START), FakeClock(START)
    daily = _engine(settings, database_url, daily_clock)
    late = _engine(settings, second_database_url, late_clock)
    _open_all(daily)
    _open_all(late)

    _tick_daily(daily, daily_clock, END)

    _tick_daily(late, late_clock, OUTAGE_FROM)
    late_clock.set(BACK)
    caught_up = sweep(late)
    assert len(caught_up.firings) >= 6
    _tick_daily(late, late_clock, END)

    expected = _picture(daily)
    assert _picture(late) == expected

    escalations = {c["data"]["target"]: c for c in expected if c["workflow"] == "escalation"}
    # each overdue rectification opened its county's ladder at the end of its deadline day,
    # and the ladder's 20 working days count from the next day
    for county, _, deadline in RECTIFICATIONS:
        ladder = escalations[county]
        opened = _end_of(date.fromisoformat(deadline))
        assert ladder["created_at"] == opened
        assert datetime.fromisoformat(ladder["data"]["ladder"][0]["at"]) == opened
        propose_due = _end_of(_working_days_after(date.fromisoformat(deadline), 20))
        if ladder["state"] == "warning_proposed":
            proposed = ladder["data"]["proposal"]["proposed_at"]
            assert datetime.fromisoformat(proposed) == propose_due
        else:
            assert ladder["timers"] == [("notice_0_propose", "pending", propose_due)]
    assert escalations["donge"]["state"] == "warning_proposed"  # proposed during the outage
    # the listing ended with 2026-10-01: flagged then, not at the sweep
    listed = escalations["chiping"]["data"]
    assert listed["listing_deadline"] == "2026-10-01"
    assert datetime.fromisoformat(listed["listing_overdue_at"]) == _end_of(date(2026, 10, 1))
    # the written report was due 30 days after the minutes: proposed on time
    report = escalations["linqing"]["data"]
    assert datetime.fromisoformat(report["proposal"]["proposed_at"]) == START + timedelta(days=30)

    # the history stays honest: the catch-up rows say when they really fired, and that it
    # was late
    opened_late = [
        e
        for c in _picture(late)
        if c["workflow"] == "escalation"
        for e in late.history(c["id"])
        if e.kind == "created" and e.due_at is not None
    ]
    in_outage = [e for e in opened_late if OUTAGE_FROM < e.due_at <= BACK]
    assert len(in_outage) == 3  # yanggu, shenxian and gaotang
    assert all(e.at == BACK for e in in_outage)
    fired = [e for c in _picture(late) for e in late.history(c["id"]) if "_timer" in e.payload]
    during = [e for e in fired if e.at == BACK]
    assert during
    assert all(e.payload["_timer"]["late"] for e in during)
    assert all(datetime.fromisoformat(e.payload["_timer"]["fired_at"]) == BACK for e in during)
    for engine in (daily, late):
        assert engine.verify_audit() == []
        for case in engine.list_cases():
            row, replayed = engine.replay(case.id)
            assert replayed.matches(row)
    late.store.dispose()
