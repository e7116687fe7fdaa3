"""The domain module's ``api_routers()`` are mounted under /api/v1 with the engine's auth."""

from __future__ import annotations

from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.domain import load_domain
from engine.runtime import Engine
from tests.engine.api.helpers import problem

Tokens = dict[str, dict[str, str]]


def test_domain_routes_get_the_actor_the_engine_and_problem_errors(
    api_engine: Engine, tokens: Tokens
) -> None:
    app = create_app(api_engine, load_domain("tests.engine.api.domain_example"))
    with TestClient(app) as client:
        response = client.get("/api/v1/whoami", headers=tokens["county"])
        assert response.json() == {
            "name": "茌平区分局",
            "role": "county_eeb",
            "jurisdiction": "chiping",
            "workflows": ["api_permit"],
        }
        problem(client.get("/api/v1/whoami"), 401, "unauthorized")
        missing = client.get("/api/v1/whoami/missing", headers=tokens["county"])
        problem(missing, 404, "workflow-not-found")
        assert "/api/v1/whoami" in client.get("/openapi.json").json()["paths"]


def test_no_domain_module_means_only_the_engine_routes(api_engine: Engine) -> None:
    paths = create_app(api_engine).openapi()["paths"]
    assert sorted(paths) == [
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/admin/cancel",
        "/api/v1/cases/{case_id}/admin/correct",
        "/api/v1/cases/{case_id}/admin/reassign",
        "/api/v1/cases/{case_id}/admin/reopen",
        "/api/v1/cases/{case_id}/attachments",
        "/api/v1/cases/{case_id}/attachments/{sha256}",
        "/api/v1/cases/{case_id}/diagram",
        "/api/v1/cases/{case_id}/history",
        "/api/v1/cases/{case_id}/transitions",
        "/api/v1/handlers",
        "/api/v1/handlers/{name}",
        "/api/v1/workflows",
        "/api/v1/workflows/validate",
        "/api/v1/workflows/{name}",
        "/api/v1/workflows/{name}/attachments",
        "/api/v1/workflows/{name}/diagram",
        "/api/v1/workflows/{name}/migrations",
        "/api/v1/workflows/{name}/simulate",
    ]
