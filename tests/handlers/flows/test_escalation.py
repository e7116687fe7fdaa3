"""The 督办 ladder: notice → warning → interview → supervised listing → lifted, climbing on
timers (driven by the scheduler's sweep on a fake clock) and by the city's decision."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.errors import (
    CaseNotFound,
    DuplicateOpenCase,
    Forbidden,
    GuardFailed,
    InputRefused,
    InvalidInput,
    TriggerNotAllowed,
)
from engine.handlers import Actor
from engine.runtime import Engine
from handlers.flows.escalation import escalation_data, escalation_subject
from tests.conftest import ROOT
from tests.handlers.flows.support import due_times, pass_time

CITY = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
CITY_GOV = Actor("聊城市人民政府", "city_gov", "liaocheng")
YANGGU = Actor("阳谷县人民政府", "county_gov", "yanggu")
SHENXIAN = Actor("莘县人民政府", "county_gov", "shenxian")


def at(year: int, month: int, day: int, hour: int = 2) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def ladder(engine: Engine) -> Engine:
    engine.load([ROOT / "workflows"])
    return engine


def _open(engine: Engine, target: str = "yanggu", topic: str = "rectification") -> int:
    data = escalation_data(engine.reference, target, topic, "黄河流域排污口整治滞后")
    return engine.create_case(
        "escalation", data, CITY, subject=escalation_subject(target, topic)
    ).id


def _rungs(engine: Engine, case_id: int) -> list[str]:
    return [step["rung"] for step in engine.get_case(case_id).data["ladder"]]


def test_the_schedule_proposes_each_rung_and_the_city_confirms_it(
    ladder: Engine, clock: FakeClock
) -> None:
    """视情 (四(三)): a rung left unanswered for its response period (20 working days from when
    it was served) makes the schedule propose the next rung; the case climbs only when a city
    official confirms, and the next rung's period counts from that confirmation."""
    case_id = _open(ladder)
    view = ladder.get_case(case_id)
    assert (view.state, view.state_title) == ("notice", "通报")
    assert view.data["county"] == "yanggu"
    # served 2024-03-01 (Fri) 09:00; 20 working days: 03-04 .. 03-29 (no holiday)
    assert due_times(view)["propose"] == at(2024, 3, 29, 16)

    pass_time(ladder, clock, at(2024, 3, 29))
    assert ladder.get_case(case_id).state == "notice"
    pass_time(ladder, clock, at(2024, 3, 30))
    view = ladder.get_case(case_id)
    assert view.state == "warning_proposed"
    assert view.state_title == "拟升级为预警（待市生态环境局决定）"
    assert view.data["rung"] == "notice"  # not climbed by the schedule
    assert view.data["proposal"]["rung"] == "warning"
    assert view.data["proposal"]["reason"] == "通报后逾期未整改"
    assert view.timers == []  # nothing climbs on its own

    with pytest.raises(Forbidden):  # the county does not decide its own ladder
        ladder.fire(case_id, "confirm_rung", YANGGU, {"decision": "同意"})
    with pytest.raises(InvalidInput, match="'decision' is a required property"):
        ladder.fire(case_id, "confirm_rung", CITY, {})
    clock.set(at(2024, 4, 2))
    view = ladder.fire(case_id, "confirm_rung", CITY, {"decision": "聊环督〔2024〕5号：予以预警"})
    assert (view.state, view.data["rung"]) == ("warning", "warning")
    assert "proposal" not in view.data
    (decided,) = view.data["proposals"]
    assert decided["rung"] == "warning"
    assert decided["outcome"] == "confirmed"
    assert decided["decision"] == "聊环督〔2024〕5号：予以预警"
    assert decided["decided_by"] == CITY.name
    assert view.data["ladder"][-1]["at"] == at(2024, 4, 2).isoformat()  # served on confirmation
    # 20 working days from 04-02: 04-03, 04-07 (Sun, worked), 04-08 .. 04-30 (Qingming 04-04..06)
    assert due_times(view)["propose"] == at(2024, 4, 30, 16)

    pass_time(ladder, clock, at(2024, 5, 1))
    view = ladder.get_case(case_id)
    assert view.state == "interview_proposed"
    assert view.data["rung"] == "warning"  # the interview is served when approved
    view = ladder.fire(case_id, "approve_interview", CITY_GOV)
    assert (view.state, view.data["rung"]) == ("interview_approved", "interview")
    assert view.data["proposals"][-1]["outcome"] == "confirmed"
    ladder.fire(case_id, "hold_interview", CITY, {"interviewees": ["阳谷县副县长"]})
    clock.set(at(2024, 5, 10))
    view = ladder.fire(case_id, "issue_minutes", CITY, {"minutes": "限期整改黄河流域排污口"})
    assert view.data["report_due"] == "2024-06-09"

    pass_time(ladder, clock, at(2024, 6, 10))  # no written report within 30 days
    view = ladder.get_case(case_id)
    assert view.state == "listing_proposed"
    assert view.data["proposal"]["rung"] == "supervised_listing"
    view = ladder.fire(case_id, "confirm_rung", CITY_GOV, {"decision": "挂牌督办"})
    assert view.state == "listed"
    assert view.data["listed_at"] == "2024-06-10"
    assert view.data["listing_deadline"] == "2024-12-10"
    assert _rungs(ladder, case_id) == ["notice", "warning", "interview", "supervised_listing"]
    proposed = [e for e in ladder.history(case_id) if e.trigger == "propose"]
    assert [e.role for e in proposed] == ["system", "system", "system"]


