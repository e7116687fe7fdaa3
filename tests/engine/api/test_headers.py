"""Every answer carries the security headers, error answers included; HTML answers (the docs)
a policy that lets only this site's scripts run; 405 answers name the methods."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api.headers import API_POLICY, inline_script_hashes
from engine.runtime import Engine

Tokens = dict[str, dict[str, str]]
COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def _common(headers: Any) -> dict[str, str]:
    return {name: headers.get(name) for name in COMMON}


@pytest.mark.parametrize(
    ("method", "path", "token", "status"),
    [
        ("GET", "/api/v1/workflows", "city", 200),
        ("GET", "/api/v1/cases/999", "city", 404),
        ("GET", "/api/v1/cases", None, 401),
        ("DELETE", "/api/v1/cases", "city", 405),
        ("POST", "/api/v1/cases/1/transitions", None, 401),
        ("GET", "/openapi.json", None, 200),
        ("GET", "/nowhere", None, 404),
    ],
)
def test_every_answer_carries_the_security_headers(
    client: TestClient, tokens: Tokens, method: str, path: str, token: str | None, status: int
) -> None:
    answer = client.request(method, path, headers=tokens[token] if token else {})
    assert answer.status_code == status
    assert _common(answer.headers) == COMMON
    assert answer.headers["content-security-policy"] == API_POLICY


def test_refusals_before_routing_and_bugs_carry_them_too(
    client: TestClient, api_engine: Engine, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    too_large = client.post("/api/v1/cases", content=b" " * (2 << 20), headers=tokens["city"])
    assert too_large.status_code == 413
    assert _common(too_large.headers) == COMMON

    def broken(*_args: Any, **_kw: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(api_engine, "definitions", broken)
    bug = client.get("/api/v1/workflows", headers=tokens["city"])
    assert bug.status_code == 500
    assert _common(bug.headers) == COMMON


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_pages_run_only_this_sites_scripts(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.headers["content-type"].startswith("text/html")
    assert _common(page.headers) == COMMON
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert policy.split("script-src", 1)[1].split(";", 1)[0].strip() == "'self'"
    assert inline_script_hashes(page.text) == []  # no inline script to allow
    for script in re.findall(r'<script src="([^"]+)"', page.text):
        assert script.startswith("/static/")
        assert client.get(script).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/v1/cases", "GET, POST"),
        ("GET", "/api/v1/cases/1/transitions", "POST"),
        ("PATCH", "/api/v1/workflows/validate", "POST"),
        ("DELETE", "/docs", "GET, HEAD"),
        ("POST", "/openapi.json", "GET, HEAD"),
    ],
)
def test_a_405_names_the_methods_of_the_path(
    client: TestClient, tokens: Tokens, method: str, path: str, allow: str
) -> None:
    answer = client.request(method, path, headers=tokens["city"])
    assert answer.status_code == 405
    assert answer.headers["allow"] == allow
