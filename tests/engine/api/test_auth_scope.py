"""Who may call: bearer tokens (401), admin-only routes (403), and jurisdiction scope (404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api.tokens import TokenError, create_token, known_roles, revoke_token
from engine.runtime import Engine
from tests.engine.api.helpers import case_body, problem

Tokens = dict[str, dict[str, str]]
NewCase = Callable[..., dict[str, Any]]

ENDPOINTS = [
    ("GET", "/api/v1/workflows"),
    ("GET", "/api/v1/workflows/api_permit"),
    ("POST", "/api/v1/workflows/validate"),
    ("PUT", "/api/v1/workflows/api_permit"),
    ("POST", "/api/v1/cases"),
    ("GET", "/api/v1/cases"),
    ("GET", "/api/v1/cases/1"),
    ("POST", "/api/v1/cases/1/transitions"),
    ("GET", "/api/v1/cases/1/history"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_wants_a_live_token(
    client: TestClient, api_engine: Engine, method: str, path: str
) -> None:
    _, secret = create_token(api_engine, "short-lived", "eeb_city")
    revoke_token(api_engine, name="short-lived")
    for headers in (
        {},
        {"Authorization": "Bearer qlt_not-a-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": f"Bearer {secret}"},
    ):
        response = client.request(method, path, headers=headers)
        body = problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"
        assert body["instance"] == path


def test_revoking_a_token_shuts_it_out(client: TestClient, api_engine: Engine) -> None:
    _, secret = create_token(api_engine, "temp", "county_eeb", "chiping")
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    revoke_token(api_engine, name="temp")
    problem(client.get("/api/v1/cases", headers=headers), 401, "unauthorized")


def test_token_roles_and_jurisdictions_are_checked(api_engine: Engine) -> None:
    roles = known_roles(api_engine)
    assert {"admin", "applicant", "county_eeb", "eeb_city"} <= roles  # the fixture workflow
    assert "city_gov" in roles  # config/reference/roles.yaml
    assert "system" not in roles
    with pytest.raises(TokenError, match="unknown role 'wizard'"):
        create_token(api_engine, "x", "wizard")
    with pytest.raises(TokenError, match="reserved"):
        create_token(api_engine, "x", "system")
    with pytest.raises(TokenError, match="unknown jurisdiction 'atlantis'"):
        create_token(api_engine, "x", "county_eeb", "atlantis")
    create_token(api_engine, "x", "county_eeb", "chiping")
    with pytest.raises(TokenError, match="exists already"):
        create_token(api_engine, "x", "county_eeb", "chiping")
    with pytest.raises(TokenError, match="no token is named 'y'"):
        revoke_token(api_engine, name="y")
    token = revoke_token(api_engine, name="x")
    with pytest.raises(TokenError, match="revoked already"):
        revoke_token(api_engine, token.id)


def test_a_county_sees_and_acts_only_on_its_own_cases(
    client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    own = new_case("chiping", "OF-1")
    other = new_case("linqing", "OF-2")
    listed = client.get("/api/v1/cases", headers=tokens["county"]).json()["items"]
    assert [c["id"] for c in listed] == [own["id"]]
    assert client.get("/api/v1/cases?jurisdiction=linqing", headers=tokens["county"]).json() == {
        "items": [],
        "next": None,
    }
    base = f"/api/v1/cases/{other['id']}"
    problem(client.get(base, headers=tokens["county"]), 404, "case-not-found")
    problem(client.get(f"{base}/history", headers=tokens["county"]), 404, "case-not-found")
    response = client.post(
        f"{base}/transitions", json={"trigger": "accept"}, headers=tokens["county"]
    )
    problem(response, 404, "case-not-found")
    response = client.post("/api/v1/cases", json=case_body("linqing"), headers=tokens["county"])
    problem(response, 403, "forbidden")
    untouched = client.get(base, headers=tokens["city"]).json()
    assert (untouched["state"], untouched["version"]) == (other["state"], other["version"])


def test_city_and_province_see_everything_beneath_them(
    client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    made = [new_case("chiping", "OF-1")["id"], new_case("linqing", "OF-2")["id"]]
    for who in ("city", "province", "admin"):
        listed = client.get("/api/v1/cases", headers=tokens[who]).json()["items"]
        assert [c["id"] for c in listed] == made, who
    narrowed = client.get("/api/v1/cases?jurisdiction=linqing", headers=tokens["province"])
    assert [c["id"] for c in narrowed.json()["items"]] == made[1:]
    accepted = client.post(
        f"/api/v1/cases/{made[1]}/transitions", json={"trigger": "accept"}, headers=tokens["city"]
    )
    assert accepted.status_code == 200
    assert accepted.json()["state"] == "reviewing"
