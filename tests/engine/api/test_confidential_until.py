"""A confidential field kept until a date (``confidential: {..., until: {data: field}}``): the
inspected county does not read the outfalls drawn for an unannounced inspection before the
inspection day, in the case or its history; from that day on it does (issue 13)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.clock import FakeClock
from engine.definition.validate import check_definition
from engine.handlers import Registry
from engine.runtime import Engine
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "core" / "inspection.yaml"
TARGETS = ["371524-0001", "371524-0007"]


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    engine.load([FIXTURE])
    with TestClient(create_app(engine)) as test_client:
        yield test_client


def _headers(engine: Engine, name: str, role: str, jurisdiction: str) -> dict[str, str]:
    _, secret = create_token(engine, name, role, jurisdiction)
    return {"Authorization": f"Bearer {secret}"}


def test_the_targets_are_hidden_from_the_county_until_the_inspection_day(
    client: TestClient, engine: Engine, clock: FakeClock
) -> None:
    city = _headers(engine, "聊城市生态环境局", "eeb_city", "liaocheng")
    county = _headers(engine, "东阿县生态环境分局", "county_eeb", "donge")
    data = {"county": "donge", "inspection_date": "2024-03-05", "targets": TARGETS}
    created = client.post(
        "/api/v1/cases", json={"workflow": "inspection", "data": data}, headers=city
    )
    assert created.status_code == 201, created.text
    path = f"/api/v1/cases/{created.json()['id']}"

    def seen(headers: dict[str, str]) -> tuple[dict[str, object], list[object]]:
        case = client.get(path, headers=headers).json()
        history = client.get(f"{path}/history", headers=headers).json()["items"]
        return case, [e["patch"] for e in history] + [e["payload"] for e in history]

    case, rows = seen(city)
    assert case["data"]["targets"] == TARGETS
    case, rows = seen(county)  # 2024-03-01: four days before
    assert "targets" not in case["data"]
    assert case["redacted"] == ["targets"]
    assert "371524-0001" not in str(rows)

    clock.set(datetime(2024, 3, 4, 15, 59, tzinfo=UTC))  # 23:59 the day before, in Shanghai
    assert "targets" not in seen(county)[0]["data"]
    clock.set(datetime(2024, 3, 4, 16, 0, tzinfo=UTC))  # 00:00 on the day
    case, rows = seen(county)
    assert case["data"]["targets"] == TARGETS
    assert "redacted" not in case
    assert "371524-0001" in str(rows)


def test_until_names_a_date_field_of_the_data() -> None:
    source = FIXTURE.read_text(encoding="utf-8")
    broken = source.replace("until: {data: inspection_date}", "until: {data: county}")
    _, problems = check_definition(broken, "inspection.yaml", Registry())
    assert [(p.line, p.message) for p in problems] == [
        (17, "until field 'county' must have format: date or date-time")
    ]
    missing = source.replace("until: {data: inspection_date}", "until: {data: day}")
    _, problems = check_definition(missing, "inspection.yaml", Registry())
    assert [p.message for p in problems] == ["until field 'day' is not in data_schema.properties"]
