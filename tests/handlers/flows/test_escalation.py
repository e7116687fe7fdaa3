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


def test_an_unresolved_rung_climbs_one_rung_per_period(ladder: Engine, clock: FakeClock) -> None:
    case_id = _open(ladder)
    view = ladder.get_case(case_id)
    assert view.state == "notice"
    assert view.state_title == "通报"
    assert view.data["county"] == "yanggu"
    assert due_times(view)["climb"] == at(2024, 4, 1, 1)  # one month after 2024-03-01 09:00

    pass_time(ladder, clock, at(2024, 3, 31))
    assert ladder.get_case(case_id).state == "notice"
    pass_time(ladder, clock, at(2024, 4, 1))
    assert ladder.get_case(case_id).state == "warning"
    pass_time(ladder, clock, at(2024, 5, 1))
    view = ladder.get_case(case_id)
    assert view.state == "interview_proposed"
    assert view.data["rung_title"] == "约谈"
    assert view.timers == []  # the interview is the city's to hold: no timer climbs it

    for trigger, payload in (
        ("approve_interview", {}),
        ("hold_interview", {"interviewees": ["阳谷县副县长"], "held_on": "2024-05-10"}),
        ("issue_minutes", {"minutes": "限期整改黄河流域排污口"}),
    ):
        view = ladder.fire(
            case_id, trigger, CITY_GOV if trigger == "approve_interview" else CITY, payload
        )
    assert view.state == "report_pending"
    assert view.data["report_due"] == "2024-05-31"

    pass_time(ladder, clock, at(2024, 5, 31))  # no written report within 30 days
    view = ladder.get_case(case_id)
    assert view.state == "listed"
    assert view.data["rung"] == "supervised_listing"
    assert view.data["listed_at"] == "2024-05-31"
    assert view.data["listing_deadline"] == "2024-11-30"
    assert _rungs(ladder, case_id) == ["notice", "warning", "interview", "supervised_listing"]
    climbs = [e for e in ladder.history(case_id) if e.trigger == "climb"]
    assert [e.role for e in climbs] == ["system", "system", "system"]
    assert climbs[0].payload["reason"] == "通报后逾期未整改"


def test_a_long_outage_still_climbs_one_rung_per_period(ladder: Engine, clock: FakeClock) -> None:
    case_id = _open(ladder)
    pass_time(ladder, clock, at(2024, 5, 15))  # two periods passed at once
    view = ladder.get_case(case_id)
    assert view.state == "interview_proposed"
    assert [step["at"][:10] for step in view.data["ladder"]] == [
        "2024-03-01",
        "2024-05-15",
        "2024-05-15",
    ]


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
        ladder.fire(case_id, "climb", CITY)  # climbing by time is the system's
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