def test_the_city_may_skip_a_proposed_rung_with_a_reason(ladder: Engine, clock: FakeClock) -> None:
    case_id = _open(ladder)
    pass_time(ladder, clock, at(2024, 3, 30))
    with pytest.raises(InvalidInput, match="'reason' is a required property"):
        ladder.fire(case_id, "skip_rung", CITY, {})
    clock.set(at(2024, 4, 1))
    view = ladder.fire(case_id, "skip_rung", CITY, {"reason": "已完成8个排污口整治，暂不预警"})
    assert (view.state, view.data["rung"]) == ("notice", "notice")
    (skipped,) = view.data["proposals"]
    assert (skipped["rung"], skipped["outcome"]) == ("warning", "skipped")
    assert skipped["reason"] == "已完成8个排污口整治，暂不预警"
    assert _rungs(ladder, case_id) == ["notice"]  # nothing climbed
    # a new response period from the decision: 20 working days from 04-01 (Mon)
    assert due_times(view)["propose"] == at(2024, 4, 29, 16)

    pass_time(ladder, clock, at(2024, 4, 30))
    ladder.fire(case_id, "confirm_rung", CITY, {"decision": "预警"})
    pass_time(ladder, clock, at(2024, 6, 1))
    assert ladder.get_case(case_id).state == "interview_proposed"
    view = ladder.fire(case_id, "skip_rung", CITY, {"reason": "整改进度明显加快"})
    assert (view.state, view.data["rung"]) == ("warning", "warning")
    # a rung the city itself decided has no proposal to skip
    ladder.fire(case_id, "escalate", CITY, {"escalate_to": "interview", "decision": "约谈"})
    with pytest.raises(TriggerNotAllowed):
        ladder.fire(case_id, "skip_rung", CITY, {"reason": "x"})


