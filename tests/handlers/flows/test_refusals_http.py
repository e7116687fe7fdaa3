"""A caller's mistake in a shipped workflow is a 4xx problem naming the field, over HTTP
(issue 14): values longer than the column they end up in, dates that name no day, outfalls not in
the ledger, departments not in the reference data, no common superior, no exceedance."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.domain import load_domain
from engine.errors import Refused
from engine.handlers import Actor
from engine.runtime import Engine
from tests.attachkit import png
from tests.conftest import ROOT, Run
from tests.engine.api.helpers import problem
from tests.handlers.flows.support import outfall, seed_ledger
from tests.handlers.flows.test_workflow_files import PATHS, example, load_definition

Headers = dict[str, str]
ADMIN = Actor("管理员", "admin")
LONG_CODE = "371524-" + "X" * 293 + "'; SELECT 1; --"  # 315 characters, SQL-looking
WITH_CODE = sorted(
    path.stem
    for path in (ROOT / "workflows").glob("*.yaml")
    if "outfall_code" in (yaml.safe_load(path.read_text("utf-8"))["data_schema"]["properties"])
)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    engine.load([ROOT / "workflows"])
    seed_ledger(engine, outfall("371524-0001", "donge"))
    with TestClient(create_app(engine, load_domain("handlers"))) as test_client:
        yield test_client


@pytest.fixture
def admin(engine: Engine) -> Headers:
    _, secret = create_token(engine, "管理员", "admin")
    return {"Authorization": f"Bearer {secret}"}


def data_for(workflow: str, **fields: Any) -> dict[str, Any]:
    d = load_definition(ROOT / "workflows" / f"{workflow}.yaml")
    return {**example(d.data_schema), **PATHS.get(workflow, {}).get("data", {}), **fields}


def refused_at(answer: Any, status: int, json_path: str) -> dict[str, Any]:
    body = problem(answer, status, "invalid-input" if status == 422 else "refused")
    if status == 422:
        assert json_path in [e["json_path"] for e in body["errors"]], body
    leaks = ("Traceback", "sqlalchemy", "psycopg", "INSERT INTO", "[SQL:")
    assert not [w for w in leaks if w in answer.text], answer.text
    return body


def open_case(client: TestClient, who: Headers, workflow: str, data: dict[str, Any]) -> Any:
    return client.post("/api/v1/cases", json={"workflow": workflow, "data": data}, headers=who)


def fire(client: TestClient, who: Headers, case_id: int, trigger: str, **payload: Any) -> Any:
    body = {"trigger": trigger, "payload": payload}
    return client.post(f"/api/v1/cases/{case_id}/transitions", json=body, headers=who)


@pytest.mark.parametrize("workflow", WITH_CODE)
def test_an_outfall_code_longer_than_its_column_is_refused_by_the_schema(
    client: TestClient, admin: Headers, workflow: str
) -> None:
    """The code becomes a case's or a ledger record's subject key (200 characters): the data
    schema bounds it, so no backend is asked to store it (PostgreSQL answered with SQL)."""
    answer = open_case(client, admin, workflow, data_for(workflow, outfall_code=LONG_CODE))
    refused_at(answer, 422, "$.data.outfall_code")


def test_a_deadline_that_names_no_day_is_refused_at_its_field(
    client: TestClient, admin: Headers
) -> None:
    """The rectification deadline arms a timer: a date of the right shape but no real day."""
    data = data_for("rectification", deadline="2025-02-30")
    refused_at(open_case(client, admin, "rectification", data), 422, "$.data.deadline")


def test_an_exceedance_on_an_outfall_not_in_the_ledger_is_refused(
    client: TestClient, admin: Headers
) -> None:
    exceedance = {"parameter": "COD", "value": 80, "limit": 50}
    data = data_for(
        "enforcement", source="exceedance", outfall_code="371524-9999", exceedance=exceedance
    )
    refused_at(open_case(client, admin, "enforcement", data), 422, "$.data.outfall_code")


def test_a_value_not_above_its_limit_is_no_exceedance(client: TestClient, admin: Headers) -> None:
    exceedance = {"parameter": "COD", "value": 50, "limit": 50}
    data = data_for(
        "enforcement", source="exceedance", outfall_code="371524-0001", exceedance=exceedance
    )
    refused_at(open_case(client, admin, "enforcement", data), 422, "$.data.exceedance.value")


def test_a_dispute_with_no_common_superior_is_refused(client: TestClient, admin: Headers) -> None:
    opened = open_case(client, admin, "responsibility", data_for("responsibility"))
    assert opened.status_code == 201, opened.text
    answer = fire(client, admin, opened.json()["id"], "refer_dispute", counterpart="shandong")
    refused_at(answer, 422, "$.payload.counterpart")


@pytest.mark.parametrize("entrance", ["open_case", "put_subject"])
def test_a_handler_key_longer_than_its_column_is_refused_before_the_store(
    engine: Engine, entrance: str
) -> None:
    """Defence in depth for handlers that make keys from unbounded fields: a refusal (409),
    never a backend error, and nothing written."""
    engine.load([ROOT / "workflows"])
    calls = {
        "open_case": lambda ops: ops.open_case(
            "rectification", data_for("rectification"), LONG_CODE
        ),
        "put_subject": lambda ops: ops.put_subject(
            "outfall", LONG_CODE, outfall(LONG_CODE), "donge"
        ),
    }
    with engine.transaction(ADMIN) as (_, ops), pytest.raises(Refused, match="longer than the 200"):
        calls[entrance](ops)
    with engine.store.read() as tx:
        assert tx.get_subject("outfall", LONG_CODE) is None


def test_a_self_check_result_for_an_outfall_not_in_the_ledger_is_refused(
    client: TestClient, admin: Headers
) -> None:
    opened = open_case(client, admin, "effectiveness_check", data_for("effectiveness_check"))
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    plan = fire(client, admin, case_id, "submit_plan", plan={"summary": "全县排查"})
    assert plan.status_code == 200, plan.text
    results = [{"outfall_code": "371524-9999", "passed": False, "finding": "无标识牌"}]
    answer = fire(client, admin, case_id, "report_self_check", results=results)
    refused_at(answer, 422, "$.payload.results[0].outfall_code")


def test_a_reroute_to_a_department_not_in_the_reference_data_is_refused(
    client: TestClient, admin: Headers
) -> None:
    photo = client.post(
        "/api/v1/workflows/public_report/attachments",
        files={"file": ("0001.png", png(), "image/png")},
        data={"field": "photos"},
        headers=admin,
    )
    assert photo.status_code == 201, photo.text
    data = {
        **PATHS["public_report"]["data"],
        "reporter": {"name": "王先生", "phone": "13800000000"},
        "photos": [photo.json()],
    }
    opened = open_case(client, admin, "public_report", data)
    assert opened.status_code == 201, opened.text
    answer = fire(client, admin, opened.json()["id"], "reroute", department="火星局", reason="x")
    refused_at(answer, 422, "$.payload.department")


def test_the_cli_answers_a_refused_field_with_exit_code_7(run: Run) -> None:
    run("load")
    data = json.dumps(data_for("rectification", deadline="2025-02-30"), ensure_ascii=False)
    out = run("case", "create", "rectification", "--data", data, code=7)
    assert "$.data.deadline" in out or "$.deadline" in out, out
    long = json.dumps(data_for("responsibility", outfall_code=LONG_CODE), ensure_ascii=False)
    assert "outfall_code" in run("case", "create", "responsibility", "--data", long, code=7)


def _token(engine: Engine, name: str, role: str, jurisdiction: str | None) -> Headers:
    _, secret = create_token(engine, name, role, jurisdiction)
    return {"Authorization": f"Bearer {secret}"}


def test_a_water_bureau_penalty_for_over_limit_discharge_is_a_409(
    engine: Engine, client: TestClient, admin: Headers
) -> None:
    """三(四)3 (issue 15 item 4): the violation table decides who enforces; a refusal, not a 500."""
    data = {"source": "patrol", "county": "donge", "violation_type": "over_limit"}
    opened = open_case(client, admin, "enforcement", data)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    for trigger, payload in (("start_tracing", {}), ("record_units", {"units": [{"name": "甲"}]})):
        assert fire(client, admin, case_id, trigger, **payload).status_code == 200
    water = _token(engine, "聊城市水利局", "water_city", "liaocheng")
    answer = fire(client, water, case_id, "decide_penalty", penalty_decision="聊水罚〔2024〕1号")
    body = refused_at(answer, 409, "")
    assert "生态环境主管部门" in body["detail"]


def test_a_sector_department_adding_another_sectors_outfall_is_a_403(
    engine: Engine, client: TestClient
) -> None:
    water = _token(engine, "聊城市水利局", "water_city", "liaocheng")
    record = {
        "code": "371524-0301",
        "name": "东阿县某化工公司排污口",
        "sub_type": "industrial_enterprise",
        "county": "donge",
        "river": "tuhaihe",
    }
    answer = client.post("/api/v1/outfalls", json=record, headers=water)
    problem(answer, 403, "forbidden")
    irrigation = {**record, "code": "371524-0302", "sub_type": "irrigation_district"}
    irrigation["name"] = "东阿县某灌区退水口"
    assert client.post("/api/v1/outfalls", json=irrigation, headers=water).status_code == 201
