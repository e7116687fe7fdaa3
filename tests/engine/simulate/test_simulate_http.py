"""``POST /api/v1/workflows/{name}/simulate``: admin only; the scenario as YAML or JSON, a draft
optionally; 200 with ``passed`` and the failures, 422 problem+json for a malformed scenario."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.definition.loader import load_yaml
from engine.runtime import Engine
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "simulate"
DRAFT = (FIXTURES / "notice.yaml").read_text(encoding="utf-8")
SCENARIO = (FIXTURES / "notice.scenario.yaml").read_text(encoding="utf-8")
URL = "/api/v1/workflows/sim_notice/simulate"
_TOKENS = itertools.count()


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    engine.load([ROOT / "workflows"])
    engine.publish(DRAFT)
    with TestClient(create_app(engine)) as test_client:
        yield test_client


def _auth(engine: Engine, role: str, jurisdiction: str | None = None) -> dict[str, str]:
    name = f"{role}-{next(_TOKENS)}"
    _, secret = create_token(engine, name, role, jurisdiction)
    return {"Authorization": f"Bearer {secret}"}


def test_a_yaml_scenario_runs_against_the_published_workflow(
    client: TestClient, engine: Engine
) -> None:
    headers = {**_auth(engine, "admin"), "Content-Type": "application/yaml"}
    before = engine.list_cases()
    response = client.post(URL, content=SCENARIO.encode(), headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["passed"] is True
    assert body["failures"] == []
    assert body["steps"] == body["steps_run"] == 9
    assert body["definitions"]["sim_notice"] == 1
    fired = [e for e in body["trace"] if e["timer"]]
    assert [(e["trigger"], e["to_title"], e["local"]) for e in fired] == [
        ("expire", "已逾期", "2024-10-01 00:00")
    ]
    assert engine.list_cases() == before  # the server's database has no new case


def test_a_failed_expectation_is_200_with_passed_false_and_its_line(
    client: TestClient, engine: Engine
) -> None:
    scenario = SCENARIO.replace("{state: late, history", "{state: answered, history")
    response = client.post(URL, json={"scenario": scenario}, headers=_auth(engine, "admin"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["passed"] is False
    (failure,) = body["failures"]
    assert failure["line"] == 22
    assert failure["path"] == "$.steps[6].expect.state"
    assert (failure["expected"], failure["found"]) == ("answered", "late (已逾期)")


def test_a_draft_is_tested_over_the_published_version(client: TestClient, engine: Engine) -> None:
    draft = DRAFT.replace("after: 2 working days", "after: 1 working days")
    scenario = load_yaml(SCENARIO)[0].value  # the scenario as a JSON object
    body = {"scenario": scenario, "draft": draft}
    response = client.post(URL, json=body, headers=_auth(engine, "admin"))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["definitions"]["sim_notice"] == 2  # the draft, over the published v1
    assert not result["passed"]
    assert "due (local time)" in result["failures"][0]["message"]
    assert [r.version for r in engine.definitions() if r.name == "sim_notice"] == [1]


def test_a_malformed_scenario_is_422_with_line_and_column(
    client: TestClient, engine: Engine
) -> None:
    scenario = SCENARIO.replace("  - advance: 2 working days", "  - advance: soon")
    response = client.post(URL, json={"scenario": scenario}, headers=_auth(engine, "admin"))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/invalid-scenario")
    (error,) = problem["errors"]
    assert (error["line"], error["column"], error["path"]) == (19, 14, "$.steps[3].advance")
    bad_draft = {"scenario": SCENARIO, "draft": "name: other\n"}
    response = client.post(URL, json=bad_draft, headers=_auth(engine, "admin"))
    assert response.status_code == 422
    assert response.json()["type"].endswith("/invalid-definition")
    response = client.post(URL, json={"scenaro": SCENARIO}, headers=_auth(engine, "admin"))
    assert response.status_code == 422
    assert {e["json_path"] for e in response.json()["errors"]} == {"$.scenaro", "$.scenario"}


def test_only_an_admin_may_simulate_and_an_unknown_workflow_is_404(
    client: TestClient, engine: Engine
) -> None:
    city = _auth(engine, "eeb_city", "liaocheng")
    assert client.post(URL, json={"scenario": SCENARIO}, headers=city).status_code == 403
    assert client.post(URL, json={"scenario": SCENARIO}).status_code == 401
    admin = _auth(engine, "admin")
    other = "/api/v1/workflows/no_such_flow/simulate"
    assert client.post(other, json={"scenario": SCENARIO}, headers=admin).status_code == 404


def test_the_route_is_in_the_openapi_document(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    route = schema["paths"]["/api/v1/workflows/{name}/simulate"]["post"]
    assert set(route["requestBody"]["content"]) == {"application/yaml", "application/json"}
    assert {"200", "403", "422"} <= set(route["responses"])
    assert "SimulateRequest" in schema["components"]["schemas"]