def test_after_a_scheduler_outage_the_rungs_do_not_collapse(
    ladder: Engine, clock: FakeClock
) -> None:
    """Two response periods pass while the scheduler is down: the catch-up proposes one rung,
    and nothing more happens until the city confirms it; the next rung counts from then."""
    case_id = _open(ladder)
    pass_time(ladder, clock, at(2024, 5, 15))
    view = ladder.get_case(case_id)
    assert view.state == "warning_proposed"
    assert [step["rung"] for step in view.data["ladder"]] == ["notice"]
    propose = next(e for e in ladder.history(case_id) if e.trigger == "propose")
    assert propose.due_at == at(2024, 3, 29, 16)  # the logical due time is kept in the history
    pass_time(ladder, clock, at(2024, 5, 16))
    assert ladder.get_case(case_id).state == "warning_proposed"  # still waiting for the city
    view = ladder.fire(case_id, "confirm_rung", CITY, {"decision": "预警"})
    assert view.state == "warning"
    assert [step["at"][:10] for step in view.data["ladder"]] == ["2024-03-01", "2024-05-16"]
    assert due_times(view)["propose"] == at(2024, 6, 14, 16)  # 20 working days from 05-16


def test_the_city_may_skip_rungs_by_decision(ladder: Engine) -> None:
    case_id = _open(ladder)
    decision = {
        "escalate_to": "supervised_listing",
        "decision": "聊环督〔2024〕3号：问题突出，直接挂牌督办",
        "listing_months": 4,
    }
    with pytest.raises(Forbidden):
        ladder.fire(case_id, "escalate", YANGGU, decision)  # not the county's call
    with pytest.raises(Forbidden):
        ladder.fire(case_id, "propose", CITY)  # proposing by time is the system's
    view = ladder.fire(case_id, "escalate", CITY_GOV, decision)
    assert view.state == "listed"
    assert _rungs(ladder, case_id) == ["notice", "supervised_listing"]
    assert view.data["decisions"][0]["from_state"] == "notice"
    assert view.data["decisions"][0]["to"] == "supervised_listing"
    assert view.data["listing_deadline"] == "2024-07-01"  # four months as decided


def test_escalating_to_the_current_or_a_lower_rung_is_refused(
    ladder: Engine, clock: FakeClock
) -> None:
    case_id = _open(ladder)
    ladder.fire(case_id, "escalate", CITY, {"escalate_to": "warning", "decision": "视情预警"})
    with pytest.raises(InvalidInput, match="fits none of the ways 'escalate' goes from 'warning'"):
        ladder.fire(case_id, "escalate", CITY, {"escalate_to": "warning", "decision": "再次预警"})
    view = ladder.fire(case_id, "escalate", CITY, {"escalate_to": "interview", "decision": "约谈"})
    assert view.state == "interview_proposed"


def test_only_the_target_answers_and_the_city_resolves(ladder: Engine) -> None:
    case_id = _open(ladder)
    with pytest.raises(CaseNotFound):  # another county does not even see it
        ladder.fire(case_id, "respond", SHENXIAN, {"response": "不是我县"})
    housing = Actor("聊城市住建局", "housing_city", "liaocheng")
    with pytest.raises(GuardFailed, match="actor_is_target"):
        ladder.fire(case_id, "respond", housing, {"response": "不是本部门"})
    ladder.fire(case_id, "respond", YANGGU, {"response": "已完成12个排污口整治"})
    with pytest.raises(Forbidden):
        ladder.fire(case_id, "resolve", YANGGU)
    view = ladder.fire(case_id, "resolve", CITY)
    assert view.state == "resolved"
    assert view.final
    assert view.data["rung"] == "closed"
    assert view.data["response"] == "已完成12个排污口整治"


def test_interview_report_verified_or_rejected(ladder: Engine) -> None:
    first = _open(ladder, "yanggu", "rectification")
    second = _open(ladder, "shenxian", "rectification")
    for case_id, actor in ((first, YANGGU), (second, SHENXIAN)):
        ladder.fire(case_id, "escalate", CITY, {"escalate_to": "interview", "decision": "约谈"})
        ladder.fire(case_id, "approve_interview", CITY_GOV)
        ladder.fire(case_id, "hold_interview", CITY)
        ladder.fire(case_id, "issue_minutes", CITY, {"minutes": "纪要"})
        ladder.fire(case_id, "submit_report", actor, {"written_report": "整改报告"})
    assert ladder.fire(first, "accept_report", CITY).state == "resolved"
    assert ladder.fire(second, "reject_report", CITY).state == "listed"


