"""The admin routes: migrations of running cases and case administration, with problem+json
for each refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from engine.handlers import Actor
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.engine.api.conftest import Headers
from tests.engine.api.helpers import problem

VERSIONS = ROOT / "tests" / "fixtures" / "versions"
CLERK = Actor("窗口", "clerk")
MIGRATIONS = "/api/v1/workflows/mig_permit/migrations"


def _two_versions(engine: Engine) -> dict[str, int]:
    engine.load([VERSIONS / "v1.yaml"])
    moving = engine.create_case("mig_permit", {"permit_no": "XK-1"}, CLERK).id
    engine.fire(moving, "review", CLERK)
    received = engine.create_case("mig_permit", {}, CLERK).id
    engine.publish((VERSIONS / "v2.yaml").read_text("utf-8"), by=Actor("管理员", "admin"))
    return {"moving": moving, "received": received}


def test_a_dry_run_then_a_migration(
    client: TestClient, api_engine: Engine, tokens: dict[str, Headers]
) -> None:
    ids = _two_versions(api_engine)
    body = {"to": 2, "from": 1, "map": {"received": "intake"}, "dry_run": True}
    planned = client.post(MIGRATIONS, json=body, headers=tokens["admin"])
    assert planned.status_code == 200, planned.text
    plans = {p["case_id"]: p for p in planned.json()["cases"]}
    assert plans[ids["received"]]["to_state"] == "intake"
    changes = {t["name"]: t["change"] for t in plans[ids["moving"]]["timers"]}
    assert changes == {"chase": "cancelled", "ping": "rearmed", "review_limit": "kept"}
    assert planned.json()["migrated"] == []
    done = client.post(MIGRATIONS, json={**body, "dry_run": False}, headers=tokens["admin"])
    assert done.status_code == 200, done.text
    assert sorted(done.json()["migrated"]) == sorted(ids.values())
    case = client.get(f"/api/v1/cases/{ids['received']}", headers=tokens["admin"]).json()
    assert (case["workflow_version"], case["state"]) == (2, "intake")


def test_migration_refusals(
    client: TestClient, api_engine: Engine, tokens: dict[str, Headers]
) -> None:
    ids = _two_versions(api_engine)
    body: dict[str, Any] = {"to": 2}
    problem(client.post(MIGRATIONS, json=body, headers=tokens["city"]), 403, "forbidden")
    unknown = client.post(MIGRATIONS, json={"to": 7}, headers=tokens["admin"])
    problem(unknown, 404, "workflow-not-found")
    refused = problem(
        client.post(MIGRATIONS, json=body, headers=tokens["admin"]), 409, "migration-refused"
    )
    assert [c["case_id"] for c in refused["cases"]] == [ids["received"]]
    assert "--map received=STATE" in refused["cases"][0]["reasons"][0]
    bad_map = client.post(
        MIGRATIONS, json={"to": 2, "map": {"received": "nowhere"}}, headers=tokens["admin"]
    )
    assert problem(bad_map, 422, "invalid-input")["errors"][0]["json_path"] == "$.map.received"
    case = client.get(f"/api/v1/cases/{ids['moving']}", headers=tokens["admin"]).json()
    assert case["workflow_version"] == 1


def test_case_administration(
    client: TestClient, tokens: dict[str, Headers], new_case: Callable[..., dict[str, Any]]
) -> None:
    case = new_case()
    url = f"/api/v1/cases/{case['id']}/admin"
    admin = tokens["admin"]
    body = {"field": "note", "value": "更正", "reason": "来函"}
    problem(client.post(f"{url}/correct", json=body, headers=tokens["city"]), 403, "forbidden")
    stale = client.post(f"{url}/correct", json=body, headers={**admin, "If-Match": '"9"'})
    problem(stale, 412, "stale-version")
    fixed = client.post(f"{url}/correct", json=body, headers={**admin, "If-Match": '"1"'})
    assert fixed.status_code == 200, fixed.text
    assert (fixed.json()["data"]["note"], fixed.headers["ETag"]) == ("更正", '"2"')
    wrong = client.post(f"{url}/correct", json={**body, "value": 5}, headers=admin)
    assert problem(wrong, 422, "invalid-input")["errors"][0]["json_path"] == "$.data.note"
    cancelled = client.post(f"{url}/cancel", json={"reason": "重复立案"}, headers=admin)
    assert (cancelled.json()["open"], cancelled.json()["final"]) == (False, False)
    problem(client.post(f"{url}/cancel", json={"reason": "再"}, headers=admin), 409, "refused")
    reopened = client.post(
        f"{url}/reopen", json={"state": "reviewing", "reason": "误撤"}, headers=admin
    )
    assert (reopened.json()["open"], reopened.json()["state"]) == (True, "reviewing")
    moved = client.post(
        f"{url}/reassign", json={"jurisdiction": "linqing", "reason": "属地调整"}, headers=admin
    )
    assert moved.json()["jurisdiction"] == "linqing"
    assert moved.json()["data"]["county"] == "linqing"
    # The old county no longer sees it; the new one does.
    gone = client.get(f"/api/v1/cases/{case['id']}", headers=tokens["county"])
    problem(gone, 404, "case-not-found")
    seen = client.get(f"/api/v1/cases/{case['id']}", headers=tokens["other_county"])
    assert seen.status_code == 200
    kinds = [
        e["kind"]
        for e in client.get(f"/api/v1/cases/{case['id']}/history", headers=admin).json()["items"]
    ]
    assert kinds[-4:] == ["corrected", "cancelled", "reopened", "reassigned"]
    missing = client.post(
        "/api/v1/cases/999/admin/cancel", json={"reason": "x"}, headers=tokens["admin"]
    )
    problem(missing, 404, "case-not-found")
