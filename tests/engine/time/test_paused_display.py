"""A paused deadline is shown as paused with the time left, never with the due time it had
before the pause (which no longer holds): in the case view (the API's ``timers``), in
``Engine.timers_preview`` (``qingliu case timers``, its JSON and its text)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings
from tests.conftest import Run
from tests.timekit import WORKFLOWS, end_of, sh, timer_engine

BUREAU = Actor("审批科", "bureau")


def _paused_case(settings: Settings, clock: FakeClock) -> tuple[Engine, int]:
    engine = timer_engine(settings, clock)
    case = engine.create_case("permit_limit", {}, BUREAU)
    engine.fire(case.id, "accept", BUREAU)  # Tuesday 2026-11-03: 20 working days
    clock.set(sh(2026, 11, 10, 15))
    engine.fire(case.id, "request_correction", BUREAU)  # paused on Tuesday 11-10
    return engine, case.id


def test_a_paused_deadline_shows_the_working_days_left_not_a_stale_due_time(
    settings: Settings,
) -> None:
    clock = FakeClock(sh(2026, 11, 3, 10))
    engine, case_id = _paused_case(settings, clock)
    # accepted 11-03: 11-04 .. 12-01 are the 20 working days; paused 11-10 (used): 11-11 ..
    # 12-01 left, 15 working days
    (shown,) = engine.get_case(case_id).to_json()["timers"]
    assert shown["status"] == "paused"
    assert shown["due_at"] is None
    assert shown["paused"] == {"remaining_working_days": 15, "remaining_seconds": None}

    clock.set(sh(2026, 11, 20, 9))  # ten days later, still correcting
    preview = engine.timers_preview(case_id, BUREAU)
    (pending,) = preview.to_json()["pending"]
    assert pending["due_at"] is None
    assert pending["status"] == "paused"
    assert pending["remaining_working_days"] == 15
    assert pending["remaining_seconds"] is None
    # if it resumed now (Friday 11-20): 15 working days from 11-23, ending with 12-11
    (if_resumed,) = [i for i in preview.if_armed_now if i.kind == "deadline"]
    assert if_resumed.due_at == end_of(2026, 12, 11)


def test_the_api_shows_the_pause(settings: Settings) -> None:
    clock = FakeClock(sh(2026, 11, 3, 10))
    engine, case_id = _paused_case(settings, clock)
    _, secret = create_token(engine, "审批科", "admin")
    with TestClient(create_app(engine)) as client:
        answer = client.get(
            f"/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {secret}"}
        )
    assert answer.status_code == 200, answer.text
    (timer,) = answer.json()["timers"]
    assert (timer["status"], timer["due_at"]) == ("paused", None)
    assert timer["paused"]["remaining_working_days"] == 15


def test_the_cli_shows_the_pause(run: Run) -> None:
    run("load", str(WORKFLOWS))
    created = json.loads(run("case", "create", "permit_limit", "--data", "{}"))
    cid = str(created["id"])
    run("case", "fire", cid, "accept")
    run("case", "fire", cid, "request_correction")
    text = run("case", "timers", cid)
    line = next(x for x in text.splitlines() if "review_limit" in x and "paused" in x)
    assert "working day(s) left" in line
    assert " due " not in line
    (timer,) = json.loads(run("case", "show", cid))["timers"]
    assert timer["due_at"] is None
    assert timer["paused"]["remaining_working_days"] >= 1
