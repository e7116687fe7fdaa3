"""Rectification (整治): deadline by basin, the three modes and their steps, evidence,
county pre-close-out, city review with send-back, de-listing into the ledger, and the overdue
deadline that escalates the county once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.errors import Forbidden, GuardFailed, InputRefused, InvalidInput, TriggerNotAllowed
from engine.handlers import Actor
from engine.runtime import Engine
from engine.views import CaseView
from tests.attachkit import stand_ins
from tests.conftest import ROOT
from tests.handlers.flows.support import due_times, ledger_record, outfall, pass_time, seed_ledger

DONGE_EEB = Actor("东阿县生态环境分局", "county_eeb", "donge")
DONGE_GOV = Actor("东阿县人民政府", "county_gov", "donge")
CITY_EEB = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
DISCHARGER = Actor("东阿县某化工公司", "discharger", "donge")
EVIDENCE = {"evidence": {"photos": ["oss://evidence/a.jpg"], "videos": ["oss://evidence/a.mp4"]}}
STANDARD = {"signboard": True, "sampling_point": True, "qr_code": True}
METERING = [{"unit": "东阿县某化工公司", "device": "JL-0001", "location": "汇入口前"}]


@pytest.fixture
def flows(engine: Engine) -> Engine:
    engine.load([ROOT / "workflows" / f"{name}.yaml" for name in ["rectification", "escalation"]])
    return engine


def _open(engine: Engine, code: str, river: str = "huanghe", **data: Any) -> int:
    basin = "yellow_river" if river == "huanghe" else "haihe"
    seed_ledger(engine, outfall(code, river=river, basin=basin))
    body = {"outfall_code": code, "county": "donge", "sub_type": "industrial_enterprise"}
    body["responsible_party"] = DISCHARGER.name  # the discharger reads and acts on its case
    body.update(river=river, **data)
    return engine.create_case("rectification", body, DONGE_EEB, subject=code).id


def _complete(engine: Engine, case_id: int, payload: dict[str, Any]) -> CaseView:
    """``complete`` as the discharger, its photos uploaded first."""
    filled = stand_ins(
        engine, DISCHARGER, "rectification", payload, trigger="complete", case_id=case_id
    )
    return engine.fire(case_id, "complete", DISCHARGER, filled)


def _end_of_day(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 16, 0, tzinfo=UTC)  # 24:00 in Shanghai


def _to_city_review(engine: Engine, case_id: int, **choice: Any) -> None:
    engine.fire(case_id, "choose_mode", DONGE_GOV, choice)
    if choice["mode"] == "ban":
        engine.fire(
            case_id, "issue_ban_order", DONGE_GOV, {"ban_decision_number": "东政取〔2024〕1号"}
        )
    if choice["mode"] == "merge":
        engine.fire(case_id, "install_metering", DISCHARGER, {"metering": METERING})
    extra = {"regularise": {"standardisation": STANDARD}}.get(choice["mode"], {})
    _complete(engine, case_id, {**EVIDENCE, **extra})
    engine.fire(case_id, "pre_close", DONGE_GOV)


def test_the_deadline_comes_from_the_basin_unless_given(flows: Engine) -> None:
    yellow = flows.get_case(_open(flows, "371524-0001", river="huanghe"))
    assert yellow.data["deadline"] == "2024-06-30"
    assert yellow.data["basin"] == "yellow_river"
    assert due_times(yellow)["overdue"] == _end_of_day(2024, 6, 30)
    haihe = flows.get_case(_open(flows, "371524-0002", river="tuhaihe"))
    assert haihe.data["deadline"] == "2025-12-31"
    assert due_times(haihe)["overdue"] == _end_of_day(2025, 12, 31)
    given = flows.get_case(_open(flows, "371524-0003", deadline="2024-04-30"))
    assert given.data["deadline"] == "2024-04-30"
    assert due_times(given)["overdue"] == _end_of_day(2024, 4, 30)


def test_a_merge_needs_an_active_target_in_the_ledger(flows: Engine) -> None:
    case_id = _open(flows, "371524-0010")
    seed_ledger(flows, outfall("371524-0011", status="abolished"), outfall("371524-0012"))
    with pytest.raises(InvalidInput, match=r"merged_into"):
        flows.fire(case_id, "choose_mode", DONGE_GOV, {"mode": "merge"})
    for target in ("371524-9999", "371524-0010", "371524-0011"):  # unknown, itself, abolished
        with pytest.raises(GuardFailed, match="merge_target_in_ledger"):
            flows.fire(case_id, "choose_mode", DONGE_GOV, {"mode": "merge", "merged_into": target})
    assert flows.get_case(case_id).state == "planning"
    view = flows.fire(
        case_id, "choose_mode", DONGE_GOV, {"mode": "merge", "merged_into": "371524-0012"}
    )
    assert view.state == "merge_metering"  # metering first (三(四)4)


@pytest.mark.parametrize(
    ("choice", "status", "extra"),
    [
        ({"mode": "ban"}, "abolished", {}),
        ({"mode": "merge", "merged_into": "371524-0099"}, "merged", {"merged_into": "371524-0099"}),
        ({"mode": "regularise"}, "active", {}),
    ],
    ids=["ban", "merge", "regularise"],
)
def test_delisting_updates_the_ledger_by_mode(
    flows: Engine, choice: dict[str, Any], status: str, extra: dict[str, Any]
) -> None:
    seed_ledger(flows, outfall("371524-0099"))
    case_id = _open(flows, "371524-0020")
    assert (ledger_record(flows, "371524-0020") or {})["rectification_status"] == "in_progress"
    _to_city_review(flows, case_id, **choice)
    view = flows.fire(case_id, "approve_delisting", CITY_EEB)
    assert view.state == "delisted"
    assert view.final
    assert view.timers == []  # the deadline is over with the case
    record = ledger_record(flows, "371524-0020")
    assert record is not None
    assert record["status"] == status
    assert record["rectification_status"] == "done"
    assert record["rectification_mode"] == choice["mode"]
    assert {k: record[k] for k in extra} == extra


def test_completion_needs_evidence_and_regularising_needs_the_standard_items(
    flows: Engine,
) -> None:
    case_id = _open(flows, "371524-0030")
    flows.fire(case_id, "choose_mode", DONGE_GOV, {"mode": "regularise"})
    with pytest.raises(InvalidInput, match=r"\$\.evidence\.photos"):
        _complete(flows, case_id, {"evidence": {"photos": []}})
    with pytest.raises(InvalidInput, match=r"standardisation"):
        _complete(flows, case_id, EVIDENCE)
    without_qr = {**STANDARD, "qr_code": False}
    with pytest.raises(InvalidInput, match=r"qr_code"):
        _complete(flows, case_id, {**EVIDENCE, "standardisation": without_qr})
    view = _complete(flows, case_id, {**EVIDENCE, "standardisation": STANDARD})
    assert view.state == "county_acceptance"
    [photo] = view.data["evidence"]["photos"]
    assert photo["name"] == "a.jpg"
    assert photo["type"] == "image/png"


def test_the_city_may_send_back_and_the_county_may_reopen_the_works(flows: Engine) -> None:
    case_id = _open(flows, "371524-0040")
    _to_city_review(flows, case_id, mode="ban")
    with pytest.raises(Forbidden):
        flows.fire(case_id, "approve_delisting", DONGE_GOV)
    with pytest.raises(InvalidInput, match=r"\$\.reason"):
        flows.fire(case_id, "send_back", CITY_EEB, {"reason": ""})
    view = flows.fire(case_id, "send_back", CITY_EEB, {"reason": "封堵照片不清晰"})
    assert view.state == "county_acceptance"
    assert view.data["send_backs"] == 1
    assert view.data["send_back_reason"] == "封堵照片不清晰"
    assert flows.fire(case_id, "reject_work", DONGE_GOV).state == "banning"  # back to its mode
    _complete(flows, case_id, EVIDENCE)
    flows.fire(case_id, "pre_close", DONGE_GOV)
    assert flows.fire(case_id, "approve_delisting", CITY_EEB).state == "delisted"
    assert (ledger_record(flows, "371524-0040") or {})["status"] == "abolished"


def test_an_overdue_case_escalates_its_county_once(flows: Engine, clock: FakeClock) -> None:
    first = _open(flows, "371524-0050")
    second = _open(flows, "371524-0051")
    done = _open(flows, "371524-0052")
    _to_city_review(flows, done, mode="regularise")
    flows.fire(done, "approve_delisting", CITY_EEB)

    pass_time(flows, clock, datetime(2024, 6, 30, 15, 0, tzinfo=UTC))  # 23:00, still in time
    assert flows.list_cases(workflow="escalation") == []
    pass_time(flows, clock, datetime(2024, 7, 1, 1, 0, tzinfo=UTC))
    (escalation,) = flows.list_cases(workflow="escalation")
    assert escalation.case.subject == "donge:rectification"
    assert escalation.data["target"] == "donge"
    assert escalation.data["source_case_id"] == first
    for case_id in (first, second):
        view = flows.get_case(case_id)
        assert view.data["overdue"] is True
        assert view.data["escalation_case_id"] == escalation.id
        assert view.state == "planning"  # still to be rectified
    assert "overdue" not in flows.get_case(done).data


# -- merging into a shared outfall: metering first (监测计量, plan 三(四)4) ----------------


UNITS = ["东阿县某化工公司", "东阿县某纸业公司"]  # two units discharge through 371524-0030
BOTH = [*METERING, {"unit": "东阿县某纸业公司", "device": "JL-0004", "location": "汇入口前"}]


def test_a_merge_meters_every_discharging_unit_before_the_drainage_joins(flows: Engine) -> None:
    seed_ledger(flows, outfall("371524-0099", shared_by=[{"unit": "甲公司", "device": "JL-9"}]))
    case_id = _open(flows, "371524-0030", discharging_units=UNITS)
    choice = {"mode": "merge", "merged_into": "371524-0099"}
    view = flows.fire(case_id, "choose_mode", DONGE_GOV, choice)
    assert (view.state, view.state_title) == ("merge_metering", "清理合并-汇入前安装监测计量设施")
    with pytest.raises(TriggerNotAllowed):  # no joining before every unit is metered
        flows.fire(case_id, "complete", DISCHARGER, {**EVIDENCE, "metering": BOTH})
    with pytest.raises(Forbidden, match="may fire no trigger"):  # nor its photos uploaded yet
        _complete(flows, case_id, {**EVIDENCE, "metering": BOTH})
    with pytest.raises(InvalidInput, match=r"\$\.metering"):
        flows.fire(case_id, "install_metering", DISCHARGER, {"metering": []})
    with pytest.raises(InputRefused) as unmetered:  # the second unit has no meter
        flows.fire(case_id, "install_metering", DISCHARGER, {"metering": METERING})
    assert [e.json_path for e in unmetered.value.errors] == ["$.metering"]
    assert "东阿县某纸业公司" in unmetered.value.errors[0].message
    twice = [*BOTH, {"unit": "东阿县某化工公司", "device": "JL-0003"}]
    with pytest.raises(InputRefused) as listed_twice:
        flows.fire(case_id, "install_metering", DISCHARGER, {"metering": twice})
    assert [e.json_path for e in listed_twice.value.errors] == ["$.metering[2].unit"]
    reused = [BOTH[0], {**BOTH[1], "device": "JL-0001"}]
    with pytest.raises(InputRefused) as one_device:
        flows.fire(case_id, "install_metering", DISCHARGER, {"metering": reused})
    assert [e.json_path for e in one_device.value.errors] == ["$.metering[1].device"]
    assert flows.get_case(case_id).state == "merge_metering"

    view = flows.fire(case_id, "install_metering", DISCHARGER, {"metering": BOTH})
    assert (view.state, view.state_title) == ("merging", "清理合并-接入合并中")
    assert view.data["metering"] == BOTH
    assert view.data["metered_at"] == view.case.updated_at.isoformat()
    with pytest.raises(InvalidInput, match="metering"):  # attested before joining, not after
        _complete(flows, case_id, {**EVIDENCE, "metering": BOTH})
    view = _complete(flows, case_id, EVIDENCE)
    assert view.state == "county_acceptance"
    assert (ledger_record(flows, "371524-0099") or {})["shared_by"] == [
        {"unit": "甲公司", "device": "JL-9"}
    ]  # not shared until de-listed
    flows.fire(case_id, "pre_close", DONGE_GOV)
    flows.fire(case_id, "approve_delisting", CITY_EEB)
    target = ledger_record(flows, "371524-0099") or {}
    assert target["shared_by"] == [
        {"unit": "甲公司", "device": "JL-9"},
        {"unit": "东阿县某化工公司", "device": "JL-0001", "from_outfall": "371524-0030"},
        {"unit": "东阿县某纸业公司", "device": "JL-0004", "from_outfall": "371524-0030"},
    ]
    assert target["status"] == "active"


def test_without_traced_units_the_responsible_party_is_metered(flows: Engine) -> None:
    seed_ledger(flows, outfall("371524-0099"))
    case_id = _open(flows, "371524-0032")
    flows.fire(case_id, "choose_mode", DONGE_GOV, {"mode": "merge", "merged_into": "371524-0099"})
    other = [{"unit": "别的公司", "device": "JL-0002"}]
    with pytest.raises(InputRefused, match="东阿县某化工公司"):
        flows.fire(case_id, "install_metering", DISCHARGER, {"metering": other})
    view = flows.fire(case_id, "install_metering", DISCHARGER, {"metering": METERING})
    assert view.state == "merging"


def test_a_ban_needs_no_meter(flows: Engine) -> None:
    case_id = _open(flows, "371524-0031")
    flows.fire(case_id, "choose_mode", DONGE_GOV, {"mode": "ban"})
    flows.fire(case_id, "issue_ban_order", DONGE_GOV, {"ban_decision_number": "东政取〔2024〕2号"})
    with pytest.raises(InvalidInput, match="metering"):
        _complete(flows, case_id, {**EVIDENCE, "metering": METERING})
    assert _complete(flows, case_id, EVIDENCE).state == "county_acceptance"


# -- extension of the deadline (延期) ------------------------------------------------------------

UNTIL = {"until": "2024-09-30", "reason": "雨季施工受限，需延至汛期后"}


def test_a_granted_extension_moves_the_deadline_and_its_timer(
    flows: Engine, clock: FakeClock
) -> None:
    case_id = _open(flows, "371524-0060")
    flows.fire(case_id, "choose_mode", DONGE_GOV, {"mode": "regularise"})
    asked = flows.fire(case_id, "request_extension", DONGE_GOV, UNTIL)
    assert asked.state == "regularising"
    assert asked.data["extension_request"]["until"] == "2024-09-30"
    assert due_times(asked)["overdue"] == _end_of_day(2024, 6, 30)  # not moved by asking
    granted = flows.fire(case_id, "approve_extension", CITY_EEB)
    assert granted.state == "regularising"
    assert granted.data["deadline"] == "2024-09-30"
    assert "extension_request" not in granted.data
    (entry,) = granted.data["extensions"]
    assert entry["from"] == "2024-06-30"
    assert entry["until"] == "2024-09-30"
    assert entry["reason"] == UNTIL["reason"]
    assert entry["requested_by"] == DONGE_GOV.name
    assert (entry["decision"], entry["decided_by"]) == ("granted", CITY_EEB.name)
    assert due_times(granted)["overdue"] == _end_of_day(2024, 9, 30)
    moved = flows.history(case_id)[-1]
    assert moved.kind == "timer_moved"
    assert moved.payload["old_due_at"] == _end_of_day(2024, 6, 30).isoformat()
    assert moved.payload["due_at"] == _end_of_day(2024, 9, 30).isoformat()

    pass_time(flows, clock, datetime(2024, 7, 1, 1, 0, tzinfo=UTC))  # the old date: in time now
    assert flows.list_cases(workflow="escalation") == []
    assert "overdue" not in flows.get_case(case_id).data
    pass_time(flows, clock, datetime(2024, 10, 1, 1, 0, tzinfo=UTC))
    (escalation,) = flows.list_cases(workflow="escalation")
    assert "期限2024-09-30" in escalation.data["reason"]
    assert flows.get_case(case_id).data["overdue"] is True


def test_a_refused_extension_leaves_the_deadline(flows: Engine) -> None:
    case_id = _open(flows, "371524-0061")
    flows.fire(case_id, "request_extension", DONGE_GOV, UNTIL)
    with pytest.raises(InvalidInput, match="reason"):
        flows.fire(case_id, "refuse_extension", CITY_EEB, {})
    refused = flows.fire(case_id, "refuse_extension", CITY_EEB, {"reason": "未说明具体困难"})
    assert refused.data["deadline"] == "2024-06-30"
    assert due_times(refused)["overdue"] == _end_of_day(2024, 6, 30)
    (entry,) = refused.data["extensions"]
    assert (entry["decision"], entry["refusal_reason"]) == ("refused", "未说明具体困难")
    assert "extension_request" not in refused.data
    assert [e.kind for e in flows.history(case_id)][-1] == "transition"  # no timer moved
    again = flows.fire(case_id, "request_extension", DONGE_GOV, {**UNTIL, "until": "2024-08-31"})
    assert again.data["extension_request"]["until"] == "2024-08-31"  # may ask again


def test_who_may_ask_and_decide_and_for_what(flows: Engine) -> None:
    case_id = _open(flows, "371524-0062")
    for actor in (DONGE_EEB, DISCHARGER, CITY_EEB):
        with pytest.raises(Forbidden):
            flows.fire(case_id, "request_extension", actor, UNTIL)
    for until in ("2024-06-30", "2024-05-31"):  # not later than the deadline
        with pytest.raises(GuardFailed, match="rectification_extension_can_be_requested"):
            flows.fire(case_id, "request_extension", DONGE_GOV, {**UNTIL, "until": until})
    with pytest.raises(InvalidInput, match=r"\$\.until"):
        flows.fire(case_id, "request_extension", DONGE_GOV, {**UNTIL, "until": "九月底"})
    with pytest.raises(GuardFailed):  # nothing to decide yet
        flows.fire(case_id, "approve_extension", CITY_EEB)
    flows.fire(case_id, "request_extension", DONGE_GOV, UNTIL)
    with pytest.raises(GuardFailed, match="rectification_extension_can_be_requested"):
        flows.fire(case_id, "request_extension", DONGE_GOV, UNTIL)  # one pending at a time
    for actor in (DONGE_GOV, DONGE_EEB):
        with pytest.raises(Forbidden):
            flows.fire(case_id, "approve_extension", actor)
    assert flows.get_case(case_id).data["deadline"] == "2024-06-30"


def test_no_extension_once_the_deadline_has_passed(flows: Engine, clock: FakeClock) -> None:
    late = _open(flows, "371524-0063")
    pending = _open(flows, "371524-0064")
    flows.fire(pending, "request_extension", DONGE_GOV, UNTIL)
    pass_time(flows, clock, datetime(2024, 7, 1, 1, 0, tzinfo=UTC))  # both overdue, escalated
    with pytest.raises(GuardFailed, match="rectification_extension_can_be_requested"):
        flows.fire(late, "request_extension", DONGE_GOV, UNTIL)
    with pytest.raises(GuardFailed, match="rectification_extension_can_be_granted"):
        flows.fire(pending, "approve_extension", CITY_EEB)
    refused = flows.fire(pending, "refuse_extension", CITY_EEB, {"reason": "申请时已临近期限"})
    assert refused.data["deadline"] == "2024-06-30"
    assert refused.data["overdue"] is True


@pytest.mark.parametrize("mode", ["ban", "merge", "regularise"])
def test_the_chosen_mode_is_in_the_ledger_at_once(flows: Engine, mode: str) -> None:
    """So that an outfall being banned or merged cannot be kept on a retained list (三(三))."""
    seed_ledger(flows, outfall("371524-0099"))
    case_id = _open(flows, "371524-0070")
    choice = {"mode": mode, **({"merged_into": "371524-0099"} if mode == "merge" else {})}
    flows.fire(case_id, "choose_mode", DONGE_GOV, choice)
    record = ledger_record(flows, "371524-0070") or {}
    assert record["rectification_mode"] == mode
    assert record["status"] == "active"  # still in service until de-listed
