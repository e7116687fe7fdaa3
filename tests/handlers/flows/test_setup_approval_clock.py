"""Issue 15 item 6: the statutory clock of the approval (《行政许可法》, working days per
art. 82): a completeness notice within 5 working days or the application is deemed accepted on
receipt (art. 32); a 10-working-day extension the head of the office approves (art. 42); expert
review and hearings outside the 20 working days (art. 45)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.errors import Forbidden, GuardFailed
from engine.handlers import Actor
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.handlers.flows.support import due_times, pass_time, setup_application

APPLICANT = Actor("东阿县某化工公司", "applicant", "donge")
CITY_APPROVAL = Actor("聊城市行政审批服务局", "approval_bureau", "liaocheng")
CITY_HEAD = Actor("聊城市行政审批服务局局长", "approval_head", "liaocheng")
COUNTY_HEAD = Actor("东阿县行政审批服务局局长", "approval_head", "donge")


@pytest.fixture
def flows(engine: Engine) -> Engine:
    engine.load([ROOT / "workflows" / "setup_approval.yaml"])
    return engine


def _apply(engine: Engine, code: str = "371524-0300", **data: Any) -> int:
    return setup_application(engine, code, APPLICANT, **data)


def _end_of_day(month: int, day: int) -> datetime:
    return datetime(2024, month, day, 16, 0, tzinfo=UTC)  # 24:00 in Shanghai


def _moment(month: int, day: int) -> datetime:
    return datetime(2024, month, day, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def test_silence_for_five_working_days_is_acceptance_from_receipt(
    flows: Engine, clock: FakeClock
) -> None:
    case_id = _apply(flows)  # received Friday 2024-03-01
    assert due_times(flows.get_case(case_id))["deemed_accept"] == _end_of_day(3, 8)
    pass_time(flows, clock, _moment(3, 8))
    assert flows.get_case(case_id).state == "submitted"
    pass_time(flows, clock, _moment(3, 9))
    view = flows.get_case(case_id)
    assert view.state == "reviewing"
    assert view.data["authority"] == "city"
    assert view.data["limit_counted_from"] == "receipt"
    assert view.data["acceptance"] == {"deemed": True, "accepted_on": "2024-03-01"}
    # 自收到申请材料之日起即为受理: the 20 working days run from receipt, not from day 5
    assert due_times(view)["overdue_from_receipt"] == _end_of_day(3, 29)
    pass_time(flows, clock, _moment(3, 30))
    view = flows.get_case(case_id)
    assert view.data["overdue"] is True
    assert view.data["overdue_limit"] == "收到申请材料之日起二十个工作日"


def test_a_timely_completeness_notice_stops_the_deemed_acceptance(
    flows: Engine, clock: FakeClock
) -> None:
    case_id = _apply(flows)
    clock.set(_moment(3, 6))
    notice = {"missing_items": ["入河排污口设置论证报告"]}
    view = flows.fire(case_id, "notify_incomplete", CITY_APPROVAL, notice)
    assert view.state == "completing"
    assert view.data["completeness_notice"]["missing_items"] == ["入河排污口设置论证报告"]
    pass_time(flows, clock, _moment(3, 20))
    assert flows.get_case(case_id).state == "completing"  # no acceptance while incomplete
    view = flows.fire(case_id, "complete_materials", APPLICANT)
    assert view.data["received_on"] == "2024-03-20"
    view = flows.fire(case_id, "accept", CITY_APPROVAL)
    assert view.data["limit_counted_from"] == "acceptance"
    assert view.data["acceptance"] == {"deemed": False, "accepted_on": "2024-03-20"}
    assert due_times(view)["overdue"] == _end_of_day(4, 18)  # 20 working days, 清明 off


def test_the_head_of_the_office_extends_the_review_by_ten_working_days(
    flows: Engine, clock: FakeClock
) -> None:
    case_id = _apply(flows)
    flows.fire(case_id, "accept", CITY_APPROVAL)  # Friday 2024-03-01
    reason = {"reason": "需现场核查排污口位置"}
    with pytest.raises(Forbidden):
        flows.fire(case_id, "extend_review", CITY_APPROVAL, reason)
    with pytest.raises(GuardFailed, match="actor_heads_the_authority"):
        flows.fire(case_id, "extend_review", COUNTY_HEAD, reason)
    clock.set(_moment(3, 25))
    view = flows.fire(case_id, "extend_review", CITY_HEAD, reason)
    assert view.state == "reviewing"
    assert view.data["review_extension"] == {
        "by": "聊城市行政审批服务局局长",
        "on": "2024-03-25",
        "reason": "需现场核查排污口位置",
    }
    assert due_times(view)["overdue_extended"] == _end_of_day(4, 15)
    pass_time(flows, clock, _moment(4, 15))
    assert "overdue" not in flows.get_case(case_id).data  # day 20 passed, extended
    with pytest.raises(GuardFailed):
        flows.fire(case_id, "extend_review", CITY_HEAD, reason)  # once only
    pass_time(flows, clock, _moment(4, 16))
    view = flows.get_case(case_id)
    assert view.data["overdue"] is True
    assert view.data["overdue_limit"] == "受理之日起三十个工作日（已延长）"


def test_no_extension_once_the_limit_has_passed(flows: Engine, clock: FakeClock) -> None:
    case_id = _apply(flows)
    flows.fire(case_id, "accept", CITY_APPROVAL)
    pass_time(flows, clock, _moment(3, 30))
    assert flows.get_case(case_id).data["overdue"] is True
    with pytest.raises(GuardFailed):
        flows.fire(case_id, "extend_review", CITY_HEAD, {"reason": "迟到的延期"})


@pytest.mark.parametrize(
    ("start", "finish"),
    [("start_expert_review", "finish_expert_review"), ("start_hearing", "finish_hearing")],
)
def test_expert_review_and_hearings_are_outside_the_twenty_days(
    flows: Engine, clock: FakeClock, start: str, finish: str
) -> None:
    case_id = _apply(flows)
    flows.fire(case_id, "accept", CITY_APPROVAL)  # Friday 2024-03-01
    clock.set(_moment(3, 15))  # 10 working days used
    view = flows.fire(case_id, start, CITY_APPROVAL, {"until": "2024-04-10", "reason": "论证"})
    (limit,) = [t for t in view.timers if t.trigger == "overdue"]
    assert (limit.status, limit.remaining_working_days) == ("paused", 10)
    assert view.data["excluded_periods"] == [
        {
            "kind": start.removeprefix("start_"),
            "from": "2024-03-15",
            "told_until": "2024-04-10",
            "reason": "论证",
        }
    ]
    pass_time(flows, clock, _moment(4, 12))
    assert "overdue" not in flows.get_case(case_id).data
    view = flows.fire(case_id, finish, CITY_APPROVAL)  # Friday 2024-04-12, 10 days remain
    assert view.data["excluded_periods"][0]["to"] == "2024-04-12"
    assert due_times(view)["overdue"] == _end_of_day(4, 26)