def _listed(engine: Engine) -> int:
    case_id = _open(engine)
    engine.fire(
        case_id, "escalate", CITY, {"escalate_to": "supervised_listing", "decision": "挂牌"}
    )
    engine.fire(case_id, "start_rectifying", YANGGU)
    return case_id


def test_listing_extensions_move_the_deadline_up_to_a_year(
    ladder: Engine, clock: FakeClock
) -> None:
    case_id = _listed(ladder)
    view = ladder.get_case(case_id)
    assert view.data["listing_deadline"] == "2024-09-01"
    ladder.fire(case_id, "request_extension", YANGGU, {"months": 3, "reason": "汛期无法施工"})
    view = ladder.fire(case_id, "grant_extension", CITY, {"months": 3, "reason": "同意延期"})
    assert view.state == "listing_rectifying"
    assert view.data["listing_deadline"] == "2024-12-01"
    assert view.data["listing_months"] == 9
    assert due_times(view)["listing_overdue"] == at(2024, 12, 1, 16)  # end of that local day
    with pytest.raises(InputRefused, match=r"\$\.months: a listing runs at most 12 months; 13"):
        ladder.fire(case_id, "grant_extension", CITY, {"months": 4, "reason": "再延"})
    pass_time(ladder, clock, at(2024, 12, 2))
    view = ladder.get_case(case_id)
    assert view.state == "listing_rectifying"
    assert view.data["listing_overdue"] is True


def test_listing_is_lifted_only_after_verification(ladder: Engine) -> None:
    case_id = _listed(ladder)
    ladder.fire(case_id, "apply_acceptance", YANGGU)
    assert ladder.fire(case_id, "reject_acceptance", CITY).state == "listing_rectifying"
    assert ladder.fire(case_id, "apply_acceptance", YANGGU).state == "pre_acceptance"
    view = ladder.fire(case_id, "lift", CITY)
    assert view.state == "lifted"
    assert view.state_title == "已摘牌"
    assert view.final
    assert view.data["outcome"] == "lifted"
    assert _rungs(ladder, case_id) == ["notice", "supervised_listing", "closed"]


def test_a_department_can_be_the_target(ladder: Engine) -> None:
    case_id = _open(ladder, "urban_mgmt_city", "rain_outfalls")
    view = ladder.get_case(case_id)
    assert view.data["county"] == "liaocheng"  # a city department belongs to the city
    urban = Actor("聊城市城管局", "urban_mgmt_city", "liaocheng")
    water = Actor("聊城市水利局", "water_city", "liaocheng")
    with pytest.raises(GuardFailed):
        ladder.fire(case_id, "respond", water, {"response": "x"})
    ladder.fire(case_id, "respond", urban, {"response": "雨水口晴天排水已排查"})


def test_one_open_ladder_per_target_and_topic(ladder: Engine) -> None:
    first = _open(ladder)
    with pytest.raises(DuplicateOpenCase) as caught:
        _open(ladder)
    assert caught.value.existing_id == first
    other_topic = _open(ladder, "yanggu", "effectiveness_check")
    assert other_topic != first
    ladder.fire(first, "resolve", CITY)
    assert _open(ladder) not in (first, other_topic)  # closed: a new ladder may start


def test_withdrawal_by_the_city_government(ladder: Engine) -> None:
    case_id = _open(ladder)
    with pytest.raises(Forbidden):
        ladder.fire(case_id, "withdraw", CITY, {"decision": "误发"})
    view: Any = ladder.fire(case_id, "withdraw", CITY_GOV, {"decision": "聊政督〔2024〕1号撤销"})
    assert view.state == "withdrawn"
    assert view.timers == []
