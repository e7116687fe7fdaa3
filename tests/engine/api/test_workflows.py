"""Definitions over HTTP: list, read (JSON, YAML, older versions), validate, publish."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.engine.api.conftest import FIXTURE
from tests.engine.api.helpers import case_body, problem
from tests.engine.definition.test_loader import alias_bomb

Tokens = dict[str, dict[str, str]]
YAML = {"content-type": "application/yaml"}


def put(client: TestClient, name: str, text: str | bytes, headers: dict[str, str]) -> Any:
    return client.put(f"/api/v1/workflows/{name}", content=text, headers={**headers, **YAML})


def test_list_and_read_a_definition(client: TestClient, tokens: Tokens) -> None:
    listing = client.get("/api/v1/workflows", headers=tokens["applicant"])
    assert listing.status_code == 200
    [item] = [i for i in listing.json()["items"] if i["name"] == "api_permit"]
    assert (item["version"], item["title"]) == (1, "入河排污口许可（API 测试）")
    full = client.get("/api/v1/workflows/api_permit", headers=tokens["applicant"]).json()
    assert (full["name"], full["version"]) == ("api_permit", 1)
    assert full["data_schema"]["required"] == ["county", "outfall_code"]
    assert {"name": "approved", "title": "已批准", "final": True} in full["states"]
    approve = next(t for t in full["transitions"] if t["trigger"] == "approve")
    assert (approve["source"], approve["dest"], approve["roles"]) == (
        ["reviewing"],
        "approved",
        ["eeb_city"],
    )
    assert full["timers"]["reviewing"][0]["fires"] == "overdue"


def test_yaml_format_returns_the_source_text(client: TestClient, tokens: Tokens) -> None:
    response = client.get("/api/v1/workflows/api_permit?format=yaml", headers=tokens["county"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert response.text == FIXTURE.read_text(encoding="utf-8")


def test_unknown_workflow_or_version_is_404(client: TestClient, tokens: Tokens) -> None:
    problem(client.get("/api/v1/workflows/nope", headers=tokens["city"]), 404, "workflow-not-found")
    response = client.get("/api/v1/workflows/api_permit?version=9", headers=tokens["city"])
    assert "version 9" in problem(response, 404, "workflow-not-found")["detail"]
    response = client.get("/api/v1/workflows/api_permit?format=xml", headers=tokens["city"])
    problem(response, 422, "invalid-request")


def test_validate_reports_line_column_and_path(client: TestClient, tokens: Tokens) -> None:
    good = client.post(
        "/api/v1/workflows/validate", content=FIXTURE.read_bytes(), headers=tokens["county"]
    )
    assert good.json() == {"valid": True, "errors": []}
    broken = FIXTURE.read_text(encoding="utf-8").replace("dest: approved", "dest: aproved")
    response = client.post("/api/v1/workflows/validate", content=broken, headers=tokens["county"])
    assert response.status_code == 200
    result = response.json()
    assert result["valid"] is False
    line = broken.splitlines().index("    dest: aproved") + 1
    error = next(e for e in result["errors"] if e["line"] == line)
    assert error["path"] == "$.transitions[4].dest"
    assert error["column"] == 11
    assert "aproved" in error["message"]
    not_text = client.post("/api/v1/workflows/validate", content=b"\xff", headers=tokens["city"])
    assert not_text.json()["valid"] is False
    assert "UTF-8" in not_text.json()["errors"][0]["message"]


def test_validate_names_a_remote_ref_and_a_pattern_re2_cannot_run(
    client: TestClient, tokens: Tokens
) -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    assert "  properties:\n" in text
    broken = text.replace(
        "  properties:\n",
        "  properties:\n    remote: {$ref: 'https://schemas.example/x.json'}\n"
        "    code: {type: string, pattern: '^(?=A)[A-Z]+$'}\n",
        1,
    )
    result = client.post("/api/v1/workflows/validate", content=broken, headers=tokens["city"])
    assert result.status_code == 200
    line = broken.splitlines().index("    remote: {$ref: 'https://schemas.example/x.json'}") + 1
    remote, pattern = result.json()["errors"]
    assert (remote["line"], pattern["line"]) == (line, line + 1)
    assert remote["message"].startswith("$ref 'https://schemas.example/x.json' is not local")
    assert pattern["message"].startswith("pattern '^(?=A)[A-Z]+$' cannot be used")


def test_a_text_over_the_yaml_limits_is_refused_as_a_problem(
    client: TestClient, tokens: Tokens
) -> None:
    bomb = client.post("/api/v1/workflows/validate", content=alias_bomb(), headers=tokens["city"])
    body = problem(bomb, 422, "invalid-definition")
    [error] = body["errors"]
    assert (error["line"], error["column"]) == (6, 4)
    assert error["message"].startswith("expands to more than")
    nested = client.post("/api/v1/workflows/validate", content="[" * 5000, headers=tokens["city"])
    [error] = problem(nested, 422, "invalid-definition")["errors"]
    assert error["message"] == "nested deeper than 64"
    put = client.put(
        "/api/v1/workflows/api_permit", content=alias_bomb(), headers={**tokens["admin"], **YAML}
    )
    assert problem(put, 422, "invalid-definition")["errors"][0]["line"] == 6


def test_admin_publishes_a_new_version_and_running_cases_keep_theirs(
    client: TestClient, tokens: Tokens
) -> None:
    running = client.post("/api/v1/cases", json=case_body(), headers=tokens["city"]).json()
    text = FIXTURE.read_text(encoding="utf-8").replace("（API 测试）", "（第二版）")
    created = put(client, "api_permit", text, tokens["admin"])
    assert created.status_code == 201
    assert created.json() == {"name": "api_permit", "version": 2, "created": True}
    assert created.headers["location"] == "/api/v1/workflows/api_permit?version=2"
    again = put(client, "api_permit", text, tokens["admin"])
    assert again.status_code == 200
    assert again.json() == {"name": "api_permit", "version": 2, "created": False}
    latest = client.get("/api/v1/workflows/api_permit", headers=tokens["city"]).json()
    older = client.get("/api/v1/workflows/api_permit?version=1", headers=tokens["city"]).json()
    assert (latest["version"], latest["title"]) == (2, "入河排污口许可（第二版）")
    assert (older["version"], older["title"]) == (1, "入河排污口许可（API 测试）")
    still = client.get(f"/api/v1/cases/{running['id']}", headers=tokens["city"]).json()
    assert still["workflow_version"] == 1
    fresh = client.post("/api/v1/cases", json=case_body(code="OF-2"), headers=tokens["city"])
    assert fresh.json()["workflow_version"] == 2


def test_publishing_is_for_admins_only(client: TestClient, tokens: Tokens) -> None:
    response = put(client, "api_permit", FIXTURE.read_text(encoding="utf-8"), tokens["city"])
    assert "admin" in problem(response, 403, "forbidden")["detail"]


def test_an_invalid_definition_is_422_with_the_error_list(
    client: TestClient, tokens: Tokens
) -> None:
    broken = FIXTURE.read_text(encoding="utf-8").replace("initial: submitted", "initial: nowhere")
    body = problem(put(client, "api_permit", broken, tokens["admin"]), 422, "invalid-definition")
    [error] = body["errors"]
    assert error["path"] == error["json_path"] == "$.initial"
    assert error["line"] == broken.splitlines().index("initial: nowhere") + 1
    assert "nowhere" in error["message"]
    text = FIXTURE.read_text(encoding="utf-8")
    body = problem(put(client, "other_name", text, tokens["admin"]), 422, "invalid-definition")
    assert [e["path"] for e in body["errors"]] == ["$.name"]
    assert client.get("/api/v1/workflows/other_name", headers=tokens["admin"]).status_code == 404


def test_a_huge_definition_is_413(client: TestClient, tokens: Tokens) -> None:
    response = put(client, "api_permit", "#" * (1024 * 1024 + 1), tokens["admin"])
    problem(response, 413, "payload-too-large")
