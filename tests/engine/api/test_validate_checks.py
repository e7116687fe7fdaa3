"""POST /api/v1/workflows/validate reports the validator's semantic checks (issue 16)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.engine.api.conftest import FIXTURE

Tokens = dict[str, dict[str, str]]


def test_validate_reports_an_unknown_schema_keyword(client: TestClient, tokens: Tokens) -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    assert "  properties:\n" in text
    broken = text.replace("  properties:\n", "  requird: [x]\n  properties:\n", 1)
    response = client.post("/api/v1/workflows/validate", content=broken, headers=tokens["county"])
    assert response.status_code == 200
    result = response.json()
    assert result["valid"] is False
    line = broken.splitlines().index("  requird: [x]") + 1
    [error] = result["errors"]
    assert (error["line"], error["column"]) == (line, 3)
    assert error["path"] == "$.data_schema.requird"
    assert error["message"] == (
        "unknown JSON Schema keyword 'requird' (did you mean 'required'?): it would be "
        "ignored, so the schema would not check what it seems to"
    )
