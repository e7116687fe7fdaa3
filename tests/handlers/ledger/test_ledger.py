"""The outfall ledger: validation, the automatic responsibility case, reads, filters, scope."""

from __future__ import annotations

import pytest

from engine.errors import ConfigError, FieldError, Forbidden, InvalidInput
from engine.handlers import Actor
from engine.runtime import Engine
from handlers.ledger import KIND, Ledger, OutfallExists, OutfallNotFound, check_outfall
from tests.handlers.conftest import Record


def paths(error: InvalidInput) -> dict[str, str]:
    return {e.json_path: e.message for e in error.errors}


def test_a_new_outfall_is_stored_with_defaults_and_starts_its_responsibility_case(
    ledger: Ledger, admin: Actor, record: Record
) -> None:
    view = ledger.add(record(), admin)
    assert view.record["basin"] == "haihe"  # from the river
    assert view.record["status"] == "active"
    assert view.record["rectification_status"] == "pending"
    assert view.record["responsible_fallback"] is False
    [case] = view.cases
    assert (case.workflow, case.state, case.subject) == ("responsibility", "tracing", "371502-0001")
    assert case.data == {
        "outfall_code": "371502-0001",
        "county": "dongchangfu",
        "sub_type": "industrial_enterprise",
        "river": "tuhaihe",
        "basin": "haihe",
    }
    assert case.jurisdiction == "dongchangfu"
    [created] = ledger.engine.history(case.id)
    assert (created.actor, created.role) == ("ledger:test-admin", "system")


def test_every_bad_field_is_reported_with_its_path_and_nothing_is_written(
    ledger: Ledger, admin: Actor, record: Record
) -> None:
    bad = record(
        code="bad code",
        name="",
        sub_type="factory",
        county="liaocheng",  # the city, not a county
        river="huanghe",
        basin="haihe",  # the Yellow River is not in the Hai He basin
        longitude=200,
        entry_mode="隧道",
        found_at="2023-02-30",
        colour="red",
    )
    del bad["latitude"]
    with pytest.raises(InvalidInput) as caught:
        ledger.add(bad, admin)
    found = paths(caught.value)
    assert set(found) == {
        "$.code",
        "$.name",
        "$.sub_type",
        "$.county",
        "$.basin",
        "$.longitude",
        "$.latitude",
        "$.entry_mode",
        "$.found_at",
        "$.colour",
    }
    assert "unknown outfall sub-type 'factory'" in found["$.sub_type"]
    assert "not a county or zone" in found["$.county"]
    assert "yellow_river" in found["$.basin"]
    assert "not a date" in found["$.found_at"]
    assert found["$.colour"] == "is not a ledger field"
    assert ledger.count() == 0
    assert ledger.engine.list_cases() == []


def test_required_fields_and_coordinates_out_of_china(admin: Actor, ledger: Ledger) -> None:
    errors = check_outfall(ledger.reference, {"code": "371502-0009", "latitude": 95})
    assert FieldError("$.name", "is required") in errors
    assert FieldError("$.sub_type", "is required") in errors
    assert {e.json_path for e in errors} >= {"$.county", "$.river", "$.latitude"}


def test_zones_count_as_counties(ledger: Ledger, admin: Actor, record: Record) -> None:
    view = ledger.add(record("371571-0001", county="jingkai", river="xiaoyunhe"), admin)
    assert view.record["county"] == "jingkai"


def test_the_same_code_twice_is_a_conflict(ledger: Ledger, admin: Actor, record: Record) -> None:
    ledger.add(record(), admin)
    with pytest.raises(OutfallExists, match="already in the ledger"):
        ledger.add(record(name="another"), admin)
    assert len(ledger.get("371502-0001").cases) == 1


def test_without_the_responsibility_workflow_nothing_is_written(
    engine: Engine, admin: Actor, record: Record
) -> None:
    ledger = Ledger(engine)  # nothing published
    with pytest.raises(ConfigError, match="qingliu load"):
        ledger.add(record(), admin)
    with engine.store.read() as tx:
        assert tx.get_subject(KIND, "371502-0001") is None


