"""River patrols (巡河, 三(四)5) and their notices: a river chief patrols a section of the
county, checks the outfalls on it, and each problem found becomes a notice to the outfall's
supervising department (四(二)), replied on time, or overdue and escalated to the department."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.errors import Forbidden, InvalidInput, Refused
from engine.handlers import Actor
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.handlers.flows.support import outfall, pass_time, seed_ledger

CHIEF = Actor("东阿县河长（黄河东阿县段）", "river_chief", "donge")
GRID = Actor("东阿县铜城街道网格员", "grid_inspector", "donge")
YANGGU_CHIEF = Actor("阳谷县河长", "river_chief", "yanggu")
DONGE_EEB = Actor("东阿县生态环境分局", "county_eeb", "donge")
URBAN = Actor("聊城市城管局", "urban_mgmt_city", "liaocheng")
WATER = Actor("聊城市水利局", "water_city", "liaocheng")
CITY = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
SYSTEM = Actor("scheduler", "system")
SECTION = "donge-huanghe"
DAY = "2024-03-01"
OK = {"signboard_ok": True, "no_dry_weather_flow": True, "no_abnormal_colour_odour": True}


@pytest.fixture
def river(engine: Engine) -> Engine:
    engine.load([ROOT / "workflows"])
    seed_ledger(
        engine,
        outfall("371524-0001"),
        outfall("371524-0002", sub_type="municipal_storm", responsible_party="东阿县城管局"),
        outfall("371524-0003", river="tuhaihe", basin="haihe"),
        outfall("371521-0001", county="yanggu"),
    )
    return engine


def _patrol(
    engine: Engine, outfalls: list[dict[str, Any]], actor: Actor = CHIEF, **extra: Any
) -> Any:
    data = {"section": SECTION, "county": "donge", "date": DAY, "route": "艾山—位山", **extra}
    data["outfalls"] = outfalls
    return engine.create_case(
        "river_patrol", data, actor, subject=f"{data['section']}:{data['date']}"
    )


def _failed_check(engine: Engine, view: Any, path: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        view()
    assert [e.json_path for e in raised.value.errors] == [path]


def test_a_patrol_checks_its_outfalls_against_the_sections_river_and_county(river: Engine) -> None:
    for code, index in (("371524-0003", 1), ("371521-0001", 1), ("371524-9999", 1)):
        entries = [
            {"outfall_code": "371524-0001", "checks": OK},
            {"outfall_code": code, "checks": OK},
        ]
        _failed_check(
            river, lambda e=entries: _patrol(river, e), f"$.outfalls[{index}].outfall_code"
        )
    # a section of another county, and a failed check without the problem described
    _failed_check(river, lambda: _patrol(river, [], section="yanggu-huanghe"), "$.section")
    entry = {"outfall_code": "371524-0001", "checks": {**OK, "signboard_ok": False}}
    _failed_check(river, lambda: _patrol(river, [entry]), "$.outfalls[0].problem")
    with pytest.raises(Forbidden, match="may not open cases in donge"):
        _patrol(river, [], actor=YANGGU_CHIEF)


def test_submitting_closes_the_patrol_and_notifies_each_problem_to_its_department(
    river: Engine,
) -> None:
    view = _patrol(river, [{"outfall_code": "371524-0001", "checks": OK}])
    river.fire(
        view.id,
        "record_outfall",
        GRID,
        {
            "outfall_code": "371524-0002",
            "checks": {**OK, "no_dry_weather_flow": False},
            "problem": "雨水排口晴天有污水流出",
        },
    )
    with pytest.raises(InvalidInput, match="outfall_code"):
        river.fire(view.id, "record_outfall", CHIEF, {"outfall_code": "371524-0003", "checks": OK})
    done = river.fire(view.id, "submit", CHIEF)
    assert done.state == "submitted"
    assert (done.data["outfalls_checked"], done.data["problems_found"]) == (2, 1)
    (notice_ref,) = done.data["notices"]
    # 市政雨洪排口 → 城管 (the first of 城管、住建 in the matrix)
    assert notice_ref["department"] == "urban_mgmt_city"
    notice = river.get_case(notice_ref["case_id"])
    assert notice.state == "notified"
    assert notice.case.subject == "371524-0002"
    assert notice.data["failed_checks"] == ["no_dry_weather_flow"]
    # 5 working days from Friday 2024-03-01: Mon 03-04 .. Fri 03-08
    assert notice.data["reply_due"] == "2024-03-08"


def _notice(engine: Engine, code: str = "371524-0002") -> Any:
    entry = {"outfall_code": code, "checks": {**OK, "signboard_ok": False}, "problem": "标识牌缺失"}
    patrol = engine.fire(_patrol(engine, [entry]).id, "submit", CHIEF)
    return engine.get_case(patrol.data["notices"][0]["case_id"])


def test_the_department_replies_on_time_refers_to_enforcement_and_the_chief_confirms(
    river: Engine, clock: FakeClock
) -> None:
    notice = _notice(river)
    with pytest.raises(Refused, match="市城管局"):
        river.fire(notice.id, "acknowledge", WATER)
    river.fire(notice.id, "acknowledge", URBAN)
    handled = river.fire(
        notice.id, "refer_to_enforcement", URBAN, {"violation_type": "dry_weather_discharge"}
    )
    (case_id,) = handled.data["enforcement_case_ids"]
    enforcement = river.get_case(case_id)
    assert (enforcement.data["source"], enforcement.data["enforcing_authority"]) == (
        "patrol",
        "drainage",
    )
    pass_time(river, clock, datetime(2024, 3, 6, 2, 0, tzinfo=UTC))
    replied = river.fire(notice.id, "reply", URBAN, {"measures": "已补设标识牌", "reply": "已整改"})
    assert replied.data["replied_on_time"] is True
    back = river.fire(notice.id, "send_back", CHIEF, {"reason": "照片不清晰"})
    assert back.state == "handling"
    assert back.data["reply_due"] == "2024-03-13"  # a new period from the send-back
    river.fire(notice.id, "reply", URBAN, {"measures": "已补设标识牌并拍照", "reply": "已整改"})
    closed = river.fire(notice.id, "confirm", CHIEF)
    assert closed.state == "closed"
    assert closed.data.get("overdue") is None


def test_a_lapsed_notice_is_overdue_at_its_due_time_and_the_department_escalated(
    river: Engine, clock: FakeClock
) -> None:
    notice = _notice(river)
    due = datetime(2024, 3, 8, 16, 0, tzinfo=UTC)  # the end of 03-08 in China
    pass_time(river, clock, datetime(2024, 3, 8, 15, 0, tzinfo=UTC))
    assert river.get_case(notice.id).data.get("overdue") is None
    pass_time(river, clock, datetime(2024, 3, 12, 3, 0, tzinfo=UTC))  # the sweep runs late
    late = river.get_case(notice.id)
    assert late.data["overdue"] is True
    assert datetime.fromisoformat(late.data["overdue_at"]) == due  # counted from the due time
    ladder = river.get_case(late.data["escalation_case_id"])
    assert ladder.case.subject == "urban_mgmt_city:patrol_notice"
    assert (ladder.state, ladder.data["target"], ladder.data["county"]) == (
        "notice",
        "urban_mgmt_city",
        "liaocheng",
    )
    # the ladder's own response period (20 working days) counts from the notice's due time,
    # not from the late sweep: the end of 2024-04-08 (清明 04-04..06 off, Sunday 04-07 worked)
    (timer,) = ladder.timers
    assert timer.due_at == datetime(2024, 4, 8, 16, 0, tzinfo=UTC)
    # acknowledging after the lapse does not flag (or escalate) it twice
    river.fire(notice.id, "acknowledge", URBAN)
    pass_time(river, clock, datetime(2024, 3, 13, 3, 0, tzinfo=UTC))
    replied = river.fire(notice.id, "reply", URBAN, {"measures": "已处理", "reply": "逾期答复"})
    assert replied.data["replied_on_time"] is False
    assert len(river.list_cases(workflow="escalation")) == 1


def test_an_eeb_notice_is_handled_by_the_county_branch_and_escalates_the_county(
    river: Engine, clock: FakeClock
) -> None:
    notice = _notice(river, "371524-0001")  # 工矿企业排污口: the EEB's
    assert notice.data["department"] == "eeb_city"
    river.fire(notice.id, "acknowledge", DONGE_EEB)
    pass_time(river, clock, datetime(2024, 3, 9, 1, 0, tzinfo=UTC))
    ladder = river.get_case(river.get_case(notice.id).data["escalation_case_id"])
    assert ladder.case.subject == "donge:patrol_notice"


def test_a_notice_is_opened_only_by_a_patrol_and_to_the_outfalls_department(
    river: Engine,
) -> None:
    data = {
        "outfall_code": "371524-0002",
        "county": "donge",
        "department": "water_city",
        "problem": "手工交办",
    }
    for actor in (CHIEF, WATER, DONGE_EEB):
        with pytest.raises(Refused, match="river patrol"):
            river.create_case("patrol_notice", data, actor, subject="371524-0002")
    admin = Actor("admin", "admin")
    with pytest.raises(InvalidInput, match="department"):
        river.create_case("patrol_notice", data, admin, subject="371524-0002")


def test_each_patrols_problem_at_one_outfall_opens_its_own_notice(river: Engine) -> None:
    first = _notice(river)
    entry = {"outfall_code": "371524-0002", "checks": OK, "problem": "排口有异味"}
    view = _patrol(river, [entry], date="2024-02-29")
    second = river.fire(view.id, "submit", GRID)
    (ref_,) = second.data["notices"]
    assert ref_["case_id"] != first.id
    assert river.get_case(ref_["case_id"]).data["problem"] == "排口有异味"


def test_a_patrol_in_the_future_or_recording_an_outfall_twice_is_refused(river: Engine) -> None:
    _failed_check(river, lambda: _patrol(river, [], date="2030-01-01"), "$.date")
    twice = [{"outfall_code": "371524-0001", "checks": OK}] * 2
    _failed_check(river, lambda: _patrol(river, twice), "$.outfalls[1].outfall_code")
    view = _patrol(river, twice[:1])
    with pytest.raises(InvalidInput) as raised:
        river.fire(view.id, "record_outfall", CHIEF, twice[0])
    assert [e.json_path for e in raised.value.errors] == ["$.outfall_code"]


def test_each_referral_of_a_notice_opens_its_own_enforcement_case(river: Engine) -> None:
    notice = _notice(river)
    river.fire(notice.id, "acknowledge", URBAN)
    for violation in ("dry_weather_discharge", "hidden_pipe"):
        handled = river.fire(
            notice.id, "refer_to_enforcement", URBAN, {"violation_type": violation}
        )
    assert len(set(handled.data["enforcement_case_ids"])) == 2
