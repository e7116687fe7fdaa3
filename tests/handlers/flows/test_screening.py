"""Screening rounds (动态排查, plan 三(一) 有口皆查、全域覆盖、新增清零), end to end on the fake
clock: a county records the river sections it screened (only its own), the new outfalls found
(in its ledger: found; not in any ledger: to be added; another county's: refused), submits, the
city confirms or returns; a round not submitted by its due day is overdue and escalated."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.clock import FakeClock
from engine.errors import InputRefused, TriggerNotAllowed
from engine.handlers import Actor
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.handlers.flows.support import due_times, outfall, pass_time, seed_ledger

CITY = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
DONGE = Actor("东阿县生态环境分局", "county_eeb", "donge")
YANGGU = Actor("阳谷县生态环境分局", "county_eeb", "yanggu")


@pytest.fixture
def flows(engine: Engine, clock: FakeClock) -> Engine:
    clock.set(datetime(2023, 6, 1, 1, 0, tzinfo=UTC))
    engine.load([ROOT / "workflows" / f"{name}.yaml" for name in ("screening", "escalation")])
    seed_ledger(engine, outfall("371524-0001", "donge"), outfall("371521-0001", "yanggu"))
    return engine


def _round(engine: Engine, county: str, actor: Actor, **data: object) -> int:
    body = {"county": county, "year": 2023, **data}
    return engine.create_case("screening", body, actor, subject=f"{county}:2023").id


def _section(section: str, day: str = "2023-05-30", **more: object) -> dict[str, object]:
    return {"section": section, "date": day, "screeners": ["张伟", "王芳"], **more}


def test_a_round_covers_the_countys_own_sections(flows: Engine) -> None:
    view = flows.get_case(_round(flows, "donge", DONGE))
    assert view.data["sections"] == ["donge-huanghe", "donge-tuhaihe"]
    assert view.data["due"] == "2023-12-31"
    assert due_times(view)["overdue"] == datetime(2023, 12, 31, 16, 0, tzinfo=UTC)
    case = view.id
    with pytest.raises(InputRefused) as other:
        flows.fire(case, "record_section", DONGE, _section("yanggu-huanghe"))
    assert [e.json_path for e in other.value.errors] == ["$.section"]
    with pytest.raises(InputRefused) as future:
        flows.fire(case, "record_section", DONGE, _section("donge-huanghe", "2023-06-02"))
    assert [e.json_path for e in future.value.errors] == ["$.date"]


def test_new_outfalls_found_in_the_ledger_or_to_be_added(flows: Engine) -> None:
    case = _round(flows, "donge", DONGE)
    with pytest.raises(InputRefused) as elsewhere:
        flows.fire(
            case,
            "record_section",
            DONGE,
            _section("donge-huanghe", new_outfalls=["371524-0001", "371521-0001"]),
        )
    assert [e.json_path for e in elsewhere.value.errors] == ["$.new_outfalls[1]"]
    view = flows.fire(
        case,
        "record_section",
        DONGE,
        _section("donge-huanghe", new_outfalls=["371524-0001", "371524-0099"]),
    )
    assert view.data["found_in_ledger"] == ["371524-0001"]
    assert view.data["to_add"] == ["371524-0099"]
    assert view.data["records"][0]["screeners"] == ["张伟", "王芳"]


def test_submit_records_the_unscreened_sections_and_the_city_confirms(flows: Engine) -> None:
    case = _round(flows, "donge", DONGE)
    flows.fire(case, "record_section", DONGE, _section("donge-huanghe"))
    view = flows.fire(case, "submit", DONGE)
    assert view.state == "submitted"
    assert view.data["unscreened"] == ["donge-tuhaihe"]
    with pytest.raises(TriggerNotAllowed):
        flows.fire(case, "record_section", DONGE, _section("donge-tuhaihe"))
    flows.fire(case, "return_round", CITY, {"reason": "徒骇河东阿县段未排查"})
    flows.fire(case, "record_section", DONGE, _section("donge-tuhaihe", "2023-06-01"))
    assert flows.fire(case, "submit", DONGE).data["unscreened"] == []
    confirmed = flows.fire(case, "confirm", CITY)
    assert confirmed.state == "confirmed"
    assert confirmed.data["confirmed_by"] == CITY.name


def test_end_to_end_a_round_not_submitted_by_its_due_day_is_escalated(
    flows: Engine, clock: FakeClock
) -> None:
    done = _round(flows, "donge", CITY, due="2023-09-30")
    late = _round(flows, "yanggu", CITY, due="2023-09-30")  # the city opens it for the county
    flows.fire(late, "record_section", YANGGU, _section("yanggu-huanghe"))
    flows.fire(done, "record_section", DONGE, _section("donge-huanghe"))
    flows.fire(done, "record_section", DONGE, _section("donge-tuhaihe"))
    flows.fire(done, "submit", DONGE)
    pass_time(flows, clock, datetime(2023, 9, 30, 15, 0, tzinfo=UTC))
    assert not flows.get_case(late).data.get("overdue")
    pass_time(flows, clock, datetime(2023, 10, 8, 1, 0, tzinfo=UTC))  # after the holidays
    view = flows.get_case(late)
    assert view.data["overdue"] is True
    assert view.data["overdue_at"] == "2023-09-30T16:00:00+00:00"
    ladder = flows.get_case(view.data["escalation_case_id"])
    assert ladder.case.subject == "yanggu:screening"
    assert ladder.state == "notice"
    assert flows.get_case(done).data.get("escalation_case_id") is None
    flows.fire(late, "submit", YANGGU)  # late, still taken
    assert flows.get_case(late).data["unscreened"] == ["yanggu-jindihe"]


def test_a_county_may_not_set_its_own_due_day(flows: Engine) -> None:
    with pytest.raises(InputRefused) as due:
        _round(flows, "donge", DONGE, due="2099-12-31")
    assert [e.json_path for e in due.value.errors] == ["$.due"]
    assert flows.get_case(_round(flows, "donge", DONGE)).data["due"] == "2023-12-31"


def test_the_subject_names_the_county_and_year(flows: Engine) -> None:
    data = {"county": "donge", "year": 2023}
    for subject in (None, "donge:2024", "yanggu:2023"):
        with pytest.raises(InputRefused) as bad:
            flows.create_case("screening", data, DONGE, subject=subject)
        assert [e.json_path for e in bad.value.errors] == ["$.subject"]


def test_a_sections_date_lies_in_the_rounds_year(flows: Engine) -> None:
    case = _round(flows, "donge", DONGE)
    with pytest.raises(InputRefused) as early:
        flows.fire(case, "record_section", DONGE, _section("donge-huanghe", "2019-01-01"))
    assert [e.json_path for e in early.value.errors] == ["$.date"]
    view = flows.fire(case, "record_section", DONGE, _section("donge-huanghe", "2023-01-01"))
    assert view.data["records"][0]["date"] == "2023-01-01"
