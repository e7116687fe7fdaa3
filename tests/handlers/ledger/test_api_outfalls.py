"""``/api/v1/outfalls`` over HTTP, mounted from ``handlers.api_routers()``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.domain import load_domain
from engine.runtime import Engine
from tests.engine.api.helpers import problem
from tests.handlers.conftest import Record

Headers = dict[str, str]


@pytest.fixture
def client(loaded: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(loaded, load_domain("handlers"))) as test_client:
        yield test_client


@pytest.fixture
def tokens(loaded: Engine) -> dict[str, Headers]:
    def make(name: str, role: str, jurisdiction: str | None = None) -> Headers:
        _, secret = create_token(loaded, name, role, jurisdiction)
        return {"Authorization": f"Bearer {secret}"}

    return {
        "admin": make("管理员", "admin"),
        "city": make("市生态环境局", "eeb_city", "liaocheng"),
        "yanggu": make("阳谷县分局", "county_eeb", "yanggu"),
    }


def add(client: TestClient, headers: Headers, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/outfalls", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_add_then_read_with_links_to_its_cases(
    client: TestClient, tokens: dict[str, Headers], record: Record
) -> None:
    response = client.post("/api/v1/outfalls", json=record(), headers=tokens["city"])
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == "/api/v1/outfalls/371502-0001"
    created = response.json()
    assert created["basin"] == "haihe"
    [link] = created["cases"]
    assert (link["workflow"], link["state"], link["state_title"]) == (
        "responsibility",
        "tracing",
        "溯源中",
    )
    case = client.get(link["href"], headers=tokens["city"])
    assert case.status_code == 200
    assert case.json()["subject"] == "371502-0001"
    again = client.get("/api/v1/outfalls/371502-0001", headers=tokens["city"]).json()
    assert again["cases"] == created["cases"]


def test_list_filters_and_pages(
    client: TestClient, tokens: dict[str, Headers], record: Record
) -> None:
    for n in range(1, 4):
        add(client, tokens["admin"], record(f"371502-000{n}"))
    for n in range(1, 3):
        add(client, tokens["admin"], record(f"371521-000{n}", county="yanggu", river="huanghe"))
    first = client.get("/api/v1/outfalls?limit=2", headers=tokens["city"]).json()
    assert [o["code"] for o in first["items"]] == ["371502-0001", "371502-0002"]
    assert (first["total"], first["next"]) == (5, "371502-0002")
    second = client.get(
        f"/api/v1/outfalls?limit=2&after={first['next']}", headers=tokens["city"]
    ).json()
    assert [o["code"] for o in second["items"]] == ["371502-0003", "371521-0001"]
    yellow = client.get("/api/v1/outfalls?basin=yellow_river", headers=tokens["city"]).json()
    assert [o["code"] for o in yellow["items"]] == ["371521-0001", "371521-0002"]
    assert yellow["next"] is None
    mine = client.get("/api/v1/outfalls", headers=tokens["yanggu"]).json()
    assert mine["total"] == 2
    other = client.get("/api/v1/outfalls?county=dongchangfu", headers=tokens["yanggu"]).json()
    assert other == {"items": [], "total": 0, "next": None}


def test_errors_are_problems(
    client: TestClient, tokens: dict[str, Headers], record: Record
) -> None:
    problem(client.get("/api/v1/outfalls"), 401, "unauthorized")
    problem(client.get("/api/v1/outfalls/371502-0404", headers=tokens["city"]), 404, "not-found")
    bad = problem(
        client.post(
            "/api/v1/outfalls",
            json=record(sub_type="factory", longitude=500),
            headers=tokens["city"],
        ),
        422,
        "invalid-input",
    )
    assert {e["json_path"] for e in bad["errors"]} == {"$.sub_type", "$.longitude"}
    problem(
        client.post("/api/v1/outfalls", json={"code": "371502-0001"}, headers=tokens["city"]),
        422,
        "invalid-request",
    )
    add(client, tokens["city"], record())
    problem(client.post("/api/v1/outfalls", json=record(), headers=tokens["city"]), 409, "conflict")
    problem(
        client.post("/api/v1/outfalls", json=record("371502-0002"), headers=tokens["yanggu"]),
        403,
        "forbidden",
    )
    problem(client.get("/api/v1/outfalls/371502-0001", headers=tokens["yanggu"]), 404, "not-found")


def test_patch_changes_a_record(
    client: TestClient, tokens: dict[str, Headers], record: Record
) -> None:
    add(client, tokens["city"], record())
    changed = client.patch(
        "/api/v1/outfalls/371502-0001", json={"address": "新址"}, headers=tokens["city"]
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["address"] == "新址"
    problem(
        client.patch(
            "/api/v1/outfalls/371502-0001", json={"status": "gone"}, headers=tokens["city"]
        ),
        422,
        "invalid-input",
    )


def test_the_outfall_routes_are_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/outfalls"]) == {"get", "post"}
    assert set(paths["/api/v1/outfalls/{code}"]) == {"get", "patch"}
