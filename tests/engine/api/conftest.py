"""The HTTP API over a real engine on a real database, driven through TestClient."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.engine.api.helpers import case_body

FIXTURE = ROOT / "tests" / "fixtures" / "api" / "permit.yaml"

Headers = dict[str, str]
MakeToken = Callable[..., Headers]


@pytest.fixture
def api_engine(engine: Engine) -> Engine:
    engine.load([FIXTURE])
    return engine


@pytest.fixture
def app(api_engine: Engine) -> FastAPI:
    """The engine's own routes (the domain's routers are tested with the domain)."""
    return create_app(api_engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def make_token(api_engine: Engine) -> MakeToken:
    """``make_token(name, role, jurisdiction=None)`` → the Authorization header of a new token."""

    def make(name: str, role: str, jurisdiction: str | None = None) -> Headers:
        _, secret = create_token(api_engine, name, role, jurisdiction)
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def tokens(make_token: MakeToken) -> dict[str, Headers]:
    """One token per kind of caller in the tests."""
    return {
        "admin": make_token("管理员", "admin"),
        "city": make_token("市生态环境局", "eeb_city", "liaocheng"),
        "province": make_token("省厅", "eeb_city", "shandong"),
        "county": make_token("茌平区分局", "county_eeb", "chiping"),
        "other_county": make_token("临清市分局", "county_eeb", "linqing"),
        "applicant": make_token("某企业", "applicant", "chiping"),
        "outsider": make_token("住建局", "housing_city", "liaocheng"),
    }


@pytest.fixture
def new_case(client: TestClient, tokens: dict[str, Headers]) -> Callable[..., dict[str, Any]]:
    """Open a case through the API (as the city by default) and return its JSON."""

    def make(county: str = "chiping", code: str = "OF-0001", who: str = "city") -> dict[str, Any]:
        response = client.post("/api/v1/cases", json=case_body(county, code), headers=tokens[who])
        assert response.status_code == 201, response.text
        return dict(response.json())

    return make