def test_update_merges_checks_and_follows_the_river(
    ledger: Ledger, admin: Actor, record: Record
) -> None:
    ledger.add(record(), admin)
    view = ledger.update("371502-0001", {"river": "huanghe", "address": "黄河大堤1号"}, admin)
    assert view.record["basin"] == "yellow_river"
    assert view.record["address"] == "黄河大堤1号"
    assert view.record["name"] == "东昌府区化工1号排污口"
    with pytest.raises(InvalidInput) as caught:
        ledger.update("371502-0001", {"code": "371502-0002"}, admin)
    assert paths(caught.value) == {"$.code": "the code cannot change"}
    with pytest.raises(InvalidInput):
        ledger.update("371502-0001", {"status": "gone"}, admin)
    with pytest.raises(OutfallNotFound):
        ledger.update("371502-9999", {"name": "x"}, admin)
    assert ledger.get("371502-0001").record["status"] == "active"


def test_fields_written_by_flows_survive_an_update(
    ledger: Ledger, admin: Actor, record: Record
) -> None:
    ledger.add(record(), admin)
    with ledger.engine.transaction(admin) as (tx, ops):
        stored = tx.get_subject(KIND, "371502-0001")
        assert stored is not None
        ops.put_subject(KIND, "371502-0001", {**stored, "flow_note": "x"}, "dongchangfu")
    view = ledger.update("371502-0001", {"name": "新名称"}, admin)
    assert view.record["flow_note"] == "x"


def test_list_filters_pages_and_counts(ledger: Ledger, admin: Actor, record: Record) -> None:
    ledger.add(record("371502-0001"), admin)
    ledger.add(record("371502-0002", sub_type="urban_wwtp"), admin)
    ledger.add(record("371521-0001", county="yanggu", river="huanghe"), admin)
    ledger.add(record("371521-0002", county="yanggu", river="jindihe", status="abolished"), admin)
    assert [v.code for v in ledger.list()] == [
        "371502-0001",
        "371502-0002",
        "371521-0001",
        "371521-0002",
    ]
    assert [v.code for v in ledger.list(county="yanggu")] == ["371521-0001", "371521-0002"]
    assert [v.code for v in ledger.list(sub_type="urban_wwtp")] == ["371502-0002"]
    assert [v.code for v in ledger.list(basin="yellow_river", status="active")] == ["371521-0001"]
    assert [v.code for v in ledger.list(after="371502-0002", limit=1)] == ["371521-0001"]
    assert ledger.count(basin="yellow_river") == 2
    with pytest.raises(InvalidInput):
        ledger.list(colour="red")


def test_a_county_sees_and_writes_only_its_own_outfalls(
    ledger: Ledger, admin: Actor, record: Record
) -> None:
    ledger.add(record("371502-0001"), admin)
    ledger.add(record("371521-0001", county="yanggu", river="huanghe"), admin)
    yanggu = Actor("阳谷县生态环境分局", "county_eeb", "yanggu")
    assert [v.code for v in ledger.list(yanggu)] == ["371521-0001"]
    assert [v.code for v in ledger.list(yanggu, county="dongchangfu")] == []
    with pytest.raises(OutfallNotFound):
        ledger.get("371502-0001", yanggu)
    with pytest.raises(Forbidden):
        ledger.add(record("371502-0003"), yanggu)
    view = ledger.add(record("371521-0002", county="yanggu", river="jindihe"), yanggu)
    assert view.cases[0].workflow == "responsibility"
    applicant = Actor("某企业", "applicant", "yanggu")
    with pytest.raises(Forbidden, match="may not change the ledger"):
        ledger.add(record("371521-0003", county="yanggu", river="jindihe"), applicant)


def test_get_links_every_case_about_the_outfall(
    ledger: Ledger, admin: Actor, record: Record
) -> None:
    ledger.add(record(), admin)
    eeb = Actor("东昌府区生态环境分局", "county_eeb", "dongchangfu")
    [case] = ledger.get("371502-0001").cases
    ledger.engine.fire(
        case.id, "identify", eeb, {"responsible_party": "某化工公司", "needs_rectification": True}
    )
    view = ledger.get("371502-0001")
    assert [c.workflow for c in view.cases] == ["responsibility", "rectification"]
    assert view.record["responsible_party"] == "某化工公司"
    out = view.to_json(ledger.state_titles())
    assert out["cases"][0]["state_title"] == "责任主体已确定"
    assert out["cases"][1]["href"] == f"/api/v1/cases/{view.cases[1].id}"
