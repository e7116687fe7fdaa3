"""A console app for fast tests without a browser: TestClient, a wall clock the test moves,
and signing in by posting the login form as a browser does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.api.auth import failures
from engine.clock import FakeClock
from engine.console.accounts import Accounts
from engine.domain import load_domain
from engine.runtime import Engine
from engine.settings import Settings

PASSWORD = "Console-test-2025"
WALL_START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Shanghai

_TOKEN = re.compile(r'name="(?:login_token|csrf_token)" value="([^"]+)"')


@dataclass
class Kit:
    app: FastAPI
    engine: Engine
    accounts: Accounts
    wall: FakeClock

    def client(self, base_url: str = "http://testserver") -> TestClient:
        return TestClient(self.app, base_url=base_url, follow_redirects=False)

    def user(
        self,
        username: str,
        role: str = "county_eeb",
        jurisdiction: str | None = None,
        password: str = PASSWORD,
    ) -> None:
        if jurisdiction is None and role == "county_eeb":
            jurisdiction = "dongchangfu"
        self.accounts.create_user(username, password, role, jurisdiction, f"{username} 名")


def form_token(page: Any) -> str:
    found = _TOKEN.search(page.text)
    assert found, page.text
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD, next: str = "/") -> Any:
    """Post the sign-in form (with the token its page gave) and return the answer."""
    token = form_token(client.get("/login"))
    return client.post(
        "/login",
        data={"username": username, "password": password, "login_token": token, "next": next},
    )


def csrf_of(client: TestClient, path: str = "/") -> str:
    """The session's form token, as the signed-in page carries it."""
    return form_token(client.get(path))


@pytest.fixture
def kit(engine: Engine, settings: Settings) -> Iterator[Kit]:
    app = create_app(engine, load_domain(settings.handlers))
    wall = FakeClock(WALL_START)
    accounts = Accounts(engine, wall=wall)
    app.state.accounts = accounts
    failures.clear()
    yield Kit(app, engine, accounts, wall)
    failures.clear()
