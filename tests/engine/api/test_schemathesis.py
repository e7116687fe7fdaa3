"""Property-based run of the whole API from its own /openapi.json (schemathesis).

Every operation gets generated valid and invalid requests, as the admin (who may call all of
them); the checks fail on any 5xx, on a status the schema does not declare, on a body, header
or content type that breaks the declared response schema, and on invalid input accepted.
Bounded: few examples per operation, no deadline.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from engine.api import auth
from engine.api.auth import FailureThrottle
from engine.api.tokens import create_token
from engine.runtime import Engine
from tests.engine.api.helpers import case_body

MAX_EXAMPLES = 25


@pytest.fixture(autouse=True)
def _no_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Schemathesis sends bad tokens on purpose; after the tenth the throttle would answer
    429 to every request of the run (it is tested in test_tokens_hygiene.py)."""
    monkeypatch.setattr(auth, "failures", FailureThrottle(limit=1_000_000))


@pytest.fixture
def admin_headers(api_engine: Engine) -> dict[str, str]:
    _, secret = create_token(api_engine, "schemathesis", "admin")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def api_schema(app: FastAPI, admin_headers: dict[str, str]) -> Any:
    with TestClient(app) as client:  # a few cases, so ids 1-3 exist
        for n in range(3):
            body = case_body(code=f"ST-{n}")
            assert client.post("/api/v1/cases", json=body, headers=admin_headers).status_code == 201
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(autouse=True)
def _node_id(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32 renames the test node through ``_nodeid``, which pytest 9 dropped."""
    request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_honours_its_schema(case: Any, admin_headers: dict[str, str]) -> None:
    # A schema-valid request may still be refused on meaning (a definition with an unknown
    # state, case data against its workflow's data_schema): that is a 4xx by design.
    case.call_and_validate(headers=admin_headers, excluded_checks=[positive_data_acceptance])
