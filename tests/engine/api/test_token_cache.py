"""Verified tokens are trusted for ``TRUST_SECONDS`` without a database read: a revocation in
this process shuts the token out at once, one by another process within that time."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.api import tokens
from engine.api.tokens import TRUST_SECONDS, authenticate, create_token, revoke_token
from engine.errors import Unauthorized
from engine.runtime import Engine
from tests.engine.api.helpers import problem


class Ticks:
    """The cache's monotonic time source, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> Ticks:
    source = Ticks()
    monkeypatch.setattr(tokens.verified, "monotonic", source)
    return source


def _revoke_elsewhere(engine: Engine, token_id: int) -> None:
    """What ``qingliu token revoke`` in another process does: the row only, no cache here."""
    with engine.store.write() as tx:
        assert tx.revoke_token(token_id, engine.clock.now())


def test_a_token_revoked_elsewhere_stops_working_within_the_trust_window(
    client: TestClient, api_engine: Engine, ticks: Ticks
) -> None:
    row, secret = create_token(api_engine, "remote", "eeb_city", "liaocheng")
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    _revoke_elsewhere(api_engine, row.id)
    ticks.now += TRUST_SECONDS / 2
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    ticks.now += TRUST_SECONDS / 2
    problem(client.get("/api/v1/cases", headers=headers), 401, "unauthorized")
    ticks.now += TRUST_SECONDS * 10
    problem(client.get("/api/v1/cases", headers=headers), 401, "unauthorized")


def test_a_revocation_in_this_process_is_immediate(api_engine: Engine, ticks: Ticks) -> None:
    _, secret = create_token(api_engine, "local", "applicant", "chiping")
    assert authenticate(api_engine, secret).name == "local"
    revoke_token(api_engine, name="local")
    with pytest.raises(Unauthorized, match="unknown or revoked"):
        authenticate(api_engine, secret)


def test_unknown_and_revoked_tokens_are_never_cached(api_engine: Engine, ticks: Ticks) -> None:
    with pytest.raises(Unauthorized):
        authenticate(api_engine, "qlt_unknown")
    row, secret = create_token(api_engine, "late", "applicant", "chiping")
    _revoke_elsewhere(api_engine, row.id)
    with pytest.raises(Unauthorized):
        authenticate(api_engine, secret)
    digest = tokens.hash_token(secret)
    assert tokens.verified.get(api_engine.store.url, digest, api_engine.clock.now()) is None
