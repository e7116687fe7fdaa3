"""Effectiveness checks: county self-check → city 双随机 spot-check → provincial verification.

The draw is a pure function of its secret and pool, favours the three focus sub-types, gives
every target at least two inspectors and recuses conflicted ones; findings at every level send
the outfall back to rectification. What keeps the draw from being steered or seen early is in
test_spot_check_draw.py.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.errors import FieldError, InputRefused, InvalidInput, Refused
from engine.handlers import Actor
from engine.runtime import Engine
from handlers.sampling.commit import verify_draw
from handlers.sampling.draw import SamplingError, draw_sample, sample_size
from tests.conftest import ROOT
from tests.handlers.flows.support import outfall, pass_time, seed_ledger

COUNTY = Actor("东阿县生态环境分局", "county_eeb", "donge")
CITY = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
PROVINCE = Actor("山东省生态环境厅", "eeb_province", "shandong")
FOCUS = ("industrial_enterprise", "park_wwtp", "urban_wwtp")
OTHERS = ("enterprise_storm", "livestock_large", "irrigation_district", "rural_scattered")
WEIGHTS = {"industrial_enterprise": 3.0, "park_wwtp": 3.0, "urban_wwtp": 3.0}
INSPECTORS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆"]
# Inspected the day of the draw (the tests' clock starts on 2024-03-01), so results can come.
DRAW = {"inspectors": INSPECTORS, "inspection_date": "2024-03-01"}


def secret(n: int) -> str:
    """The ``n``-th test secret (32 bytes, hexadecimal)."""
    return f"{n:064x}"


def _pool(size: int = 40, focus_every: int = 4) -> list[dict[str, Any]]:
    """``size`` outfalls, one in ``focus_every`` of a focus sub-type."""
    pool = []
    for i in range(size):
        kind = FOCUS[i % 3] if i % focus_every == 0 else OTHERS[i % len(OTHERS)]
        pool.append(
            {
                "code": f"371524-{i:04d}",
                "sub_type": kind,
                "county": "donge",
                "responsible_party": f"企业{i}",
            }
        )
    return pool


# -- the pure draw ----------------------------------------------------------------------------


def test_same_secret_same_sample_and_another_secret_another_sample() -> None:
    pool = _pool()
    first = draw_sample(pool, INSPECTORS, secret(1), 0.25, WEIGHTS)
    again = draw_sample(list(reversed(pool)), list(reversed(INSPECTORS)), secret(1), 0.25, WEIGHTS)
    other = draw_sample(pool, INSPECTORS, secret(2), 0.25, WEIGHTS)
    assert first == again  # the input order does not matter, only secret and pool
    assert len(first) == sample_size(40, 0.25) == 10
    assert [t["outfall_code"] for t in first] != [t["outfall_code"] for t in other]


def test_weights_favour_the_three_focus_sub_types_over_many_draws() -> None:
    pool = _pool()  # 10 focus outfalls out of 40: a quarter of the pool
    weighted: Counter[bool] = Counter()
    uniform: Counter[bool] = Counter()
    for n in range(300):
        for t in draw_sample(pool, INSPECTORS, secret(n), 0.1, WEIGHTS):
            weighted[t["sub_type"] in FOCUS] += 1
        for t in draw_sample(pool, INSPECTORS, secret(n), 0.1, {}):
            uniform[t["sub_type"] in FOCUS] += 1
    weighted_share = weighted[True] / sum(weighted.values())
    uniform_share = uniform[True] / sum(uniform.values())
    assert 0.18 < uniform_share < 0.32  # a fair draw picks them about as often as they occur
    assert weighted_share > 0.45  # weight 3 roughly doubles their share
    assert weighted_share > uniform_share + 0.15


def test_every_target_gets_two_distinct_inspectors_and_conflicts_are_recused() -> None:
    pool = _pool(20)
    conflicts = {"张伟": ["371524-0000", "371524-0001"], "王芳": ["donge"], "李娜": ["企业3"]}
    for n in range(50):
        for target in draw_sample(pool, INSPECTORS, secret(n), 0.5, WEIGHTS, conflicts=conflicts):
            people = target["inspectors"]
            assert len(people) == len(set(people)) == 2
            assert "王芳" not in people  # conflicted with the whole county
            if target["outfall_code"] in ("371524-0000", "371524-0001"):
                assert "张伟" not in people
            if target["outfall_code"] == "371524-0003":
                assert "李娜" not in people


def test_too_few_inspectors_without_conflict_is_refused_with_the_outfall_named() -> None:
    pool = _pool(4)
    with pytest.raises(SamplingError, match=r"outfall 371524-\d{4}: only 1 inspector"):
        draw_sample(pool, ["张伟", "王芳"], secret(7), 1.0, WEIGHTS, conflicts={"王芳": ["donge"]})
    with pytest.raises(SamplingError, match="pool of outfalls is empty"):
        draw_sample([], INSPECTORS, secret(7), 0.5, WEIGHTS)
    with pytest.raises(SamplingError, match="secret must be hexadecimal"):
        draw_sample(pool, INSPECTORS, "not hex", 0.5, WEIGHTS)


def test_a_larger_ratio_only_adds_targets() -> None:
    pool = _pool()
    small = draw_sample(pool, INSPECTORS, secret(3), 0.1, WEIGHTS)
    large = draw_sample(pool, INSPECTORS, secret(3), 0.5, WEIGHTS)
    assert large[: len(small)] == small


# -- the workflow -----------------------------------------------------------------------------


@pytest.fixture
def county_ledger(engine: Engine) -> list[dict[str, Any]]:
    engine.load([ROOT / "workflows"])
    records = [
        outfall(
            p["code"], "donge", sub_type=p["sub_type"], responsible_party=p["responsible_party"]
        )
        for p in _pool(20)
    ]
    records.append(outfall("371521-0001", "dongchangfu"))  # another county: never in the pool
    seed_ledger(engine, *records)
    return records


def _open_check(engine: Engine, **extra: Any) -> int:
    case = engine.create_case(
        "effectiveness_check",
        {"county": "donge", "year": 2024, **extra},
        COUNTY,
        subject="donge:2024",
    )
    engine.fire(
        case.id, "submit_plan", COUNTY, {"plan": {"summary": "每季度自查一轮", "rounds": 4}}
    )
    return case.id


def _rectification(engine: Engine, code: str) -> Any:
    cases = engine.list_cases(workflow="rectification", subject=code)
    assert len(cases) == 1, cases
    return cases[0]


def test_self_check_findings_send_the_outfall_back_to_rectification(
    engine: Engine, county_ledger: list[dict[str, Any]]
) -> None:
    case_id = _open_check(engine)
    results = [
        {"outfall_code": "371524-0000", "passed": True},
        {"outfall_code": "371524-0005", "passed": False, "finding": "标志牌缺失"},
    ]
    with pytest.raises(InvalidInput, match=r"finding"):  # a failure must say what was found
        engine.fire(
            case_id,
            "report_self_check",
            COUNTY,
            {"results": [{"outfall_code": "x", "passed": False}]},
        )
    view = engine.fire(case_id, "report_self_check", COUNTY, {"results": results})
    assert view.state == "awaiting_spot_check"
    rect = _rectification(engine, "371524-0005")
    assert rect.data["county"] == "donge"
    assert rect.data["source_case_id"] == case_id
    assert rect.data["deadline"] == "2024-06-30"  # Yellow River basin, still ahead
    (finding,) = view.data["findings"]
    assert finding["rectification_case_id"] == rect.id
    assert finding["rectification_opened"]
    assert view.data["results"]["county"]["failed"] == 1


def test_a_result_for_an_outfall_not_in_the_ledger_is_refused_at_its_json_path(
    engine: Engine, county_ledger: list[dict[str, Any]]
) -> None:
    case_id = _open_check(engine)
    results = [
        {"outfall_code": "371524-0000", "passed": True},
        {"outfall_code": "371524-0005", "passed": False, "finding": "标志牌缺失"},
        {"outfall_code": "371524-9999", "passed": False, "finding": "未见排口"},
    ]
    with pytest.raises(InputRefused) as refused:
        engine.fire(case_id, "report_self_check", COUNTY, {"results": results})
    assert refused.value.what == "payload"
    assert refused.value.errors == [
        FieldError("$.results[2].outfall_code", "outfall 371524-9999 is not in the ledger")
    ]
    assert engine.get_case(case_id).state == "self_checking"  # nothing changed
    assert engine.list_cases(workflow="rectification") == []


def test_a_draw_from_a_county_with_no_outfall_in_the_ledger_is_refused(engine: Engine) -> None:
    engine.load([ROOT / "workflows"])
    case_id = _open_check(engine)
    engine.fire(case_id, "report_self_check", COUNTY, {"results": []})
    with pytest.raises(Refused, match="the ledger has no outfall in donge: nothing to draw"):
        engine.fire(case_id, "draw_sample", CITY, DRAW)
    assert engine.get_case(case_id).state == "awaiting_spot_check"


def test_spot_check_draws_from_the_ledger_and_records_the_draw(
    engine: Engine, county_ledger: list[dict[str, Any]]
) -> None:
    case_id = _open_check(engine)
    engine.fire(case_id, "report_self_check", COUNTY, {"results": []})
    payload = {**DRAW, "conflicts": {"张伟": ["donge"]}}
    view = engine.fire(case_id, "draw_sample", CITY, payload)
    assert view.state == "spot_checking"
    record = view.data["spot_check"]
    targets = view.data["spot_check_targets"]
    assert {p["code"] for p in record["pool"]} == {p["code"] for p in _pool(20)}
    assert record["ratio"] == 0.05  # config/reference/sampling.yaml: the caller cannot set it
    assert record["weights"]["park_wwtp"] == 3
    assert record["weights"]["other"] == 1
    assert record["conflicts"] == {"张伟": ["donge"]}
    assert len(targets) == 1
    assert all("张伟" not in t["inspectors"] and len(t["inspectors"]) >= 2 for t in targets)
    # the commitment is in the history, not only in the current data
    drawn = [e for e in engine.history(case_id) if e.trigger == "draw_sample"]
    assert record["commitment"]["secret_sha256"] in str(drawn[0].patch)
    # revealed with the results, it re-draws the same sample
    results = [{"outfall_code": t["outfall_code"], "passed": True} for t in targets]
    view = engine.fire(case_id, "report_spot_check", CITY, {"results": results})
    checked = verify_draw(view.data["publication"])
    assert checked.ok, checked.problems
    assert checked.targets == targets


def test_city_results_must_cover_the_sample_and_failures_go_to_rectification(
    engine: Engine, county_ledger: list[dict[str, Any]]
) -> None:
    case_id = _open_check(engine)
    engine.fire(case_id, "report_self_check", COUNTY, {"results": []})
    view = engine.fire(case_id, "draw_sample", CITY, DRAW)
    codes = [t["outfall_code"] for t in view.data["spot_check_targets"]]
    with pytest.raises(InputRefused, match=r"\$\.results: no result for sampled outfall"):
        engine.fire(case_id, "report_spot_check", CITY, {"results": []})
    results = [{"outfall_code": c, "passed": True} for c in [*codes, "371521-0001"]]
    with pytest.raises(InputRefused) as refused:
        engine.fire(case_id, "report_spot_check", CITY, {"results": results})
    path = f"$.results[{len(codes)}].outfall_code"
    assert refused.value.errors == [FieldError(path, "371521-0001 is not in the drawn sample")]
    assert engine.get_case(case_id).state == "spot_checking"  # nothing changed
    results = [{"outfall_code": codes[0], "passed": False, "finding": "晴天排水"}]
    results += [{"outfall_code": c, "passed": True} for c in codes[1:]]
    view = engine.fire(case_id, "report_spot_check", CITY, {"results": results})
    assert view.state == "provincial_verification"
    assert _rectification(engine, codes[0]).data["finding"] == "city: 晴天排水"


def test_province_findings_wait_for_the_city_to_assign_them(
    engine: Engine, county_ledger: list[dict[str, Any]]
) -> None:
    case_id = _open_check(engine)
    engine.fire(case_id, "report_self_check", COUNTY, {"results": []})
    view = engine.fire(case_id, "draw_sample", CITY, DRAW)
    results = [
        {"outfall_code": t["outfall_code"], "passed": True} for t in view.data["spot_check_targets"]
    ]
    engine.fire(case_id, "report_spot_check", CITY, {"results": results})
    verdict = [
        {
            "outfall_code": "371524-0008",
            "passed": False,
            "finding": "未按要求规范化建设",
            "rectify_by": "2024-09-30",
        }
    ]
    view = engine.fire(case_id, "report_verification", PROVINCE, {"results": verdict})
    assert view.state == "province_findings"
    assert engine.list_cases(workflow="rectification", subject="371524-0008") == []
    view = engine.fire(case_id, "assign_findings", CITY)
    assert view.state == "verified"
    assert view.final
    rect = _rectification(engine, "371524-0008")
    assert rect.data["deadline"] == "2024-09-30"
    assert view.data["findings"][0]["rectification_case_id"] == rect.id


def test_a_clean_provincial_verification_closes_the_check(
    engine: Engine, county_ledger: list[dict[str, Any]]
) -> None:
    case_id = _open_check(engine)
    engine.fire(case_id, "report_self_check", COUNTY, {"results": []})
    view = engine.fire(case_id, "draw_sample", CITY, DRAW)
    results = [
        {"outfall_code": t["outfall_code"], "passed": True} for t in view.data["spot_check_targets"]
    ]
    engine.fire(case_id, "report_spot_check", CITY, {"results": results})
    view = engine.fire(case_id, "report_verification", PROVINCE, {"results": results})
    assert view.state == "verified"
    assert view.data["results"]["province"] == {
        "checked": len(results),
        "failed": 0,
        "reported_at": view.data["results"]["province"]["reported_at"],
        "reported_by": PROVINCE.name,
    }


def test_an_overdue_self_check_escalates_the_county(
    engine: Engine, clock: FakeClock, county_ledger: list[dict[str, Any]]
) -> None:
    case = engine.create_case(
        "effectiveness_check", {"county": "chiping", "year": 2024}, CITY, subject="chiping:2024"
    )
    county = Actor("茌平区政府", "county_gov", "chiping")
    engine.fire(
        case.id,
        "submit_plan",
        county,
        {"plan": {"summary": "年度自查"}, "self_check_due": "2024-05-31"},
    )
    pass_time(engine, clock, datetime(2024, 5, 31, 12, tzinfo=UTC))
    assert engine.list_cases(workflow="escalation") == []  # not yet: the end of the local day
    pass_time(engine, clock, datetime(2024, 6, 1, 0, tzinfo=UTC))
    (escalation,) = engine.list_cases(workflow="escalation")
    assert escalation.case.subject == "chiping:effectiveness_check"
    assert escalation.state == "notice"
    assert escalation.data["target"] == "chiping"
    view = engine.get_case(case.id)
    assert view.data["overdue"] is True
    assert view.data["escalation_case_id"] == escalation.id
