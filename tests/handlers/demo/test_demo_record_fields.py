"""The demo city's records carry the national rules' fields (issue 19): permits and credit codes
of enterprises and plants, supervisors per sub-type, zones, regimes, the limits of their
standards, standardisation consistent with rectification; and the public page shows the
permit number and the supervisor, never the credit code."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.domain import load_domain
from engine.settings import Settings
from handlers.demo.city import DemoResult
from handlers.ledger.record import CREDIT_CODE_PATTERN, FIELDS, PERMIT_PATTERN, check_outfall
from handlers.reference import sectors
from tests.handlers.demo.conftest import demo_ledger

PERMITTED = {"industrial_enterprise", "park_wwtp", "urban_wwtp"}


def _records(demo_city: tuple[Settings, DemoResult]) -> tuple[Any, list[dict[str, Any]]]:
    for ledger in demo_ledger(demo_city[0]):
        return ledger.reference, [v.record for v in ledger.list(limit=1000)]
    raise AssertionError("no ledger")


def test_every_record_has_the_fields_and_keeps_the_rules(
    demo_city: tuple[Settings, DemoResult],
) -> None:
    reference, records = _records(demo_city)
    for record in records:
        fields = {k: v for k, v in record.items() if k in FIELDS}  # not `setup` and the like
        assert check_outfall(reference, fields) == [], record["code"]
        assert {"water_function_zone", "zone_target", "discharge_regime"} <= record.keys()
        sub = record["sub_type"]
        assert record["supervising_department"] in sectors.supervisors(reference, sub)
        if sub in PERMITTED:
            permit, credit = record["permit_number"], record["responsible_credit_code"]
            assert re.match(PERMIT_PATTERN, permit)
            assert re.match(CREDIT_CODE_PATTERN, credit)
            assert permit.startswith(credit)
            changed = (record.get("setup_change") or {}).get("kind") == "change"  # the demo's
            assert record["discharge_regime"] == ("intermittent" if changed else "continuous")
        else:
            assert "permit_number" not in record
            assert "limits" not in record


def test_limits_follow_the_standard_of_the_sub_type(
    demo_city: tuple[Settings, DemoResult],
) -> None:
    _, records = _records(demo_city)
    limits = {r["sub_type"]: r["limits"] for r in records if "limits" in r}
    assert limits["urban_wwtp"] == {"COD": 50, "NH3-N": 5, "TP": 0.5, "TN": 15}  # 一级A
    assert limits["park_wwtp"] == limits["urban_wwtp"]
    assert limits["industrial_enterprise"] == {"COD": 100, "NH3-N": 15}


def test_standardisation_is_consistent_with_rectification(
    demo_city: tuple[Settings, DemoResult],
) -> None:
    _, records = _records(demo_city)
    regularised = [r for r in records if r.get("rectification_mode") == "regularise"]
    assert regularised
    for record in regularised:
        done = record.get("rectification_status") == "done"
        assert record["standardisation_status"] in (("done",) if done else ("in_progress", "done"))
    untouched = [r for r in records if "rectification_mode" not in r]
    assert {r["standardisation_status"] for r in untouched} == {"not_started"}


def test_the_public_page_shows_permit_and_supervisor_not_the_credit_code(
    demo_city: tuple[Settings, DemoResult],
) -> None:
    for ledger in demo_ledger(demo_city[0]):
        record = next(v.record for v in ledger.list(limit=1000) if "permit_number" in v.record)
        with TestClient(create_app(ledger.engine, load_domain("handlers"))) as client:
            page = client.get(f"/o/{record['code']}")
        assert page.status_code == 200, page.text
        assert record["permit_number"] in page.text
        assert "本排污口监管部门" in page.text
        assert record["responsible_credit_code"] not in page.text.replace(
            record["permit_number"], ""
        )
