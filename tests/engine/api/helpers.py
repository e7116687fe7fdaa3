"""Helpers shared by the API tests."""

from __future__ import annotations

from typing import Any

import httpx2

WORKFLOW = "api_permit"


def case_body(county: str = "chiping", code: str = "OF-0001", **data: Any) -> dict[str, Any]:
    base = {"county": county, "outfall_code": code, "applicant": "某企业"}
    return {"workflow": WORKFLOW, "data": {**base, **data}}


def problem(response: httpx2.Response, status: int, kind: str) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem of ``kind``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://qingliu.dev/problems/{kind}"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body
