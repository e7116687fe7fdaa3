"""``GET /api/v1/handlers`` (admin): the catalogue of guards and actions, with the uses in the
latest published version of each workflow."""

from __future__ import annotations

from fastapi.testclient import TestClient

from engine.runtime import Engine
from tests.conftest import ROOT
from tests.engine.api.helpers import problem

Tokens = dict[str, dict[str, str]]


def test_the_admin_reads_the_catalogue_with_uses_in_published_versions(
    client: TestClient, tokens: Tokens, api_engine: Engine
) -> None:
    api_engine.load([ROOT / "workflows" / "rectification.yaml"])
    answer = client.get("/api/v1/handlers", headers=tokens["admin"])
    assert answer.status_code == 200
    body = answer.json()
    entry = next(h for h in body["handlers"] if h["name"] == "set_rectification_deadline")
    assert entry["kind"] == "action"
    assert entry["writes"] == ["basin", "deadline", "deadline_basis", "found_on"]
    assert entry["reference"] == ["deadlines", "rivers"]
    assert entry["workflows"] == ["rectification"]
    [use] = entry["used_at"]
    assert use["at"].startswith("rectification v1:")
    assert use["path"] == "$.states.planning.on_enter[1]"
    assert "doc" not in entry or entry["doc"] is None
    # Only rectification is published here: the other flows' handlers are unused in it.
    assert "rung_notice" in body["unused"]
    assert body["unknown"] == []
    assert body["problems"] == []


def test_one_handler_in_full_and_an_unknown_name(client: TestClient, tokens: Tokens) -> None:
    one = client.get("/api/v1/handlers/merge_target_in_ledger", headers=tokens["admin"])
    assert one.status_code == 200
    assert one.json()["kind"] == "guard"
    assert "still in service" in one.json()["doc"]
    missing = client.get("/api/v1/handlers/no_such", headers=tokens["admin"])
    assert problem(missing, 404, "handler-not-found")["detail"] == (
        "no guard or action is named 'no_such'"
    )


def test_only_the_admin_reads_the_catalogue(client: TestClient, tokens: Tokens) -> None:
    for path in ("/api/v1/handlers", "/api/v1/handlers/merge_target_in_ledger"):
        assert client.get(path, headers=tokens["city"]).status_code == 403
        assert client.get(path).status_code == 401


def test_the_routes_are_declared_in_openapi(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "HandlerCatalogOut" in spec["components"]["schemas"]
    assert set(spec["paths"]["/api/v1/handlers/{name}"]["get"]["responses"]) >= {"200", "404"}
