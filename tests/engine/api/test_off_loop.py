"""Where work runs: a usual write on the event loop when the write turn is free; a write with a
large body (its schema validation), a definition check and a publish in the thread pool, so
that one client's heavy request does not hold the loop that serves the others."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import catalog
from engine.api.writes import HEAVY_BODY_BYTES
from engine.runtime import Engine
from tests.engine.api.helpers import case_body

Tokens = dict[str, dict[str, str]]


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def where(monkeypatch: pytest.MonkeyPatch, api_engine: Engine) -> list[bool]:
    """Whether each engine write and definition check ran on the event loop, in order."""
    seen: list[bool] = []
    for name in ("create_case", "fire_in", "publish"):
        original = getattr(api_engine, name)

        def spy(*args: Any, _original: Any = original, **kw: Any) -> Any:
            seen.append(_on_loop())
            return _original(*args, **kw)

        monkeypatch.setattr(api_engine, name, spy)
    check = catalog.check_definition  # the API's check is Catalog.check_text

    def checking(*args: Any, **kw: Any) -> Any:
        seen.append(_on_loop())
        return check(*args, **kw)

    monkeypatch.setattr(catalog, "check_definition", checking)
    return seen


def test_a_large_case_body_is_validated_and_written_off_the_loop(
    client: TestClient, tokens: Tokens, where: list[bool], api_engine: Engine
) -> None:
    small = client.post("/api/v1/cases", json=case_body(code="OF-1"), headers=tokens["city"])
    large = client.post(
        "/api/v1/cases",
        json=case_body(code="OF-2", note="x" * HEAVY_BODY_BYTES),
        headers=tokens["city"],
    )
    assert (small.status_code, large.status_code) == (201, 201)
    # the usual write keeps its fast path on the loop where one writer writes at a time
    # (SQLite); on PostgreSQL every write is in the thread pool
    assert where == [api_engine.store.single_writer, False]


def test_a_large_transition_body_is_fired_off_the_loop(
    client: TestClient, tokens: Tokens, new_case: Any, where: list[bool], api_engine: Engine
) -> None:
    case = new_case()
    where.clear()
    url = f"/api/v1/cases/{case['id']}/transitions"
    small = client.post(url, json={"trigger": "accept"}, headers=tokens["city"])
    large = client.post(
        url,
        json={"trigger": "comment", "payload": {"note": "x" * HEAVY_BODY_BYTES}},
        headers=tokens["city"],
    )
    assert small.status_code == 200
    assert large.status_code == 422  # the schema's maxLength: refused in a worker thread
    assert where == [api_engine.store.single_writer, False]


def test_definitions_are_checked_and_published_off_the_loop(
    client: TestClient, tokens: Tokens, where: list[bool]
) -> None:
    yaml = {**tokens["admin"], "Content-Type": "application/yaml"}
    text = "name: x\n"
    assert client.post("/api/v1/workflows/validate", content=text, headers=yaml).status_code == 200
    assert where == [False]
