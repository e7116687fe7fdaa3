"""Schemathesis over the whole Liaocheng app (issue 14): the engine's routes and the domain's
(ledger, ID cards, reports) with the shipped workflows and a seeded ledger, from the app's own
/openapi.json, in process. Whatever a request holds, the answer is not a 5xx.

tests/engine/api/test_schemathesis.py runs every check on the engine's own routes; this one
asks only ``not_a_server_error``, on the domain's app, as a city bureau and as the admin.
Bounded: few examples per operation, derandomized, no deadline.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from engine.api import auth
from engine.api.app import create_app
from engine.api.auth import FailureThrottle
from engine.api.tokens import create_token
from engine.domain import load_domain
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.handlers.flows.support import outfall, seed_ledger

MAX_EXAMPLES = 10


@pytest.fixture(autouse=True)
def _no_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bad tokens are sent on purpose; the failure throttle is tested elsewhere."""
    monkeypatch.setattr(auth, "failures", FailureThrottle(limit=1_000_000))


@pytest.fixture(autouse=True)
def _node_id(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32 renames the test node through ``_nodeid``, which pytest 9 dropped."""
    request.node._nodeid = request.node.nodeid


@pytest.fixture
def domain_app(engine: Engine) -> FastAPI:
    engine.load([ROOT / "workflows"])
    seed_ledger(engine, outfall("371524-0001", "donge"), outfall("371503-0002", "chiping"))
    return create_app(engine, load_domain("handlers"))


@pytest.fixture
def callers(engine: Engine) -> dict[str, dict[str, str]]:
    out = {}
    for role, jurisdiction in (("admin", None), ("eeb_city", "liaocheng")):
        _, secret = create_token(engine, f"schemathesis-{role}", role, jurisdiction)
        out[role] = {"Authorization": f"Bearer {secret}"}
    return out


@pytest.fixture
def domain_schema(domain_app: FastAPI, callers: dict[str, dict[str, str]]) -> Any:
    with TestClient(domain_app) as client:  # a few cases, so ids 1-2 exist
        for code, county in (("371524-0001", "donge"), ("371503-0002", "chiping")):
            data = {"outfall_code": code, "county": county, "sub_type": "industrial_enterprise"}
            body = {"workflow": "responsibility", "data": data, "subject": code}
            opened = client.post("/api/v1/cases", json=body, headers=callers["admin"])
            assert opened.status_code == 201, opened.text
    return schemathesis.openapi.from_asgi("/openapi.json", domain_app)


schema = schemathesis.pytest.from_fixture("domain_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_domain_app_never_answers_5xx(case: Any, callers: dict[str, dict[str, str]]) -> None:
    for headers in callers.values():  # the admin reaches everything; a bureau meets its limits
        case.call_and_validate(headers=headers, checks=[not_a_server_error])
